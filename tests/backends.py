"""The archive's databases under test: SQLite files and the PostgreSQL server this machine
runs (127.0.0.1:5432). The archive and retention suites run on both.

- ``backend`` is parametrized "sqlite" and "postgresql" for every test that asks for it
  (through ``archive_home``), except tests marked ``sqlite_only`` (they reach into the SQLite
  file itself);
- each PostgreSQL test gets a new database, dropped afterwards;
- an unreachable server skips the PostgreSQL runs loudly (a warning in the summary), or fails
  them when ``LUUTRU_REQUIRE_POSTGRES=1`` (``.ci/run`` sets it).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, OperationalError

from archive.db import head_revision, make_engine, upgrade_schema
from archive.home import DATABASE_URL_ENV, ArchiveHome
from archive.repository import Archive

SERVER = os.environ.get("LUUTRU_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432")
REQUIRE_ENV = "LUUTRU_REQUIRE_POSTGRES"
_unreachable: list[str] = []


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "sqlite_only: reaches into the SQLite file itself")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" in metafunc.fixturenames:
        only_sqlite = metafunc.definition.get_closest_marker("sqlite_only") is not None
        metafunc.parametrize("backend", ["sqlite"] if only_sqlite else ["sqlite", "postgresql"])


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _unreachable:
        terminalreporter.write_sep(
            "!", f"PostgreSQL at {SERVER} was unreachable: {len(_unreachable)} PostgreSQL "
            f"run(s) skipped ({_unreachable[0]})", red=True, bold=True,
        )  # fmt: skip


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[str | None]:
    """A database migrated once to this luutru's schema, copied for each test (a copy takes
    a fraction of the time migrations do). None when the server is unreachable."""
    admin = create_engine(f"{SERVER}/postgres", isolation_level="AUTOCOMMIT")
    name = f"luutru_template_{uuid.uuid4().hex[:8]}"
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError:
        admin.dispose()
        yield None
        return
    engine = make_engine(f"{SERVER}/{name}")
    upgrade_schema(engine)
    engine.dispose()
    try:
        yield name
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


def _admin() -> Engine:
    return create_engine(f"{SERVER}/postgres", isolation_level="AUTOCOMMIT")


def _create(name: str, template: str | None) -> None:
    admin = _admin()
    try:
        with admin.connect() as connection:
            copy = f' TEMPLATE "{template}"' if template else ""
            connection.execute(text(f'CREATE DATABASE "{name}"{copy}'))
    finally:
        admin.dispose()


def _drop(name: str) -> None:
    admin = _admin()
    try:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


@pytest.fixture(scope="session")
def postgres_reused(postgres_template: str | None) -> Iterator[str | None]:
    """One database the tests take in turn, emptied between them (an empty copy of the
    template, made and dropped once: dropping a database costs a second)."""
    if postgres_template is None:
        yield None
        return
    name = f"luutru_test_{uuid.uuid4().hex[:12]}"
    _create(name, postgres_template)
    try:
        yield name
    finally:
        _drop(name)


def _fresh(name: str, template: str) -> None:
    """Empty ``name`` for the next test: its tables truncated and the log given a new origin;
    a database a test has changed the schema of is made again from the template."""
    engine = create_engine(f"{SERVER}/{name}")
    try:
        with engine.begin() as connection:
            connection.execute(text("SET lock_timeout = '5s'"))
            tables = [
                row[0]
                for row in connection.execute(
                    text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
                )
            ]
            version = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
            if version != head_revision() or "log_head" not in tables:
                raise LookupError("changed by the test before")
            listed = ", ".join(f'"{t}"' for t in tables if t != "alembic_version")
            connection.execute(text(f"TRUNCATE {listed} RESTART IDENTITY CASCADE"))
            connection.execute(
                text("INSERT INTO log_head (id, origin, size) VALUES (1, :origin, 0)"),
                {"origin": f"luutru.archive/{uuid.uuid4().hex[:16]}"},
            )
    except (LookupError, DBAPIError):
        engine.dispose()
        _drop(name)
        _create(name, template)
        return
    engine.dispose()


@pytest.fixture
def postgres_database(postgres_template: str | None, postgres_reused: str | None) -> str:
    """An empty PostgreSQL database at this luutru's schema for one test."""
    if postgres_template is None or postgres_reused is None:
        reason = f"no PostgreSQL server at {SERVER}"
        if os.environ.get(REQUIRE_ENV) == "1":
            pytest.fail(f"PostgreSQL is required ({REQUIRE_ENV}=1): {reason}")
        _unreachable.append(reason)
        pytest.skip(reason)
    _fresh(postgres_reused, postgres_template)
    return f"{SERVER}/{postgres_reused}"


@pytest.fixture
def archive_home(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> ArchiveHome:
    """A new archive home on ``backend``; with PostgreSQL, commands run in child processes
    find the database through the environment too."""
    if backend == "postgresql":
        monkeypatch.setenv(DATABASE_URL_ENV, request.getfixturevalue("postgres_database"))
    else:
        monkeypatch.delenv(DATABASE_URL_ENV, raising=False)
    home = ArchiveHome(tmp_path / "home")
    Archive.initialise(home)
    return home
