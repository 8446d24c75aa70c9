"""Record ids and prefixes, names as they come from old shares, and edits that stay sealed."""

import hashlib
import os
import unicodedata
from pathlib import Path

import pytest
from sqlalchemy import text

from archive.errors import AmbiguousRecordId, IntegrityError, RecordNotFound, UsageError
from archive.manifest import parse_manifest
from archive.models import AccessLevel, FileRole, Record
from archive.repository import Archive, Description, IncomingFile, Placement
from archive.revision import history, revise_record
from tests.archive.conftest import SealScan
from tests.integrity import verify_record


def _scan(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _prefix_twins() -> tuple[bytes, bytes]:
    """Two contents whose sha256 share their first 8 hex characters (a birthday search of
    about 2^16 hashes)."""
    seen: dict[str, bytes] = {}
    for n in range(2_000_000):
        data = f"scan {n}".encode()
        prefix = hashlib.sha256(data).hexdigest()[:8]
        if prefix in seen:
            return seen[prefix], data
        seen[prefix] = data
    raise AssertionError("no twins found")


def test_a_unique_prefix_of_8_or_more_finds_the_record(
    archive: Archive, seal_scan: SealScan, tmp_path: Path
) -> None:
    record_id = seal_scan(_scan(tmp_path, "a.png", b"a")).record_id
    assert archive.get(record_id[:8].upper(), AccessLevel.PUBLIC).id == record_id
    with pytest.raises(UsageError, match="at least 8"):
        archive.get(record_id[:7], AccessLevel.PUBLIC)
    with pytest.raises(RecordNotFound):
        archive.get("zz" + record_id[2:], AccessLevel.PUBLIC)


def test_an_ambiguous_prefix_says_so_but_never_counts_what_the_reader_may_not_see(
    archive: Archive, seal_scan: SealScan, tmp_path: Path
) -> None:
    first, second = _prefix_twins()
    a = seal_scan(_scan(tmp_path, "a.png", first)).record_id
    b = seal_scan(_scan(tmp_path, "b.png", second), AccessLevel.SECRET).record_id
    prefix = a[:8]
    assert b.startswith(prefix)
    with pytest.raises(AmbiguousRecordId, match="ambiguous"):
        archive.get(prefix, AccessLevel.SECRET)
    assert archive.get(prefix, AccessLevel.PUBLIC).id == a


def test_a_colliding_id_prefix_gets_a_longer_id_not_a_failure(
    archive: Archive, seal_scan: SealScan, tmp_path: Path
) -> None:
    data = b"the new scan"
    sha = hashlib.sha256(data).hexdigest()
    # Someone else's original already holds the 24-character id this scan would get.
    with archive.session() as session, session.begin():
        session.execute(
            text(
                "INSERT INTO records (id, original_sha256, access, ingested_at) "
                "VALUES (:id, :other, 'public', '2026-01-01 00:00:00')"
            ),
            {"id": sha[:24], "other": "f" * 64},
        )
    outcome = seal_scan(_scan(tmp_path, "new.png", data))
    assert not outcome.duplicate and outcome.record_id == sha[:32]
    assert archive.find_by_original(sha) == sha[:32]
    assert archive.count_records() == 2


def test_texts_and_names_enter_the_database_as_nfc(archive: Archive, tmp_path: Path) -> None:
    nfd = unicodedata.normalize("NFD", "Quyết định") + " \u00d0ồng"
    source = _scan(tmp_path, f"{nfd}.png", b"scan")
    outcome = archive.seal(
        [IncomingFile(FileRole.ORIGINAL, "image/png", source.name, path=source)],
        Description(title=nfd, issuer=nfd),
        Placement(),
        source.name,
    )
    record = archive.get(outcome.record_id, AccessLevel.SECRET)
    expected = "Quyết định Đồng"
    assert record.title == record.issuer == expected
    assert record.source_name == f"{expected}.png"
    assert record.files[0].name == f"{expected}.png"
    assert verify_record(archive, record).ok


def test_a_name_that_is_not_utf8_is_kept_losslessly(archive: Archive, tmp_path: Path) -> None:
    raw = b"c\xf4ng v\xe3n.png"  # TCVN3-era bytes, not UTF-8
    source = Path(os.fsdecode(bytes(tmp_path) + b"/" + raw))
    source.write_bytes(b"old share scan")
    outcome = archive.seal(
        [IncomingFile(FileRole.ORIGINAL, "image/png", source.name, path=source)],
        Description(title="x"),
        Placement(),
        source.name,
    )
    record = archive.get(outcome.record_id, AccessLevel.SECRET)
    assert record.source_name == "c\\xf4ng v\\xe3n.png"
    manifest = parse_manifest(archive.blobs.read_bytes(record.seal.manifest_sha256))  # type: ignore[union-attr]
    assert bytes.fromhex(manifest["description"]["source_name_bytes_hex"]) == raw


def test_an_edit_is_sealed_and_kept_and_verify_agrees(
    archive: Archive, seal_scan: SealScan, tmp_path: Path
) -> None:
    record_id = seal_scan(_scan(tmp_path, "a.png", b"a")).record_id
    before = archive.get(record_id, AccessLevel.SECRET).seal.manifest_sha256  # type: ignore[union-attr]
    diffs = revise_record(
        archive, record_id[:10], {"access": AccessLevel.SECRET, "title": "Tờ trình"}, "mật", "lan"
    )
    assert {(d.field, d.old, d.new) for d in diffs} == {
        ("access", "public", "secret"),
        ("title", "Công văn", "Tờ trình"),
    }
    record = archive.get(record_id, AccessLevel.SECRET)
    assert record.access == "secret"
    assert verify_record(archive, record).ok
    manifest = parse_manifest(archive.blobs.read_bytes(record.seal.manifest_sha256))  # type: ignore[union-attr]
    assert manifest["previous_manifest_sha256"] == before
    assert manifest["revised_by"] == "lan" and manifest["revision_reason"] == "mật"
    assert [(c["field"], c["changed_by"]) for c in history(archive, record_id)] == [
        ("access", "lan"),
        ("title", "lan"),
    ]
    with pytest.raises(RecordNotFound):
        archive.get(record_id, AccessLevel.CONFIDENTIAL)
    with pytest.raises(UsageError, match="why"):
        revise_record(archive, record_id, {"title": "x"}, " ", "lan")


def test_a_row_edited_behind_the_archives_back_fails_verify(
    archive: Archive, seal_scan: SealScan, tmp_path: Path
) -> None:
    record_id = seal_scan(_scan(tmp_path, "a.png", b"a")).record_id
    with archive.session() as session, session.begin():
        session.execute(text("UPDATE records SET access = 'bogus', title = 'forged'"))
    record = archive.get(record_id, AccessLevel.SECRET)  # the operator sees the damage
    problems = verify_record(archive, record).problems
    assert any("unknown access level 'bogus'" in p for p in problems)
    assert any("title = 'forged', the seal says 'Công văn'" in p for p in problems)
    with pytest.raises(IntegrityError):
        _ = record.access_level
    with pytest.raises(RecordNotFound):  # everyone else: fail closed, nothing leaks
        archive.get(record_id, AccessLevel.CONFIDENTIAL)
    assert isinstance(record, Record)
