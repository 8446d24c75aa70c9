"""Tampering, as an insider with write access to the archive home would try it: each kind is
caught by the archive-wide audit behind `luutru verify`, and the damaged record is named."""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import delete, select, text, update

from archive import log
from archive.checkpoint import NoteSigner
from archive.fixity import Anchors, AuditReport, audit_archive
from archive.home import ArchiveHome
from archive.models import AccessLevel, FileRole, LogEntry, Record, RecordFile, Seal
from archive.repository import Archive
from archive.revision import revise_record
from archive.signing import TrustedKeys
from tests.archive.conftest import SealScan


@pytest.fixture
def sealed(archive: Archive, seal_scan: SealScan, tmp_path: Path) -> list[str]:
    ids = []
    for n in range(3):
        scan = tmp_path / f"scan-{n}.png"
        scan.write_bytes(f"scan {n} bytes".encode())
        ids.append(seal_scan(scan).record_id)
    return ids


def _audit(archive: Archive, anchors: Anchors | None = None) -> AuditReport:
    return audit_archive(archive, None, anchors, record_events=False)


def _sql(archive: Archive, statement: str, **values: object) -> None:
    with archive.session() as session, session.begin():
        session.execute(text(statement), values)


def test_an_untouched_archive_is_intact(archive: Archive, sealed: list[str]) -> None:
    report = _audit(archive)
    assert report.ok, report.all_problems()
    assert report.log is not None and report.log.size == 3 and report.log.checkpoints == 3
    assert [r.record_id for r in report.records] == sorted(sealed)


def test_a_flipped_byte_in_a_blob(archive: Archive, sealed: list[str]) -> None:
    original = archive.get(sealed[0], AccessLevel.SECRET).file(FileRole.ORIGINAL)
    path = archive.blobs.path_for(original.sha256)
    os.chmod(path, 0o600)
    data = bytearray(path.read_bytes())
    data[3] ^= 0x01
    path.write_bytes(bytes(data))
    report = _audit(archive)
    assert report.damaged == [sealed[0]]
    assert any("has changed" in p for r in report.records for p in r.problems)


@pytest.mark.parametrize("kind", ["symlink", "fifo"])
def test_a_blob_replaced_by_a_link_or_a_pipe(
    archive: Archive, sealed: list[str], tmp_path: Path, kind: str
) -> None:
    """A link to the very same bytes still hashes right, and is still not the archive's
    file; a named pipe would hang a reader that opened it blocking."""
    original = archive.get(sealed[0], AccessLevel.SECRET).file(FileRole.ORIGINAL)
    path = archive.blobs.path_for(original.sha256)
    outside = tmp_path / "outside-copy"
    shutil.copy(path, outside)
    path.unlink()
    if kind == "symlink":
        path.symlink_to(outside)
    else:
        os.mkfifo(path)
    report = _audit(archive)
    assert report.damaged == [sealed[0]]
    [problem] = [p for r in report.records for p in r.problems]
    assert problem.startswith(f"original: blob {original.sha256} is not the file the store wrote")
    assert ("symbolic link" if kind == "symlink" else "named pipe") in problem
    assert not archive.blobs.exists(original.sha256)
    # The same bytes put again put the file back, in place of the link or pipe.
    archive.blobs.put_file(outside)
    assert path.is_file() and not path.is_symlink()
    assert _audit(archive).ok


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("access", "confidential"),
        ("access", "secret"),
        ("title", "Quyết định khác"),
        ("closed_year", 1990),
    ],
)
def test_an_edited_record_row(
    archive: Archive, sealed: list[str], column: str, value: object
) -> None:
    _sql(archive, f"UPDATE records SET {column} = :v WHERE id = :id", v=value, id=sealed[1])
    report = _audit(archive)
    assert report.damaged == [sealed[1]]
    problems = next(r.problems for r in report.records if r.record_id == sealed[1])
    assert any(f"the database says {column}" in p for p in problems)


