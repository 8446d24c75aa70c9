"""Bad input is quarantined with a reason; nothing is half archived; originals stay as they were."""

import hashlib
import io
from pathlib import Path

import pytest
from PIL import Image

from archive.errors import StorageError
from archive.models import AccessLevel, FileRole
from archive.repository import Archive
from ingest.contracts import IngestContext, IngestSettings, RecognizedPage, Status
from ingest.pipeline import PIPELINE, ingest_one
from ingest.runner import collect_inputs, run_ingest
from ingest.tesseract_ocr import TesseractEngine
from tests.ingest.fake_ocr import FakeOcr


class CrashingOcr(FakeOcr):
    """Fault injection: an OCR engine that fails like a crashing tesseract."""

    name = "crashing"

    def __init__(self, error: Exception) -> None:
        self.error = error

    def recognize(
        self, page: Image.Image, languages: str, dpi: float = 300.0, work_dir: Path | None = None
    ) -> RecognizedPage:
        raise self.error


def _context(archive: Archive, ocr=None, **settings) -> IngestContext:
    return IngestContext(archive, ocr or TesseractEngine(), IngestSettings(**settings))


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _png(width: int, height: int, mode: str = "L") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, (width, height), 255).save(buffer, format="PNG")
    return buffer.getvalue()


BAD_INPUTS = {
    "empty.png": (b"", "the file is empty (0 bytes)"),
    "notes.png": (b"just some text, not an image\n", "not a supported format"),
    "truncated.png": (_png(400, 300)[:60], "damaged"),
    "scan.pdf": (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "the PDF is damaged"),
    "invoice.xml": (b"<?xml version='1.0'?><invoice/>", "not an edXML package"),
    "bomb.png": (_png(20_000, 20_000, "1"), "over the limit"),
    "bomb-below-pillow-limit.png": (
        _png(13_000, 12_000, "1"),
        "page 1 is 13,000 x 12,000 pixels (156.0 megapixels, as much as 18 A4 pages at 300 "
        "dpi), over the limit of 100.0 megapixels a page",
    ),
}


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
@pytest.mark.parametrize("name", sorted(BAD_INPUTS))
def test_bad_input_is_quarantined_with_a_reason_naming_it(
    archive: Archive, tmp_path: Path, name: str
) -> None:
    data, reason = BAD_INPUTS[name]
    source = tmp_path / name
    source.write_bytes(data)
    result = ingest_one(source, _context(archive))
    assert result.status is Status.QUARANTINED
    assert reason in (result.reason or "")
    assert result.path == str(source)
    assert source.read_bytes() == data, "the input is never changed"
    assert archive.count_records() == 0
    assert [q.source_path for q in archive.quarantined()] == [str(source)]


def test_oversized_input_is_refused_before_reading(archive: Archive, tmp_path: Path) -> None:
    source = tmp_path / "big.png"
    source.write_bytes(_png(100, 100))
    result = ingest_one(source, _context(archive, max_input_bytes=10))
    assert result.status is Status.QUARANTINED and "over the limit of 10" in (result.reason or "")


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (RuntimeError("tesseract segfaulted"), Status.QUARANTINED),
        # Memory is the machine's limit, not the file's fault: failed, tried again next run.
        (MemoryError("out of memory"), Status.FAILED),
    ],
)
def test_crashing_ocr_archives_nothing(
    archive: Archive, sample_scans: list[Path], error: Exception, status: Status
) -> None:
    source = sample_scans[0]
    before = hashlib.sha256(source.read_bytes()).hexdigest()
    result = ingest_one(source, _context(archive, CrashingOcr(error)))
    assert result.status is status
    assert type(error).__name__ in (result.reason or "") or "memory" in (result.reason or "")
    assert archive.count_records() == 0
    assert hashlib.sha256(source.read_bytes()).hexdigest() == before


def test_a_scan_is_sealed_with_its_text(archive: Archive, sample_scans: list[Path]) -> None:
    tiff = next(p for p in sample_scans if p.suffix == ".tif")
    result = ingest_one(tiff, _context(archive, access=AccessLevel.PUBLIC, series_code="BC"))
    assert result.status is Status.SEALED
    assert result.sha256 == hashlib.sha256(tiff.read_bytes()).hexdigest()
    record = archive.get(result.record_id, AccessLevel.PUBLIC)
    assert record.page_count == 2 and record.series_code == "BC"
    text = archive.text_of(record)
    assert "BÁO CÁO" in text and "QUYẾT ĐỊNH" in text and "\f" in text
    again = ingest_one(tiff, _context(archive))
    assert again.status is Status.DUPLICATE and again.record_id == result.record_id


def test_pipeline_is_one_visible_ordered_list() -> None:
    assert [step.name for step in PIPELINE] == [
        "check-input",
        "skip-duplicate",
        "detect-format",
        "read-scan",
        "read-pdf",
        "read-edxml",
        "check-signatures",
        "check-digitization",
        "grayscale",
        "denoise",
        "upscale",
        "orient",
        "deskew",
        "ocr",
        "describe",
        "archival-copy",
        "seal",
    ]


