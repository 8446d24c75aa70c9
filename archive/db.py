"""Database engine and schema migrations. The database URL is the only thing that varies:
``sqlite:///…`` embedded by default, ``postgresql+psycopg://…`` when scaled out.

Only ``luutru init`` and ``luutru migrate`` change the schema (``upgrade_schema``); every other
process checks that the schema is the one it was written for (``require_current_schema``) and
refuses to run on another, so that a reader never writes and a deleted database is never
silently replaced by an empty one.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from archive.errors import ConfigError, DatabaseMissing, SchemaOutdated, StorageError

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# The newest revision in archive/migrations/versions (a test holds the two equal). Every
# command checks the schema against it; asking alembic instead (its import and a walk of
# the migration scripts) was a tenth of a second of each command's start-up. alembic is
# imported only by the commands that change the schema.
SCHEMA_HEAD = "0007"
VERSION_TABLE = "alembic_version"


def _tune_sqlite(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = dbapi_connection.cursor()
    # WAL lets readers (the API) run during an ingest; FULL makes each commit survive power loss.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def describe_url(url: str) -> str:
    """The URL as it may be shown: never with its password."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (sa_exc.ArgumentError, ValueError):
        return repr(url)


# Connections a process keeps open. Above SQLAlchemy's 5, because the read API serves up to
# ``api.app.SERVE_THREADS`` requests at once: with 5 kept, every request beyond them opened
# and closed a connection of its own (with its PRAGMAs), a tenth of a record read's time.
POOL_SIZE = 16


def make_engine(url: str) -> Engine:
    try:
        engine = create_engine(url, future=True, **_pooling(url))
    except (sa_exc.ArgumentError, sa_exc.NoSuchModuleError, ImportError, ValueError) as exc:
        raise ConfigError(f"database_url {describe_url(url)} is not usable: {exc}") from None
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _tune_sqlite)
    return engine


def _pooling(url: str) -> dict[str, int]:
    """Pool sizes for a database in a file or on a server; in-memory SQLite pools its way."""
    try:
        parsed = make_url(url)
    except (sa_exc.ArgumentError, ValueError):
        return {}  # create_engine says what is wrong with it
    if parsed.get_backend_name() == "sqlite" and parsed.database in (None, "", ":memory:"):
        return {}
    return {"pool_size": POOL_SIZE, "max_overflow": POOL_SIZE}


def sqlite_file(engine: Engine) -> Path | None:
    """The file of an SQLite database, None for other databases and in-memory SQLite."""
    if engine.dialect.name != "sqlite" or not engine.url.database:
        return None
    return None if engine.url.database == ":memory:" else Path(engine.url.database)


@contextmanager
def database_faults(engine: Engine) -> Iterator[None]:
    """A database that cannot be reached or read is a storage fault, said plainly."""
    try:
        yield
    except sa_exc.DBAPIError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
        raise StorageError(
            f"cannot use the database {describe_url(str(engine.url))}: {reason}"
        ) from None


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def alembic_config(engine: Engine | None) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    return config


def _scripts() -> ScriptDirectory:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config(None))


def head_revision() -> str:
    return SCHEMA_HEAD


def current_revision(engine: Engine) -> str | None:
    """The schema revision alembic recorded in the database; None for a database without."""
    with database_faults(engine), engine.connect() as connection:
        if not inspect(connection).has_table(VERSION_TABLE):
            return None
        versions = list(
            connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars()
        )
    if len(versions) > 1:
        raise SchemaOutdated(
            f"the database records several schema revisions ({', '.join(sorted(versions))}); "
            "it was not migrated by luutru"
        )
    return versions[0] if versions else None


def upgrade_schema(engine: Engine) -> None:
    """Bring the schema to the newest migration (``init`` and ``migrate`` only); a schema
    from a newer luutru is refused, never touched."""
    current = current_revision(engine)
    if current is not None and current not in _known_revisions():
        raise SchemaOutdated(
            f"the database schema ({current}) is newer than this luutru ({head_revision()}); "
            "upgrade luutru"
        )
    from alembic import command

    with database_faults(engine):
        command.upgrade(alembic_config(engine), "head")


def _known_revisions() -> set[str]:
    return {script.revision for script in _scripts().walk_revisions()}


def require_current_schema(engine: Engine) -> None:
    """Refuse a database without luutru's schema, or with an older or newer one."""
    database_file = sqlite_file(engine)
    if database_file is not None and not database_file.is_file():
        raise DatabaseMissing(
            f"the database {database_file} is missing. Only 'luutru init' creates one; if "
            "records were archived here, restore the database from a backup"
        )
    current, head = current_revision(engine), head_revision()
    if current is None:
        raise DatabaseMissing(
            f"the database {describe_url(str(engine.url))} holds no luutru archive "
            "(run 'luutru init' for a new archive, or restore it from a backup)"
        )
    if current != head:
        if current not in _known_revisions():
            raise SchemaOutdated(
                f"the database schema ({current}) is newer than this luutru ({head}); "
                "upgrade luutru"
            )
        raise SchemaOutdated(
            f"the database schema is at revision {current}, this luutru needs {head}: "
            "back up the archive, then run 'luutru migrate'"
        )