@pytest.mark.parametrize(
    ("column", "value", "said"),
    [
        ("ingested_by", "someone.else", "the database says ingested_by"),
        ("ingested_at", datetime(2001, 1, 1, tzinfo=UTC), "the database says ingested_at"),
        ("warnings", ["a warning"], "the database's warnings are not those the seal holds"),
        ("signatures", [{"status": "valid"}], "the database's signatures are not those"),
    ],
)
def test_an_edited_provenance_column(
    archive: Archive, sealed: list[str], column: str, value: object, said: str
) -> None:
    """Who brought the record in, when (it dates a record for retention), the signatures
    it came with and what was said of it: sealed in its manifest, so a hand edit shows."""
    with archive.session() as session, session.begin():
        record = session.get(Record, sealed[1])
        assert record is not None
        setattr(record, column, value)
    report = _audit(archive)
    assert report.damaged == [sealed[1]]
    problems = next(r.problems for r in report.records if r.record_id == sealed[1])
    assert any(said in p for p in problems), problems


def test_an_edited_file_hash(archive: Archive, sealed: list[str]) -> None:
    other = archive.blobs.put_bytes(b"a substitute scan")
    with archive.session() as session, session.begin():
        session.execute(
            update(RecordFile)
            .where(RecordFile.record_id == sealed[2], RecordFile.role == "original")
            .values(sha256=other)
        )
    assert _audit(archive).damaged == [sealed[2]]


@pytest.mark.parametrize(
    ("column", "value"), [("media_type", "text/html"), ("name", "other-scan.png")]
)
def test_an_edited_file_row(archive: Archive, sealed: list[str], column: str, value: str) -> None:
    # A media type changed to text/html would have a download served as a page.
    _sql(
        archive,
        f"UPDATE record_files SET {column} = :v WHERE record_id = :id AND role = 'original'",
        v=value,
        id=sealed[0],
    )
    report = _audit(archive)
    assert report.damaged == [sealed[0]]
    problems = next(r.problems for r in report.records if r.record_id == sealed[0])
    assert any(p.startswith(f"original: the database says {column} = {value!r}") for p in problems)


def test_a_record_deleted_from_every_table(archive: Archive, sealed: list[str]) -> None:
    with archive.session() as session, session.begin():
        for table in (Seal, RecordFile):
            session.execute(delete(table).where(table.record_id == sealed[0]))
        session.execute(delete(Record).where(Record.id == sealed[0]))
    report = _audit(archive)
    assert not report.ok
    assert report.vanished == [sealed[0]] and report.damaged == [sealed[0]]
    assert any("is gone" in p for p in report.all_problems())


@pytest.mark.parametrize(
    "relabel",
    [
        "UPDATE log_entries SET kind = 'disposition' WHERE record_id = :id",
        "UPDATE log_entries SET record_id = NULL WHERE record_id = :id",
    ],
    ids=["a seal entry called a disposition", "a seal entry of no record"],
)
def test_a_record_deleted_behind_a_relabelled_log_row(
    archive: Archive, sealed: list[str], relabel: str
) -> None:
    """The kind and record id of a log row are not in what the tree hashes: relabelled, a
    seal entry looked like the lawful disposal of the record deleted after it."""
    _sql(archive, relabel, id=sealed[0])
    with archive.session() as session, session.begin():
        for table in (Seal, RecordFile):
            session.execute(delete(table).where(table.record_id == sealed[0]))
        session.execute(delete(Record).where(Record.id == sealed[0]))
    report = _audit(archive)
    assert report.vanished == [sealed[0]] and report.damaged == [sealed[0]]
    assert report.log is not None
    assert any("log entry 0: the database calls it" in p for p in report.log.problems)


def test_a_key_rotation_entry_called_the_disposition_of_a_record(
    archive: Archive, sealed: list[str]
) -> None:
    from archive.rotation import rotate_signing_key

    rotate_signing_key(archive)
    assert _audit(archive).ok
    _sql(archive, "UPDATE log_entries SET kind = 'disposition', record_id = :id "
         "WHERE kind = 'key-rotation'", id=sealed[0])  # fmt: skip
    _sql(archive, "UPDATE records SET status = 'destroyed' WHERE id = :id", id=sealed[0])
    report = _audit(archive)
    assert report.log is not None and not report.ok
    assert any("its bytes a key-rotation" in p for p in report.log.problems)


