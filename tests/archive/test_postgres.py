"""The same archive code on the PostgreSQL server this machine runs (127.0.0.1)."""

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from archive.db import make_engine, upgrade_schema
from archive.home import DATABASE_URL_ENV, ArchiveHome
from archive.models import AccessLevel, Base, FileRole
from archive.repository import Archive, Description, IncomingFile, Placement
from tests.integrity import verify_record

SERVER = os.environ.get("LUUTRU_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432")


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A new, empty database for the test, dropped afterwards."""
    admin = create_engine(f"{SERVER}/postgres", isolation_level="AUTOCOMMIT")
    name = f"luutru_test_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as exc:
        pytest.skip(f"no PostgreSQL server at {SERVER}: {exc.orig}")
    try:
        yield f"{SERVER}/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


def test_seal_read_and_verify_on_postgresql(
    postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(DATABASE_URL_ENV, postgres_url)
    home = ArchiveHome(tmp_path / "home")
    Archive.initialise(home)
    source = tmp_path / "scan.png"
    source.write_bytes(b"scan on postgres")
    with Archive.open(home) as archive:
        assert archive.engine.dialect.name == "postgresql"
        outcome = archive.seal(
            [
                IncomingFile(FileRole.ORIGINAL, "image/png", source.name, path=source),
                IncomingFile(FileRole.OCR_TEXT, "text/plain", "t.txt", data="Chính phủ".encode()),
            ],
            Description(title="Công văn"),
            Placement(access=AccessLevel.INTERNAL, series_code="CV", closed_year=2019),
            source.name,
        )
        assert archive.seal(
            [IncomingFile(FileRole.ORIGINAL, "image/png", source.name, path=source)],
            Description(),
            Placement(),
            source.name,
        ).duplicate
        record = archive.get(outcome.record_id, AccessLevel.SECRET)
        assert archive.text_of(record) == "Chính phủ"
        assert record.ingested_at.tzinfo is not None
        assert verify_record(archive, record).ok


def test_migrations_match_the_models_on_postgresql(postgres_url: str) -> None:
    engine = make_engine(postgres_url)
    upgrade_schema(engine)
    with engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []
    engine.dispose()
