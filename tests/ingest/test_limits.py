"""What one input may cost: a page of absurd size is refused from its header, before any
pixel is decoded; a hồ sơ of real pages up to the page limit is not; every reason names the
page, the measure and the limit, and never a setting nobody can set."""

from __future__ import annotations

import time
from pathlib import Path

import pikepdf
import pytest
from PIL import Image

from archive.repository import Archive
from ingest.contracts import (
    A4_300DPI_PIXELS,
    IngestContext,
    IngestResult,
    IngestSettings,
    Status,
    WorkItem,
)
from ingest.pipeline import PIPELINE, ingest_one
from ingest.tesseract_ocr import TesseractEngine

A4_300 = (2480, 3508)


class NoOcr(TesseractEngine):
    def recognize(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise AssertionError("a page was OCR'd")


class Counted:
    """The last step of a pipeline cut short after reading: how many pages were announced."""

    name = "counted"

    def able_to_run(self, item: WorkItem) -> bool:
        return item.outcome is None

    def run(self, item: WorkItem, context: IngestContext) -> None:
        item.outcome = IngestResult(item.label, Status.SEALED, pages=item.page_count)

    def cleanup(self, item: WorkItem) -> None:
        return None


READ_ONLY = [
    *(s for s in PIPELINE if s.name in ("check-input", "detect-format", "read-scan", "read-pdf")),
    Counted(),
]


def _tiff(path: Path, size: tuple[int, int], pages: int) -> Path:
    sheet = Image.new("1", size, 1)
    sheet.save(path, compression="group4", save_all=True, append_images=[sheet] * (pages - 1))
    return path


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_issue_7s_27_kb_bomb_is_refused_before_decoding(archive: Archive, tmp_path: Path) -> None:
    bomb = _tiff(tmp_path / "g4bomb.tif", (12000, 12000), 3)
    assert bomb.stat().st_size < 30_000
    started = time.monotonic()
    result = ingest_one(bomb, IngestContext(archive, NoOcr(), IngestSettings()))
    assert time.monotonic() - started < 5  # decoded, it took 44 s and 1.09 GB
    assert result.status is Status.QUARANTINED
    assert result.reason == (
        "page 1 is 12,000 x 12,000 pixels (144.0 megapixels, as much as 17 A4 pages at 300 "
        "dpi), over the limit of 100.0 megapixels a page: a decompression bomb or a mis-set "
        "scanner"
    )


def test_a_250_page_a4_hoso_at_300_dpi_fits_the_budget(archive: Archive, tmp_path: Path) -> None:
    scan = _tiff(tmp_path / "hoso250.tif", A4_300, 250)
    result = ingest_one(scan, IngestContext(archive, NoOcr(), IngestSettings()), READ_ONLY)
    assert (result.status, result.pages) == (Status.SEALED, 250), result.reason


def test_a_pdf_at_the_page_limit_fits_and_a_page_more_is_refused_by_its_count(
    archive: Archive, tmp_path: Path
) -> None:
    limits = IngestSettings()
    assert limits.max_input_pixels == limits.max_pages * A4_300DPI_PIXELS
    for pages, status in ((limits.max_pages, Status.SEALED), (limits.max_pages + 1, None)):
        source = tmp_path / f"{pages}.pdf"
        document = pikepdf.new()
        for _ in range(pages):
            document.add_blank_page(page_size=(595, 842))  # A4
        document.save(source)
        result = ingest_one(source, IngestContext(archive, NoOcr(), limits), READ_ONLY)
        if status is not None:
            assert (result.status, result.pages) == (status, pages), result.reason
        else:
            assert result.status is Status.QUARANTINED
            assert result.reason == "it has 2,001 pages, over the limit of 2,000"


@pytest.mark.parametrize("kind", ["tiff", "pdf"])
def test_the_budget_names_the_page_it_ran_out_at_and_no_setting(
    archive: Archive, tmp_path: Path, kind: str
) -> None:
    """Large pages count as several A4 pages: 60 pages of 40 megapixels (A3 at 600 dpi) run
    out of a budget of 100 A4 pages on page 22."""
    settings = IngestSettings(max_input_pixels=100 * A4_300DPI_PIXELS)
    if kind == "tiff":
        source = _tiff(tmp_path / "a3.tif", (5000, 8000), 60)
    else:
        source = tmp_path / "a3.pdf"
        document = pikepdf.new()
        for _ in range(60):
            document.add_blank_page(page_size=(1200, 1920))  # drawn at 300 dpi: 5000 x 8000
        document.save(source)
    result = ingest_one(source, IngestContext(archive, NoOcr(), settings))
    assert result.status is Status.QUARANTINED
    assert result.reason == (
        "by page 22 its pages hold 880.0 megapixels (as much as 101 A4 pages at 300 dpi), "
        "over the limit of 870.0 megapixels (as much as 100 A4 pages at 300 dpi) for one input"
    )
