"""Statements run on the driver's cursor (``archive.prepared``) read what SQLAlchemy reads."""

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Select, bindparam, select, text

from archive.errors import RecordNotFound, StorageError
from archive.models import AccessLevel, Event, Record
from archive.prepared import PreparedQuery, driver_cursor
from archive.repository import (
    _EVENT_LINES,
    _FILE_ROWS,
    _LOG_LINES,
    _SEAL_ROW,
    Archive,
    _prefix_range,
    _with_prefix,
)
from tests.archive.conftest import SealScan


def _both(
    archive: Archive, statement: Select[*tuple[Any, ...]], **given: Any
) -> tuple[list[Any], list[Any]]:
    with archive.engine.connect() as connection:
        expected = list(connection.execute(statement, given))
    with driver_cursor(archive.engine) as cursor:
        prepared = PreparedQuery(statement, archive.engine.dialect).rows(cursor, **given)
    return expected, prepared


def test_prepared_rows_are_sqlalchemys_rows(
    archive: Archive, seal_scan: SealScan, tmp_path: Path
) -> None:
    ids = []
    for number, access in enumerate(AccessLevel):
        source = tmp_path / f"scan-{number}.png"
        source.write_bytes(f"scan {number}".encode())
        outcome = seal_scan(source, access)
        ids.append(outcome.record_id)
    with archive.session() as session, session.begin():
        at = datetime(2026, 1, 2, 3, 4, 5, 678, tzinfo=UTC)
        session.add_all(
            Event(record_id=rid, at=at, kind="fixity", outcome="ok", agent="luutru", detail="ổn")
            for rid in ids
        )
    for record_id in ids:
        for clearance in AccessLevel:
            expected, prepared = _both(
                archive, _with_prefix("rows", clearance, 2), **_prefix_range(record_id[:8])
            )
            assert [tuple(r) for r in prepared] == [tuple(r) for r in expected]
            if expected:
                assert prepared[0]._fields == tuple(expected[0]._fields)
                assert prepared[0].ingested_at.tzinfo is UTC
        for statement in (_FILE_ROWS, _SEAL_ROW, _LOG_LINES, _EVENT_LINES):
            expected, prepared = _both(archive, statement, record_id=record_id)
            assert expected, statement
            assert [tuple(r) for r in prepared] == [tuple(r) for r in expected]
            assert prepared[0]._fields == tuple(expected[0]._fields)


def test_describe_reads_a_record_as_get_does(
    archive: Archive, seal_scan: SealScan, tmp_path: Path
) -> None:
    source = tmp_path / "scan.png"
    source.write_bytes(b"one scan")
    record_id = seal_scan(source, AccessLevel.INTERNAL).record_id
    described = archive.describe(record_id[:10], AccessLevel.CONFIDENTIAL)
    record = archive.get(record_id, AccessLevel.CONFIDENTIAL)
    assert described.record.id == record.id and described.record.pages == record.pages
    assert described.record.ingested_at == record.ingested_at
    assert [(f.role, f.sha256) for f in described.files] == sorted(
        (f.role, f.sha256) for f in record.files
    )
    assert record.seal is not None and described.seal is not None
    assert described.seal.signature == record.seal.signature
    assert described.history == archive.history(record_id)
    with pytest.raises(RecordNotFound):
        archive.describe(record_id, AccessLevel.PUBLIC)  # above that clearance: absent


def test_a_parameter_needing_conversion_is_refused(archive: Archive) -> None:
    # An aware datetime is converted to UTC on the way in by SQLAlchemy; the driver would not.
    since = bindparam("since", type_=Record.ingested_at.type)
    statement = select(Record.id).where(Record.ingested_at > since)
    with pytest.raises(ValueError, match="need processing"):
        PreparedQuery(statement, archive.engine.dialect)


@pytest.mark.sqlite_only
def test_a_failing_database_is_a_storage_error(archive: Archive) -> None:
    with archive.engine.begin() as connection:
        connection.execute(text("DROP TABLE events"))
    query = PreparedQuery(_EVENT_LINES, archive.engine.dialect)
    with (
        pytest.raises(StorageError, match=r"cannot use the database .*no such table: events"),
        driver_cursor(archive.engine) as cursor,
    ):
        query.rows(cursor, record_id="x")


def test_visible_answers_alike_for_a_page_of_hits_and_a_long_list(
    archive: Archive, seal_scan: SealScan, tmp_path: Path
) -> None:
    """A page of ids and a longer list, each checked by a statement of a prepared size."""
    by_level = {}
    for number, access in enumerate(AccessLevel):
        source = tmp_path / f"scan-{number}.png"
        source.write_bytes(f"scan {number}".encode())
        by_level[access] = seal_scan(source, access).record_id
    absent = [f"{n:024x}" for n in range(600)]
    everything = [*by_level.values(), *absent]
    for clearance in AccessLevel:
        allowed = {rid for level, rid in by_level.items() if clearance.permits(level)}
        assert archive.visible(everything[:5], clearance) == allowed  # prepared
        assert archive.visible(everything, clearance) == allowed  # 512, then 92 padded to 128
        assert archive.visible(everything[:1], clearance) == allowed & {everything[0]}
    assert archive.visible([], AccessLevel.SECRET) == set()
