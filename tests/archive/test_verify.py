"""Verification must notice every kind of damage, and name it."""

import os
import shutil

from sqlalchemy import update

from archive.models import AccessLevel, RecordFile, Seal
from archive.repository import Archive
from archive.signing import ensure_key_pair
from tests.archive.conftest import SealScan
from tests.integrity import verify_record


def _verify(archive: Archive, record_id: str):
    return verify_record(archive, archive.get(record_id, AccessLevel.SECRET))


def _sealed(seal_scan: SealScan, tmp_path) -> str:
    source = tmp_path / "scan.png"
    source.write_bytes(b"scan bytes")
    return seal_scan(source).record_id


def _writable(path) -> None:
    os.chmod(path, 0o644)


def test_untouched_record_is_intact(archive: Archive, seal_scan: SealScan, tmp_path) -> None:
    result = _verify(archive, _sealed(seal_scan, tmp_path))
    assert result.ok and result.files_checked == 2


def test_changed_blob_bytes_are_found(archive: Archive, seal_scan: SealScan, tmp_path) -> None:
    record_id = _sealed(seal_scan, tmp_path)
    original = archive.get(record_id, AccessLevel.SECRET).files[0]
    path = archive.blobs.path_for(original.sha256)
    _writable(path)
    path.write_bytes(b"scan bytez")
    result = _verify(archive, record_id)
    assert not result.ok
    assert any("has changed" in p for p in result.problems)


def test_missing_blob_is_found(archive: Archive, seal_scan: SealScan, tmp_path) -> None:
    record_id = _sealed(seal_scan, tmp_path)
    text_file = archive.get(record_id, AccessLevel.SECRET).files[1]
    archive.blobs.path_for(text_file.sha256).unlink()
    result = _verify(archive, record_id)
    assert any("missing" in p for p in result.problems)


def test_database_edit_of_a_file_hash_is_found(
    archive: Archive, seal_scan: SealScan, tmp_path
) -> None:
    record_id = _sealed(seal_scan, tmp_path)
    other = archive.blobs.put_bytes(b"substitute")
    with archive.session() as session, session.begin():
        session.execute(
            update(RecordFile)
            .where(RecordFile.record_id == record_id, RecordFile.role == "original")
            .values(sha256=other)
        )
    result = _verify(archive, record_id)
    assert "the database lists other files than the sealed manifest" in result.problems


def test_replaced_manifest_is_found(archive: Archive, seal_scan: SealScan, tmp_path) -> None:
    record_id = _sealed(seal_scan, tmp_path)
    seal = archive.get(record_id, AccessLevel.SECRET).seal
    forged = archive.blobs.read_bytes(seal.manifest_sha256).replace(b"VP-01", b"VP-02")
    forged_sha = archive.blobs.put_bytes(forged)
    with archive.session() as session, session.begin():
        session.execute(
            update(Seal).where(Seal.record_id == record_id).values(manifest_sha256=forged_sha)
        )
    result = _verify(archive, record_id)
    assert any("signature does not verify" in p for p in result.problems)


def test_record_sealed_under_another_key_is_reported(
    archive: Archive, seal_scan: SealScan, tmp_path
) -> None:
    record_id = _sealed(seal_scan, tmp_path)
    keys = archive.home.keys_dir
    shutil.rmtree(keys)
    ensure_key_pair(keys, archive_has_seals=False)
    result = _verify(archive, record_id)
    assert not result.ok and "sealed with key" in result.problems[0]


def test_a_key_not_trusted_is_a_trust_problem_not_damage_nor_a_failed_event(
    archive: Archive, seal_scan: SealScan, tmp_path
) -> None:
    from sqlalchemy import select

    from archive.fixity import Anchors, audit_archive
    from archive.models import Event
    from archive.signing import TrustedKeys

    record_id = _sealed(seal_scan, tmp_path)
    report = audit_archive(archive, anchors=Anchors(TrustedKeys.parse(["00" * 32])))
    assert report.intact and not report.trusted and not report.ok
    assert report.damaged == [] and report.untrusted_records == [record_id]
    assert report.log is not None and report.log.ok  # its checkpoints too: trust, not damage
    assert any("checkpoint(s) of the log" in line for line in report.untrusted())
    with archive.session() as session:
        outcomes = set(session.scalars(select(Event.outcome).where(Event.record_id == record_id)))
    assert outcomes == {"pass"}
    trusted = TrustedKeys.parse([archive.verifier().fingerprint])
    assert audit_archive(archive, anchors=Anchors(trusted), record_events=False).ok
