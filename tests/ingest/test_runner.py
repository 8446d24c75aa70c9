"""What a batch meets in a real scan folder, and how a run stops."""

import io
import os
import random
import threading
import time
from pathlib import Path

import pytest
from PIL import Image

from archive.errors import Interrupted, StorageError
from archive.models import AccessLevel
from archive.repository import Archive
from ingest.contracts import IngestContext, IngestSettings, RecognizedPage, Status
from ingest.pipeline import PIPELINE, ingest_one
from ingest.runner import READ_AHEAD, collect_inputs, run_ingest
from ingest.tesseract_ocr import TesseractEngine
from tests.ingest.fake_ocr import FakeOcr


def _png(seed: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("L", (64, 32), 255 - seed % 200).save(buffer, format="PNG")
    return buffer.getvalue()


class CountingOcr(FakeOcr):
    """Fault injection: an OCR engine whose Nth page meets a failing archive disk."""

    name = "counting"

    def __init__(self, fail_at: int | None = None, stop: threading.Event | None = None) -> None:
        self.calls = 0
        self.fail_at = fail_at
        self.stop = stop
        self.lock = threading.Lock()

    def recognize(
        self, page: Image.Image, languages: str, dpi: float = 300.0, work_dir: Path | None = None
    ) -> RecognizedPage:
        with self.lock:
            self.calls += 1
            calls = self.calls
        if calls == self.fail_at:
            raise StorageError("cannot write the archive: No space left on device")
        if self.stop is not None and calls == 2:
            self.stop.set()  # as SIGTERM would, while the second input is under way
        return RecognizedPage("Quyết định")


def _context(archive: Archive, ocr: object) -> IngestContext:
    return IngestContext(archive, ocr, IngestSettings(access=AccessLevel.PUBLIC))  # type: ignore[arg-type]


def _scans(folder: Path, count: int) -> list[Path]:
    folder.mkdir(exist_ok=True)
    paths = []
    for n in range(count):
        path = folder / f"scan-{n:02}.png"
        path.write_bytes(_png(n))
        paths.append(path)
    return paths


def test_scanner_litter_hidden_files_and_links_are_skipped_with_a_reason(tmp_path: Path) -> None:
    scans = tmp_path / "scans"
    [scan] = _scans(scans, 1)
    for litter in ("Thumbs.db", "desktop.ini", "~$phieu.docx", "scan.TMP", ".DS_Store"):
        (scans / litter).write_bytes(b"x")
    (scans / ".notes.png").write_bytes(b"x")
    secret = tmp_path / "archive-ed25519.pem"
    secret.write_bytes(b"PRIVATE KEY")
    (scans / "key.png").symlink_to(secret)
    (scans / "elsewhere").symlink_to(tmp_path, target_is_directory=True)
    found = collect_inputs([scans])
    assert found.files == [scan]
    reasons = {Path(r.path).name: r.reason for r in found.skipped}
    assert reasons == {
        "Thumbs.db": "scanner litter",
        "desktop.ini": "scanner litter",
        "~$phieu.docx": "scanner litter",
        "scan.TMP": "scanner litter",
        ".DS_Store": "scanner litter",
        ".notes.png": "a hidden file",
        "key.png": "a symbolic link, not followed",
        "elsewhere": "a symbolic link, not followed",
    }
    assert all(r.status is Status.SKIPPED for r in found.skipped)


def test_a_link_given_directly_is_resolved_once(tmp_path: Path) -> None:
    [scan] = _scans(tmp_path / "scans", 1)
    link = tmp_path / "link.png"
    link.symlink_to(scan)
    assert collect_inputs([link]).files == [scan]


def test_devices_and_pipes_are_refused_before_they_are_read(
    archive: Archive, tmp_path: Path
) -> None:
    pipe = tmp_path / "scanner.png"
    os.mkfifo(pipe)
    for source, kind in ((Path("/dev/zero"), "character device"), (pipe, "named pipe")):
        result = ingest_one(source, _context(archive, CountingOcr()))
        assert result.status is Status.QUARANTINED and kind in (result.reason or "")
    assert not any(archive.home.quarantine_dir.rglob("kept"))


def test_an_input_named_reason_txt_and_twins_keep_their_own_entries(
    archive: Archive, tmp_path: Path
) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    named = tmp_path / "a" / "REASON.txt"
    named.write_bytes(b"an input, not our reason")
    twin = tmp_path / "b" / "bad.png"
    twin.write_bytes(b"an input, not our reason")
    for source in (named, twin):
        ingest_one(source, _context(archive, CountingOcr()))
    entries = archive.quarantined()
    assert sorted(e.source_path for e in entries) == [str(named), str(twin)]
    shelf = archive.quarantine_shelf
    for entry in entries:
        assert shelf.kept_copy(entry).read_bytes() == b"an input, not our reason"  # type: ignore[union-attr]
        reason = (shelf.folder_for(entry.source_path) / "REASON.txt").read_text()
        assert reason.startswith(entry.source_path + "\n") and "not a supported" in reason


def test_an_archive_fault_stops_the_run_and_reports_what_was_sealed(
    archive: Archive, tmp_path: Path
) -> None:
    scans = _scans(tmp_path / "scans", 12)
    delivered = []
    with pytest.raises(StorageError, match="No space"):
        run_ingest(scans, _context(archive, CountingOcr(fail_at=3)), 2, delivered.append)
    sealed = [r for r in delivered if r.status is Status.SEALED]
    # Nothing past the fault was started (2 workers and the inputs read ahead, one of which
    # may have finished first), and everything sealed was reported.
    assert 2 <= len(sealed) <= 2 + READ_AHEAD + 1 and len(delivered) == len(sealed)
    assert archive.count_records() == len(sealed)
    assert archive.quarantined() == []


def test_a_stop_request_finishes_the_inputs_under_way_and_no_more(
    archive: Archive, tmp_path: Path
) -> None:
    scans = _scans(tmp_path / "scans", 10)
    stop = threading.Event()
    delivered = []
    with pytest.raises(Interrupted, match="Run the same command again"):
        run_ingest(scans, _context(archive, CountingOcr(stop=stop)), 2, delivered.append, stop)
    # Under way when the stop came: the second input, the first if it had not finished, and
    # those started in its place up to 2 workers and the inputs read ahead.
    assert 2 <= len(delivered) <= 2 + READ_AHEAD + 1
    assert archive.count_records() == len(delivered)
    rest = run_ingest(scans, _context(archive, CountingOcr()), 2)
    assert sorted(r.status.value for r in rest).count("duplicate") == len(delivered)
    assert archive.count_records() == 10


class SlowOcr(TesseractEngine):
    """Real tesseract with a one-second limit per page, counting its tries."""

    def __init__(self) -> None:
        super().__init__(page_timeout_seconds=1)
        self.tries = 0

    def recognize(
        self, page: Image.Image, languages: str, dpi: float = 300.0, work_dir: Path | None = None
    ) -> RecognizedPage:
        self.tries += 1
        return super().recognize(page, languages, dpi, work_dir)

    def orientation(self, page: Image.Image, work_dir: Path | None = None) -> int | None:
        return None


def test_a_page_over_the_time_limit_is_tried_twice_then_failed_not_quarantined(
    archive: Archive, tmp_path: Path
) -> None:
    rng = random.Random(7)
    noise = Image.frombytes("L", (3000, 4000), rng.randbytes(3000 * 4000))
    scan = tmp_path / "dense.png"
    noise.save(scan)
    ocr = SlowOcr()
    context = IngestContext(archive, ocr, IngestSettings())
    # Without denoise, which would smooth the noise into a page tesseract reads quickly.
    result = ingest_one(scan, context, [step for step in PIPELINE if step.name != "denoise"])
    assert result.status is Status.FAILED, result
    assert "took over 1 s" in (result.reason or "") and "twice" in (result.reason or "")
    assert ocr.tries == 2
    assert archive.quarantined() == [] and archive.count_records() == 0


def test_an_input_over_the_pixel_budget_is_refused_before_ocr(
    archive: Archive, tmp_path: Path
) -> None:
    scan = tmp_path / "huge.tif"
    pages = [Image.new("1", (3000, 3000), 1) for _ in range(3)]
    pages[0].save(scan, save_all=True, append_images=pages[1:], compression="group4")
    ocr = CountingOcr()
    context = IngestContext(archive, ocr, IngestSettings(max_input_pixels=20_000_000))  # type: ignore[arg-type]
    result = ingest_one(scan, context)
    assert result.status is Status.QUARANTINED
    assert result.reason == (
        "by page 3 its pages hold 27.0 megapixels (as much as 3.1 A4 pages at 300 dpi), over "
        "the limit of 20.0 megapixels (as much as 2.3 A4 pages at 300 dpi) for one input"
    )
    assert ocr.calls == 0


def test_a_link_to_a_folder_given_directly_is_not_walked(tmp_path: Path) -> None:
    secret = tmp_path / "etc"
    _scans(secret, 2)
    link = tmp_path / "etcdir"
    link.symlink_to(secret, target_is_directory=True)
    found = collect_inputs([link])
    assert found.files == []
    [skipped] = found.skipped
    assert skipped.path == str(link)  # as given, not the target
    assert skipped.reason == (
        f"a symbolic link to a folder ({secret}), not followed: give the folder itself"
    )
    assert collect_inputs([secret]).files == sorted(secret.iterdir())


def test_the_archive_home_is_never_ingested(archive: Archive, sample_scans: list[Path]) -> None:
    home = archive.home.root
    run_ingest(sample_scans[:1], _context(archive, CountingOcr()))  # blobs, a PDF/A, keys
    before = archive.count_records()
    inside = [*collect_inputs([home]).files, home / "keys" / "archive-ed25519.pem"]
    assert any(p.parent.name == "keys" for p in inside)
    delivered: list = []
    results = run_ingest(inside, _context(archive, CountingOcr()), 2, delivered.append)
    assert results == delivered
    [skipped] = results
    assert skipped.status is Status.SKIPPED and skipped.path == str(home)
    assert "the archive home itself" in (skipped.reason or "")
    assert archive.count_records() == before
    assert archive.quarantined() == []
    assert not list(archive.home.quarantine_dir.rglob("*.pem"))


class OverlapOcr(CountingOcr):
    """Counts how many pages are being recognised at once, and the most it saw."""

    def __init__(self) -> None:
        super().__init__()
        self.now = self.most = 0

    def recognize(
        self, page: Image.Image, languages: str, dpi: float = 300.0, work_dir: Path | None = None
    ) -> RecognizedPage:
        with self.lock:
            self.now += 1
            self.most = max(self.most, self.now)
        time.sleep(0.05)  # long enough for every thread to want the engine at once
        with self.lock:
            self.now -= 1
        return super().recognize(page, languages, dpi, work_dir)


def test_workers_bound_the_pages_recognised_at_once_not_the_inputs_read(
    archive: Archive, tmp_path: Path
) -> None:
    """--workers is how many tesseracts run: the input read ahead waits for a free one."""
    ocr = OverlapOcr()
    results = run_ingest(_scans(tmp_path / "scans", 12), _context(archive, ocr), 2)
    assert [r.status for r in results] == [Status.SEALED] * 12
    assert ocr.most == 2 and ocr.calls == 12
