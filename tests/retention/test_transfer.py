"""Transfer bags: valid BagIt, every copy checked against the archived sha256, crash-safe,
idempotent, owner-only, and refusing to write where it has no business."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import time
import unicodedata
from pathlib import Path

import bagit  # type: ignore[import-untyped]
import pytest

from archive import fsutil
from archive.errors import IntegrityError, UsageError
from retention.transfer import TEMP_PREFIX, TransferFile, TransferItem, verify_bag, write_bags

ROOT = Path(__file__).resolve().parents[2]
LIST_ID = "NOP-LUU-2026-03"
AGENCY = "BỘ NỘI VỤ\nCỤC VĂN THƯ VÀ LƯU TRỮ NHÀ NƯỚC"
MANIFEST = b'{"files":[],"format":"luutru-manifest/1","record_id":"x"}'


def _blob(folder: Path, content: bytes) -> tuple[str, Path]:
    sha256 = hashlib.sha256(content).hexdigest()
    path = folder / "blobs" / sha256
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return sha256, path


def _item(
    folder: Path,
    record_id: str,
    names: tuple[str, str] = ("Quyết định số 1482.png", "Quyết định số 1482.pdf"),
    evidence: bool = False,
    size: int = 0,
) -> TransferItem:
    original = _blob(folder, f"scan of {record_id}".encode() + os.urandom(size))
    archival = _blob(folder, f"%PDF-1.7 archival copy of {record_id}".encode())
    zip_path = None
    if evidence:
        zip_path = folder / f"{record_id}-evidence.zip"
        zip_path.write_bytes(b"PK\x05\x06" + bytes(18))
    return TransferItem(
        record_id=record_id,
        metadata={"title": "Quyết định phê duyệt kế hoạch", "issued_date": "2023-02-17"},
        files=(
            TransferFile("original", names[0], "image/png", *original),
            TransferFile("archival", names[1], "application/pdf", *archival),
        ),
        manifest=MANIFEST.replace(b'"x"', f'"{record_id}"'.encode()),
        manifest_signature="c2lnbmF0dXJlIG9mIHRoZSBtYW5pZmVzdA==",
        evidence_zip=zip_path,
    )


def _entries(folder: Path) -> list[str]:
    return sorted(os.listdir(folder))


def test_a_bag_validates_with_bagit(tmp_path: Path) -> None:
    item = _item(tmp_path, "a1" * 12, evidence=True)
    (bag_dir,) = write_bags(tmp_path / "out", LIST_ID, [item], AGENCY)
    assert bag_dir == tmp_path / "out" / item.record_id
    bag = bagit.Bag(str(bag_dir))
    assert bag.validate()
    assert sorted(bag.algorithms) == ["sha256", "sha512"]
    assert bag.info["Source-Organization"] == "BỘ NỘI VỤ CỤC VĂN THƯ VÀ LƯU TRỮ NHÀ NƯỚC"
    assert bag.info["External-Identifier"] == item.record_id
    assert bag.info["Internal-Sender-Identifier"] == LIST_ID
    assert len(bag.info["Bagging-Date"]) == 10
    data = bag_dir / "data"
    assert (data / "original" / "Quyết định số 1482.png").read_bytes().startswith(b"scan of")
    assert (data / "archival" / "Quyết định số 1482.pdf").read_bytes().startswith(b"%PDF")
    assert (data / "manifest.json").read_bytes() == item.manifest
    assert (data / "manifest.sig").read_text() == item.manifest_signature
    assert (data / "evidence.zip").read_bytes() == item.evidence_zip.read_bytes()  # type: ignore[union-attr]
    described = json.loads((data / "metadata.json").read_text(encoding="utf-8"))
    assert described["record_id"] == item.record_id
    assert described["transfer_list"] == LIST_ID
    assert described["metadata"] == item.metadata
    assert [f["sha256"] for f in described["files"]] == [f.sha256 for f in item.files]
    assert described["files"][0]["path"] == "data/original/Quyết định số 1482.png"
    verify_bag(bag_dir)


def test_a_tampered_payload_file_fails_validation(tmp_path: Path) -> None:
    (bag_dir,) = write_bags(tmp_path / "out", LIST_ID, [_item(tmp_path, "b2" * 12)], AGENCY)
    scan = bag_dir / "data" / "original" / "Quyết định số 1482.png"
    scan.write_bytes(b"scan of something else")
    with pytest.raises(bagit.BagValidationError):
        bagit.Bag(str(bag_dir)).validate()
    with pytest.raises(IntegrityError, match=re.escape("Quyết định số 1482.png")):
        verify_bag(bag_dir)


def test_a_blob_that_is_not_what_was_archived_leaves_no_bag(tmp_path: Path) -> None:
    good, bad = _item(tmp_path, "c3" * 12), _item(tmp_path, "d4" * 12)
    bad.files[1].source.write_bytes(b"bit rot")
    with pytest.raises(IntegrityError, match=re.escape("Quyết định số 1482.pdf")) as caught:
        write_bags(tmp_path / "out", LIST_ID, [good, bad], AGENCY)
    assert bad.files[1].sha256 in str(caught.value)
    # The bag finished before stays (complete and valid); of the bad one nothing is left.
    assert _entries(tmp_path / "out") == [good.record_id]
    verify_bag(tmp_path / "out" / good.record_id)


def test_a_missing_blob_is_an_integrity_error(tmp_path: Path) -> None:
    item = _item(tmp_path, "e5" * 12)
    item.files[0].source.unlink()
    with pytest.raises(IntegrityError, match="original file"):
        write_bags(tmp_path / "out", LIST_ID, [item], AGENCY)
    assert _entries(tmp_path / "out") == []


def test_rerun_skips_complete_bags(tmp_path: Path) -> None:
    items = [_item(tmp_path, f"{n:02d}" * 12) for n in range(3)]
    first = write_bags(tmp_path / "out", LIST_ID, items, AGENCY)
    before = {p: (p.stat().st_ino, (p / "bag-info.txt").stat().st_mtime_ns) for p in first}
    second = write_bags(tmp_path / "out", LIST_ID, items, AGENCY)
    assert second == first
    assert {p: (p.stat().st_ino, (p / "bag-info.txt").stat().st_mtime_ns) for p in second} == before
    assert _entries(tmp_path / "out") == sorted(i.record_id for i in items)


def test_rerun_replaces_an_invalid_or_outdated_bag(tmp_path: Path) -> None:
    item = _item(tmp_path, "f6" * 12)
    (bag_dir,) = write_bags(tmp_path / "out", LIST_ID, [item], AGENCY)
    (bag_dir / "data" / "manifest.json").write_bytes(b"{}")
    write_bags(tmp_path / "out", LIST_ID, [item], AGENCY)
    verify_bag(bag_dir)
    assert (bag_dir / "data" / "manifest.json").read_bytes() == item.manifest
    # The record was sealed again since: the bag of the old version is replaced too.
    newer = _item(tmp_path, "f6" * 12, size=8)
    write_bags(tmp_path / "out", LIST_ID, [newer], AGENCY)
    listed = (bag_dir / "manifest-sha256.txt").read_text(encoding="utf-8")
    assert newer.files[0].sha256 in listed and item.files[0].sha256 not in listed
    assert _entries(tmp_path / "out") == [item.record_id]


def test_a_half_written_temp_bag_from_a_crash_is_replaced(tmp_path: Path) -> None:
    item = _item(tmp_path, "a7" * 12)
    out = tmp_path / "out"
    half = out / f"{TEMP_PREFIX}{item.record_id}-k1ll3d"
    (half / "data" / "original").mkdir(parents=True)
    (half / "data" / "original" / "Quyết định số 1482.png").write_bytes(b"scan of")
    # Killed between moving a stale bag aside and renaming the new one in: no bag at all.
    (out / f"{TEMP_PREFIX}{item.record_id}-replaced" / "data").mkdir(parents=True)
    (bag_dir,) = write_bags(out, LIST_ID, [item], AGENCY)
    assert _entries(out) == [item.record_id]
    verify_bag(bag_dir)


_KILL_SCRIPT = """
import sys
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from tests.retention.test_transfer import _item, LIST_ID, AGENCY
from retention.transfer import write_bags
folder = Path(sys.argv[2])
items = [_item(folder, f"{n:02d}" * 12, size=8 << 20) for n in range(6)]
print("ready", flush=True)
write_bags(folder / "out", LIST_ID, items, AGENCY)
print("done", flush=True)
"""


def test_a_killed_transfer_leaves_complete_bags_or_none(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-c", _KILL_SCRIPT, str(ROOT), str(tmp_path)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    assert process.stdout is not None and process.stdout.readline().strip() == "ready"
    out = tmp_path / "out"
    deadline = time.monotonic() + 60
    # Kill it once one bag is in place and the next is being written.
    while time.monotonic() < deadline and process.poll() is None:
        names = os.listdir(out) if out.is_dir() else []
        if any(n.startswith(TEMP_PREFIX) for n in names) and any(n[0] != "." for n in names):
            break
        time.sleep(0.005)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    bags = [n for n in _entries(out) if not n.startswith(TEMP_PREFIX)]
    assert bags, "no bag was finished before the kill"
    for name in bags:
        verify_bag(out / name)
    items = [_item(tmp_path, f"{n:02d}" * 12) for n in range(6)]
    # The rerun's items differ from the killed run's: each finished bag is rebuilt as current.
    written = write_bags(out, LIST_ID, items, AGENCY)
    assert _entries(out) == sorted(i.record_id for i in items)
    for bag_dir in written:
        verify_bag(bag_dir)


def test_vietnamese_and_unsafe_file_names(tmp_path: Path) -> None:
    decomposed = unicodedata.normalize("NFD", "Báo cáo tổng kết năm 2024.pdf")
    item = _item(tmp_path, "b8" * 12, names=("../../Tờ trình: đề án?.png", decomposed))
    unsafe, twin, nameless = (
        TransferFile("attachment", name, "text/plain", *_blob(tmp_path, f"phụ lục {name}".encode()))
        for name in ("CON.txt", "con.TXT", ".")
    )
    item = TransferItem(
        item.record_id,
        item.metadata,
        (*item.files, unsafe, twin, nameless),
        item.manifest,
        item.manifest_signature,
        None,
    )
    (bag_dir,) = write_bags(tmp_path / "out", LIST_ID, [item], AGENCY)
    verify_bag(bag_dir)
    data = bag_dir / "data"
    assert (data / "original" / "Tờ trình_ đề án_.png").is_file()
    assert os.listdir(data / "archival") == ["Báo cáo tổng kết năm 2024.pdf"]  # NFC
    assert sorted(os.listdir(data / "attachment")) == sorted(
        ["_CON.txt", "_con-2.TXT", nameless.sha256[:16]]
    )
    described = json.loads((data / "metadata.json").read_text(encoding="utf-8"))
    assert [f["name"] for f in described["files"]] == [f.name for f in item.files]


@pytest.mark.parametrize(
    ("archive_umask", "forbidden"),
    [(fsutil.PRIVATE_UMASK, 0o077), (fsutil.GROUP_UMASK, 0o027)],
)
def test_modes_follow_the_archive(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, archive_umask: int, forbidden: int
) -> None:
    """Owner-only like the archive (group-readable only where the archive names a group),
    whatever the process umask happens to be."""
    monkeypatch.setattr(fsutil, "_umask", archive_umask)
    old = os.umask(0o002)
    try:
        write_bags(tmp_path / "out", LIST_ID, [_item(tmp_path, "c9" * 12, evidence=True)], AGENCY)
    finally:
        os.umask(old)
    for folder, dirs, files in os.walk(tmp_path / "out"):
        for name in [*dirs, *files]:
            mode = (Path(folder) / name).stat().st_mode
            assert mode & forbidden == 0, f"{folder}/{name} is {oct(mode)}"
    bag = tmp_path / "out" / ("c9" * 12)
    assert (bag / "data" / "metadata.json").stat().st_mode & 0o777 == 0o666 & ~archive_umask
    assert bag.stat().st_mode & 0o777 == 0o777 & ~archive_umask


def test_refuses_a_folder_that_is_not_a_previous_run_of_the_list(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("someone else's")
    with pytest.raises(UsageError, match=re.escape("notes.txt")):
        write_bags(out, LIST_ID, [_item(tmp_path, "d1" * 12)], AGENCY)
    assert _entries(out) == ["notes.txt"]
    other = tmp_path / "other"
    write_bags(other, "ANOTHER-LIST", [_item(tmp_path, "d2" * 12)], AGENCY)
    with pytest.raises(UsageError, match="not a bag of transfer list"):
        write_bags(other, LIST_ID, [_item(tmp_path, "d3" * 12)], AGENCY)
    assert _entries(other) == ["d2" * 12]


def test_refuses_while_another_transfer_writes(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    fd = os.open(out, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        with pytest.raises(UsageError, match="another transfer"):
            write_bags(out, LIST_ID, [_item(tmp_path, "e1" * 12)], AGENCY)
    finally:
        os.close(fd)
    assert _entries(out) == []


@pytest.mark.parametrize("record_id", ["../escape", ".hidden", "a/b", "", f"{TEMP_PREFIX}x"])
def test_refuses_a_record_id_that_cannot_name_a_folder(tmp_path: Path, record_id: str) -> None:
    item = _item(tmp_path, "f1" * 12)
    bad = TransferItem(record_id, {}, item.files, item.manifest, "", None)
    with pytest.raises(UsageError):
        write_bags(tmp_path / "out", LIST_ID, [bad], AGENCY)
    assert not (tmp_path / "out").exists()


def test_refuses_a_record_listed_twice(tmp_path: Path) -> None:
    item = _item(tmp_path, "f2" * 12)
    with pytest.raises(UsageError, match="twice"):
        write_bags(tmp_path / "out", LIST_ID, [item, item], AGENCY)