def test_a_log_without_its_signed_checkpoints(archive: Archive, sealed: list[str]) -> None:
    """Without a checkpoint, whoever holds the database but not the key could rewrite the
    entries and their tree (plain sha256) unseen."""
    _sql(archive, "DELETE FROM log_checkpoints WHERE size = 3")
    report = _audit(archive)
    assert report.log is not None and not report.ok
    assert "no signed checkpoint covers the log's 3 entries (the newest is of 2)" in (
        report.log.problems
    )
    _sql(archive, "DELETE FROM log_checkpoints")
    report = _audit(archive)
    assert report.log is not None
    assert "no signed checkpoint covers the log's 3 entries" in report.log.problems


def test_a_deleted_log_entry(archive: Archive, sealed: list[str]) -> None:
    with archive.session() as session, session.begin():
        session.execute(delete(LogEntry).where(LogEntry.seq == 1))
    report = _audit(archive)
    assert report.log is not None and not report.log.ok
    assert any("missing" in p for p in report.log.problems)


def test_reordered_log_entries(archive: Archive, sealed: list[str]) -> None:
    with archive.session() as session, session.begin():
        rows = {row.seq: row.entry_sha256 for row in session.scalars(select(LogEntry))}
        session.execute(update(LogEntry).where(LogEntry.seq == 0).values(entry_sha256=rows[1]))
        session.execute(update(LogEntry).where(LogEntry.seq == 1).values(entry_sha256=rows[0]))
    report = _audit(archive)
    assert report.log is not None and not report.log.ok
    assert any("disagrees" in p or "root" in p for p in report.log.problems)


def test_a_swapped_manifest(archive: Archive, sealed: list[str]) -> None:
    """The seal of one record made to point at another's manifest."""
    with archive.session() as session, session.begin():
        theirs = session.get(Seal, sealed[1])
        assert theirs is not None
        session.execute(
            update(Seal)
            .where(Seal.record_id == sealed[0])
            .values(manifest_sha256=theirs.manifest_sha256, signature=theirs.signature)
        )
    report = _audit(archive)
    assert sealed[0] in report.damaged
    problems = next(r.problems for r in report.records if r.record_id == sealed[0])
    assert any("manifest is for record" in p for p in problems)


def test_a_revision_rolled_back_to_its_older_manifest(archive: Archive, sealed: list[str]) -> None:
    """A lawful reclassification verifies; putting the old seal back is caught by the log."""
    before = archive.get(sealed[0], AccessLevel.SECRET).seal
    assert before is not None
    revise_record(archive, sealed[0], {"access": "secret"}, "chứa bí mật nhà nước", "lanh.dao")
    assert _audit(archive).ok
    with archive.session() as session, session.begin():
        session.execute(
            update(Seal)
            .where(Seal.record_id == sealed[0])
            .values(manifest_sha256=before.manifest_sha256, signature=before.signature)
        )
        session.execute(update(Record).where(Record.id == sealed[0]).values(access="public"))
    report = _audit(archive)
    problems = next(r.problems for r in report.records if r.record_id == sealed[0])
    assert "the record's seal is an older manifest than its newest log entry" in problems


