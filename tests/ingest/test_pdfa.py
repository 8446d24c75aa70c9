"""The archival copy: one PDF/A-2b per scanned record, the scan's own image under the OCR's
invisible text, checked as veraPDF checks the basics (identification in XMP, output intent,
embedded fonts, nothing forbidden) and by reading the text back."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pikepdf
import pypdfium2 as pdfium
import pytest
from PIL import Image, ImageDraw, ImageFilter

from archive.models import AccessLevel, FileRole, Record
from archive.repository import Archive
from ingest.contracts import IngestContext, IngestSettings, RecognizedPage, Status
from ingest.pipeline import ingest_one
from ingest.sample_scans import SAMPLES, render_page
from ingest.tesseract_ocr import TesseractEngine

STAMP_RED = (200, 20, 30)


def _ingest(archive: Archive, source: Path, ocr: TesseractEngine | None = None) -> Record:
    settings = IngestSettings(AccessLevel.PUBLIC)
    result = ingest_one(source, IngestContext(archive, ocr or TesseractEngine(), settings))
    assert result.status is Status.SEALED, result.reason
    return archive.get(result.record_id or "", AccessLevel.PUBLIC)


def _archival_copy(archive: Archive, record: Record, tmp_path: Path) -> Path:
    copy = record.file(FileRole.ARCHIVAL)
    assert copy is not None, [f.role for f in record.files]
    assert copy.media_type == "application/pdf"
    path = tmp_path / "archival.pdf"
    path.write_bytes(archive.blobs.read_bytes(copy.sha256))
    return path


def _stamped_tilted_scan(path: Path, dpi: int = 200, tilt: float = 2.0) -> Path:
    """A colour scan with a red seal over the signature, fed in 2 degrees askew."""
    page = render_page(SAMPLES[0], dpi, 0).convert("RGB")
    draw = ImageDraw.Draw(page)
    x, y = int(page.width * 0.62), int(page.height * 0.62)
    radius = dpi // 2
    draw.ellipse((x - radius, y - radius, x + radius, y + radius), outline=STAMP_RED, width=12)
    page = page.rotate(tilt, expand=True, fillcolor=(255, 255, 255))
    page.save(path, dpi=(dpi, dpi))
    return path


@pytest.fixture
def stamped(archive: Archive, tmp_path: Path) -> tuple[Record, Path]:
    record = _ingest(archive, _stamped_tilted_scan(tmp_path / "quyet-dinh.png"))
    return record, _archival_copy(archive, record, tmp_path)


def test_the_archival_copy_identifies_itself_as_pdfa_2b(stamped: tuple[Record, Path]) -> None:
    record, path = stamped
    with pikepdf.open(path) as pdf:
        assert pdf.pdf_version == "1.7"
        assert len(pdf.trailer.ID) == 2
        assert not pdf.is_encrypted
        xmp = pdf.open_metadata()
        assert (xmp["pdfaid:part"], xmp["pdfaid:conformance"]) == ("2", "B")
        assert xmp["dc:title"] == record.title
        # Info and XMP say the same (PDF/A 6.6.2.3).
        assert str(pdf.docinfo.Title) == record.title
        assert str(pdf.docinfo.Producer) == xmp["pdf:Producer"]
        # The metadata stream is readable by tools that know no filters (6.6.2.1).
        assert pdf.Root.Metadata.Type == "/Metadata" and "/Filter" not in pdf.Root.Metadata
        (intent,) = pdf.Root.OutputIntents
        assert intent.S == "/GTS_PDFA1" and intent.DestOutputProfile.N == 3
        icc = intent.DestOutputProfile.read_bytes()
        assert icc[36:40] == b"acsp" and icc[16:20] == b"RGB "


def test_nothing_pdfa_forbids_and_every_font_embedded(stamped: tuple[Record, Path]) -> None:
    _, path = stamped
    with pikepdf.open(path) as pdf:
        for forbidden in ("/AA", "/OpenAction", "/Names", "/AcroForm"):
            assert forbidden not in pdf.Root
        fonts = 0
        for page in pdf.pages:
            assert "/Group" not in page and "/AA" not in page  # no transparency, no actions
            for image in page.Resources.XObject.values():
                assert "/SMask" not in image and not image.get("/Interpolate", False)
            for font in page.Resources.Font.values():
                fonts += 1
                for descendant in font.DescendantFonts:
                    descriptor = descendant.FontDescriptor
                    assert any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3"))
                    assert "/CIDToGIDMap" in descendant  # PDF/A 6.2.11.3.2
                assert "/ToUnicode" in font  # text can be extracted and searched
        assert fonts >= 1
        raw = b"".join(
            obj.read_raw_bytes() for obj in pdf.objects if isinstance(obj, pikepdf.Stream)
        )
        assert b"/JavaScript" not in raw and b"/JS" not in raw


def test_the_text_extracts_with_its_diacritics(stamped: tuple[Record, Path]) -> None:
    _, path = stamped
    document = pdfium.PdfDocument(path)
    text = document[0].get_textpage().get_text_range()
    for phrase in ("QUYẾT ĐỊNH", "1482/QĐ-UBND", "Chính phủ", "chuyển đổi số"):
        assert phrase in text, phrase


def test_the_page_shows_the_scan_in_colour_at_its_paper_size(stamped: tuple[Record, Path]) -> None:
    _, path = stamped
    with pikepdf.open(path) as pdf:
        (image,) = pdf.pages[0].Resources.XObject.values()
        assert image.ColorSpace == "/DeviceRGB"
        left, bottom, right, top = (float(v) for v in pdf.pages[0].mediabox)
    # A4 (595 x 842 points) tilted by 2 degrees and straightened again, each turn widening
    # the page so that no corner of the scan is cut off.
    assert 595 <= right - left <= 660 and 842 <= top - bottom <= 905
    rendered = pdfium.PdfDocument(path)[0].render(scale=1).to_pil().convert("RGB")
    r, g, b = np.moveaxis(np.asarray(rendered, dtype=np.int16), 2, 0)
    reds = int(np.sum((r > 150) & (g < 90) & (b < 90)))
    assert reds > 200, "the red seal is gone from the archival copy"


def test_the_invisible_words_lie_on_the_words_of_the_image(stamped: tuple[Record, Path]) -> None:
    """Read after straightening, the text layer must cover the straightened image's ink: a
    search hit in a PDF viewer highlights the word itself."""
    _, path = stamped
    page = pdfium.PdfDocument(path)[0]
    textpage = page.get_textpage()
    rendered = page.render(scale=2).to_pil().convert("L")
    height = page.get_height()
    for word in ("QUYẾT", "1482/QĐ-UBND", "Điều"):
        searcher = textpage.search(word)
        found = searcher.get_next()
        assert found is not None, word
        start, count = found
        boxes = [textpage.get_charbox(i) for i in range(start, start + count)]
        left, right = min(b[0] for b in boxes), max(b[2] for b in boxes)
        bottom, top = min(b[1] for b in boxes), max(b[3] for b in boxes)
        crop = rendered.crop((left * 2, (height - top) * 2, right * 2, (height - bottom) * 2))
        ink = float(np.mean(np.asarray(crop) < 128)) if crop.width and crop.height else 0.0
        assert ink > 0.05, f"{word!r}: the text layer is not over its word (ink {ink:.3f})"


def test_a_black_and_white_multipage_tiff_keeps_every_page_losslessly(
    archive: Archive, tmp_path: Path
) -> None:
    frames = [render_page(doc, 300, n).convert("1") for n, doc in enumerate(SAMPLES[:2])]
    source = tmp_path / "two-pages.tif"
    frames[0].save(
        source, save_all=True, append_images=frames[1:], compression="group4", dpi=(300, 300)
    )
    record = _ingest(archive, source)
    path = _archival_copy(archive, record, tmp_path)
    with pikepdf.open(path) as pdf:
        assert len(pdf.pages) == 2
        for page in pdf.pages:
            (image,) = page.Resources.XObject.values()
            assert image.BitsPerComponent == 1 and image.Filter == "/FlateDecode"
            assert image.Width == frames[0].width
    texts = [p.get_textpage().get_text_range() for p in pdfium.PdfDocument(path)]
    assert "QUYẾT ĐỊNH" in texts[0] and "Công văn" not in texts[0]
    assert re.search(r"7816/VPCP", texts[1])


def test_a_born_digital_pdf_needs_no_archival_copy(archive: Archive, tmp_path: Path) -> None:
    from tests.ingest.test_pdf import _born_digital

    record = _ingest(archive, _born_digital(tmp_path / "typed.pdf"))
    assert record.file(FileRole.ARCHIVAL) is None
    assert not any("archival" in w for w in record.warnings or [])


class NoTextLayer(TesseractEngine):
    """An engine that reads text but cannot lay it out as PDF."""

    def recognize(
        self, page: Image.Image, languages: str, dpi: float = 300.0, work_dir: Path | None = None
    ) -> RecognizedPage:
        recognized = super().recognize(page, languages, dpi, work_dir)
        return RecognizedPage(recognized.text, recognized.words, page.width, page.height)


def test_without_a_text_layer_the_record_says_it_has_no_copy(
    archive: Archive, tmp_path: Path
) -> None:
    source = tmp_path / "scan.png"
    render_page(SAMPLES[0], 200, 0).save(source, dpi=(200, 200))
    record = _ingest(archive, source, NoTextLayer())
    assert record.file(FileRole.ARCHIVAL) is None
    assert "no archival PDF/A copy: the OCR engine gave no text layer for page 1" in (
        record.warnings or []
    )


@pytest.mark.parametrize("tilt", [0.0, 2.5, -4.0])
def test_a_tilted_scan_is_drawn_straight_without_resampling_its_pixels(tmp_path, tilt) -> None:
    """The archival copy keeps the scan's own pixels and straightens them in the drawing:
    rendered, the page is what Pillow's rotation of the scan would have been."""
    from ingest import cleanup
    from ingest.pdfa import ArchivalCopy, ArchivalMetadata

    scan = render_page(SAMPLES[0], 100, 0).convert("RGB")
    straightened = cleanup.rotate_by(scan, tilt) if tilt else scan
    layer = pikepdf.Pdf.new()
    points = (straightened.width * 72 / 100, straightened.height * 72 / 100)
    layer.add_blank_page(page_size=points)
    encoded = tmp_path / "layer.pdf"
    layer.save(encoded)
    copy = ArchivalCopy()
    copy.add_page(scan, encoded.read_bytes(), tilt)
    target = tmp_path / "copy.pdf"
    copy.save(target, ArchivalMetadata(title="t", created=datetime.now(UTC), producer="test"))
    copy.close()
    with pikepdf.open(target) as pdf:
        (image,) = pdf.pages[0].Resources.XObject.values()
        assert (image.Width, image.Height) == scan.size  # the scan's pixels, not a turned copy
    rendered = pdfium.PdfDocument(target)[0].render(scale=100 / 72).to_pil()

    def error(expected: Image.Image) -> float:
        # Blurred: the two resamplings of 100 dpi strokes differ pixel by pixel, not in place.
        ours, theirs = (
            np.asarray(i.convert("L").resize(rendered.size).filter(ImageFilter.GaussianBlur(2)))
            for i in (rendered, expected)
        )
        return float(np.abs(ours.astype(np.int16) - theirs.astype(np.int16)).mean())

    if not tilt:
        assert error(scan) < 1.0
    else:  # much nearer the straightened scan than the scan as it came
        assert error(straightened) < 0.6 * error(scan)