def test_collect_inputs_walks_directories_and_skips_hidden_files(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "1.png").write_bytes(b"x")
    (tmp_path / "a" / ".DS_Store").write_bytes(b"x")
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "2.png").write_bytes(b"x")
    single = tmp_path / "3.png"
    single.write_bytes(b"x")
    assert collect_inputs([tmp_path / "a", single]).files == [tmp_path / "a" / "1.png", single]
    found = collect_inputs([tmp_path])
    assert found.files == [tmp_path / "3.png", tmp_path / "a" / "1.png"]
    assert sorted((Path(r.path).name, r.reason) for r in found.skipped) == [
        (".DS_Store", "scanner litter"),
        (".hidden", "a hidden folder, not searched"),
    ]


def test_parallel_workers_give_the_same_records(archive: Archive, sample_scans: list[Path]) -> None:
    results = run_ingest(sample_scans, _context(archive), workers=3)
    assert sorted(r.status.value for r in results) == ["sealed"] * 3
    assert archive.count_records() == 3


class RewritingOcr(FakeOcr):
    """Fault injection: the scanner rewrites the file while it is being recognised."""

    name = "rewriting"

    def __init__(self, source: Path) -> None:
        self.source = source

    def recognize(
        self, page: Image.Image, languages: str, dpi: float = 300.0, work_dir: Path | None = None
    ) -> RecognizedPage:
        self.source.write_bytes(_png(300, 200))
        return RecognizedPage("text")


def test_a_file_rewritten_during_ocr_is_archived_as_it_was_read(
    archive: Archive, tmp_path: Path
) -> None:
    """The input is read once, at intake: what is sealed is the bytes that were checked and
    recognised, never a mix of two versions; the new version is another input."""
    source = tmp_path / "scan.png"
    first = _png(400, 300)
    source.write_bytes(first)
    result = ingest_one(source, _context(archive, RewritingOcr(source)))
    assert result.status is Status.SEALED
    assert result.sha256 == hashlib.sha256(first).hexdigest() != _sha256(source)
    record = archive.get(result.record_id or "", AccessLevel.INTERNAL)
    original = record.file(FileRole.ORIGINAL)
    assert original is not None and archive.blobs.read_bytes(original.sha256) == first


def test_a_file_changing_while_it_is_read_is_quarantined(
    archive: Archive, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "scan.png"
    source.write_bytes(_png(400, 300))
    stage = archive.blobs.stage

    def scanner_still_writing(handle):  # type: ignore[no-untyped-def]
        with source.open("ab") as more:
            more.write(b"the rest of the page")
        return stage(handle)

    monkeypatch.setattr(archive.blobs, "stage", scanner_still_writing)
    result = ingest_one(source, _context(archive))
    assert result.status is Status.QUARANTINED
    assert result.reason == "the file changed while it was being read"
    assert archive.count_records() == 0
    assert not list(archive.blobs.iter_hashes()), "a staged copy was left in the store"


def test_an_input_is_opened_once(
    archive: Archive, sample_scans: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    from ingest import steps

    opened: list[Path] = []
    real = steps.open_regular

    def counting(path: Path):  # type: ignore[no-untyped-def]
        opened.append(path)
        return real(path)

    monkeypatch.setattr(steps, "open_regular", counting)
    for source in sample_scans:
        opened.clear()
        result = ingest_one(source, _context(archive, access=AccessLevel.PUBLIC))
        assert result.status is Status.SEALED, result.reason
        assert opened.count(source) == 1, f"{source.name} opened {opened.count(source)} times"
    assert not [p for p in archive.blobs.root.iterdir() if p.is_file()], "staged copies left"


def test_an_oversized_input_is_listed_but_not_copied(archive: Archive, tmp_path: Path) -> None:
    source = tmp_path / "big.png"
    source.write_bytes(_png(100, 100))
    ingest_one(source, _context(archive, max_input_bytes=10))
    [entry] = archive.quarantined()
    assert entry.source_path == str(source)
    assert archive.quarantine_shelf.kept_copy(entry) is None


def test_a_full_disk_stops_the_run_instead_of_blaming_the_input(
    archive: Archive, sample_scans: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    def disk_full(*_args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(archive.blobs, "commit_staged", disk_full)
    monkeypatch.setattr(archive.blobs, "put_bytes", disk_full)
    with pytest.raises(StorageError, match="No space left"):
        ingest_one(sample_scans[0], _context(archive))
    assert archive.quarantined() == [] and archive.count_records() == 0


def test_a_truncated_multipage_tiff_is_quarantined_naming_the_page(
    archive: Archive, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from ingest.sample_scans import SAMPLES, render_page

    whole = tmp_path / "whole.tif"
    first, second = render_page(SAMPLES[0], 200, 1), render_page(SAMPLES[1], 200, 2)
    first.save(whole, compression="tiff_lzw", save_all=True, append_images=[second])
    data = whole.read_bytes()
    cut = tmp_path / "cut.tif"
    cut.write_bytes(data[: len(data) * 3 // 4])
    result = ingest_one(cut, _context(archive))
    assert result.status is Status.QUARANTINED
    assert (result.reason or "").startswith("page 2: the image data is damaged"), result.reason
    assert "unexpected" not in (result.reason or "")
    assert "Traceback" not in caplog.text and "unexpected failure" not in caplog.text


def test_a_socket_is_named_as_one(archive: Archive, tmp_path: Path) -> None:
    import socket

    path = tmp_path / "scanner.png"
    server = socket.socket(socket.AF_UNIX)
    try:
        server.bind(str(path))
        result = ingest_one(path, _context(archive))
    finally:
        server.close()
    assert result.status is Status.QUARANTINED
    assert result.reason == "not a regular file (a socket)"