def test_an_archive_rebuilt_under_a_new_key_is_caught_by_the_pinned_key(
    home: ArchiveHome, seal_scan: SealScan, tmp_path: Path
) -> None:
    """The insider replaces the scan and re-signs everything with a key of their own, put in
    keys/: alone, the archive agrees with itself; the fingerprint written down at init does not."""
    with Archive.open(home) as archive:
        scan = tmp_path / "scan.png"
        scan.write_bytes(b"the real decision")
        seal_scan(scan)
        written_down = archive.verifier().fingerprint
        if archive.engine.dialect.name == "postgresql":  # the database is not in the home
            with archive.engine.begin() as connection:
                connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    # Everything replaced: keys, database, log, blobs; only the home's path is the same.
    shutil.rmtree(home.root)
    Archive.initialise(home)
    with Archive.open(home) as forged:
        fake = tmp_path / "scan-forged.png"
        fake.write_bytes(b"a forged decision")
        forged.seal(*_scan_args(fake))
        unpinned = _audit(forged)
        pinned = _audit(forged, Anchors(TrustedKeys.parse([written_down])))
    assert unpinned.ok and not unpinned.pinned
    assert not pinned.ok
    # Said as what it is, a seal and checkpoints by a key not trusted (not as damage).
    assert pinned.intact and not pinned.trusted
    assert all(any("not one of the trusted keys" in p for p in r.untrusted) for r in pinned.records)
    assert any("checkpoint(s) of the log are by key" in p for p in pinned.untrusted())


def test_a_log_rewritten_with_the_archives_own_key_is_caught_by_a_kept_checkpoint(
    archive: Archive, sealed: list[str], tmp_path: Path
) -> None:
    """Even the archive's own key cannot rewrite history that a kept checkpoint covered."""
    with archive.session() as session:
        kept = log.latest_checkpoint(session)
        assert kept is not None
        kept_note = kept.note.encode()
    # The insider drops the first record and rebuilds the log and its checkpoints.
    with archive.session() as session, session.begin():
        for table in ("log_checkpoints", "log_nodes", "log_entries"):
            session.execute(text(f"DELETE FROM {table}"))
        session.execute(text("UPDATE log_head SET size = 0"))
        for table in (Seal, RecordFile):
            session.execute(delete(table).where(table.record_id == sealed[0]))
        session.execute(delete(Record).where(Record.id == sealed[0]))
    archive.log_existing_records()
    assert _audit(archive).ok  # the rewritten log agrees with itself ...
    report = _audit(archive, Anchors(kept_checkpoints=[kept_note]))
    assert not report.ok  # ... not with the checkpoint kept outside
    assert any("kept checkpoint" in p for p in report.all_problems())


def test_a_witness_co_signature_is_checked(archive: Archive, sealed: list[str]) -> None:
    from archive.checkpoint import open_note, sign_note

    witness = NoteSigner.generate("toa-an.example/witness")
    with archive.session() as session:
        newest = log.latest_checkpoint(session)
        assert newest is not None
        note = newest.note.encode()
    assert not _audit(archive, Anchors(witnesses=[witness.verifier])).ok  # none yet
    opened = open_note(note, [archive.verifier().note_verifier(note.split(b"\n")[0].decode())])
    cosigned = sign_note(opened.text, [witness], opened.signatures)
    with archive.session() as session, session.begin():
        session.execute(
            update(log.LogCheckpoint)
            .where(log.LogCheckpoint.size == newest.size)
            .values(witnessed_note=cosigned.decode())
        )
    assert _audit(archive, Anchors(witnesses=[witness.verifier])).ok
    other = NoteSigner.generate("toa-an.example/witness")
    assert not _audit(archive, Anchors(witnesses=[other.verifier])).ok


def test_an_older_checkpoint_put_as_the_co_signed_copy(archive: Archive, sealed: list[str]) -> None:
    """Evidence bundles hand out the co-signed copy: it must be this checkpoint, signed."""
    with archive.session() as session:
        older = session.scalar(select(log.LogCheckpoint.note).where(log.LogCheckpoint.size == 2))
    with archive.session() as session, session.begin():
        newest = update(log.LogCheckpoint).where(log.LogCheckpoint.size == 3)
        session.execute(newest.values(witnessed_note=older))
    report = _audit(archive)
    assert report.log is not None and not report.ok
    assert "checkpoint of 3 entries: its co-signed copy states another tree" in report.log.problems


def _scan_args(source: Path) -> tuple:
    from archive.repository import Description, IncomingFile, Placement

    return (
        [IncomingFile(FileRole.ORIGINAL, "image/png", source.name, path=source)],
        Description(title="Quyết định"),
        Placement(access=AccessLevel.PUBLIC, series_code="VP-01", closed_year=2019),
        source.name,
    )
