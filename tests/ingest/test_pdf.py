"""PDF inputs: scans are OCR'd, born-digital text is kept without OCR, signed PDFs are kept
byte for byte, and what an archive must not hold is quarantined with the reason."""

import io
from pathlib import Path

import pikepdf
import pytest
from PIL import Image
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

from archive.models import AccessLevel
from archive.repository import Archive
from ingest.contracts import IngestContext, IngestSettings, RecognizedPage, Status
from ingest.pipeline import ingest_one
from ingest.sample_scans import SAMPLES, find_font, render_page
from ingest.tesseract_ocr import TesseractEngine


class NoOcr(TesseractEngine):
    """Fails the test if any page is OCR'd."""

    def recognize(self, page: Image.Image, languages: str, dpi: float = 300.0) -> RecognizedPage:
        raise AssertionError("a born-digital page was OCR'd")


def _ingest(archive: Archive, source: Path, ocr: TesseractEngine | None = None):
    context = IngestContext(archive, ocr or TesseractEngine(), IngestSettings(AccessLevel.PUBLIC))
    return ingest_one(source, context)


def _born_digital(path: Path) -> Path:
    """A decision typed in a word processor and printed to PDF (Decree 30 layout)."""
    pdfmetrics.registerFont(TTFont("Serif", str(find_font())))
    pdfmetrics.registerFont(TTFont("SerifBold", str(find_font(bold=True))))
    page = canvas.Canvas(str(path), pagesize=A4)
    width, height = A4
    left, right = 150, width - 165

    def centred(x: float, y: float, text: str, bold: bool = False, size: int = 12) -> None:
        page.setFont("SerifBold" if bold else "Serif", size)
        page.drawCentredString(x, height - y, text)

    centred(left, 60, "ỦY BAN NHÂN DÂN", True)
    centred(right, 60, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", True)
    centred(left, 76, "TỈNH HÒA BÌNH", True)
    centred(right, 76, "Độc lập - Tự do - Hạnh phúc", True)
    centred(left, 110, "Số: 1482/QĐ-UBND")
    centred(right, 110, "Hòa Bình, ngày 17 tháng 02 năm 2023")
    centred(width / 2, 160, "QUYẾT ĐỊNH", True, 14)
    centred(width / 2, 180, "Về việc phê duyệt kế hoạch chuyển đổi số năm 2023", True)
    page.setFont("Serif", 12)
    for n, line in enumerate(
        [
            "Căn cứ Nghị định số 30/2020/NĐ-CP của Chính phủ về công tác văn thư;",
            "Điều 1. Phê duyệt kế hoạch chuyển đổi số của tỉnh năm 2023.",
        ]
    ):
        page.drawString(70, height - 230 - 20 * n, line)
    page.save()
    return path


def test_a_scanned_pdf_is_ocrd_and_described(archive: Archive, tmp_path: Path) -> None:
    scan = tmp_path / "scan.pdf"
    render_page(SAMPLES[0], 200, 0).save(scan, "PDF", resolution=200)
    before = scan.read_bytes()
    result = _ingest(archive, scan)
    assert result.status is Status.SEALED, result.reason
    record = archive.get(result.record_id or "", AccessLevel.PUBLIC)
    assert "QUYẾT ĐỊNH" in archive.text_of(record)
    assert record.doc_number == "1482/QĐ-UBND" and record.page_count == 1
    original = record.files[[f.role for f in record.files].index("original")]
    assert original.media_type == "application/pdf"
    assert archive.blobs.read_bytes(original.sha256) == before == scan.read_bytes()


def test_a_born_digital_pdf_keeps_its_text_without_ocr(archive: Archive, tmp_path: Path) -> None:
    source = _born_digital(tmp_path / "typed.pdf")
    result = _ingest(archive, source, NoOcr())
    assert result.status is Status.SEALED, result.reason
    record = archive.get(result.record_id or "", AccessLevel.PUBLIC)
    text = archive.text_of(record)
    assert "Căn cứ Nghị định số 30/2020/NĐ-CP của Chính phủ về công tác văn thư;" in text
    assert (record.doc_number, record.doc_type, record.type_name) == (
        "1482/QĐ-UBND",
        "QĐ",
        "QUYẾT ĐỊNH",
    )
    assert record.issuer == "ỦY BAN NHÂN DÂN TỈNH HÒA BÌNH"
    assert (record.place, str(record.issued_date)) == ("Hòa Bình", "2023-02-17")
    assert record.subject == "Về việc phê duyệt kế hoạch chuyển đổi số năm 2023"
    assert record.pages == [{"number": 1, "confidence": 100.0, "flagged": False}]


def _with(path: Path, change) -> Path:  # type: ignore[no-untyped-def]
    """A copy of a valid PDF with ``change`` applied by pikepdf."""
    base = path.parent / "base.pdf"
    Image.new("RGB", (400, 560), "white").save(base, "PDF", resolution=72)
    with pikepdf.open(base) as pdf:
        change(pdf)
        pdf.save(path)
    return path


def test_an_encrypted_pdf_is_quarantined(archive: Archive, tmp_path: Path) -> None:
    base = tmp_path / "base.pdf"
    Image.new("RGB", (400, 560), "white").save(base, "PDF")
    for name, encryption in (
        ("locked.pdf", pikepdf.Encryption(owner="o", user="secret")),
        ("restricted.pdf", pikepdf.Encryption(owner="o", user="")),
    ):
        with pikepdf.open(base) as pdf:
            pdf.save(tmp_path / name, encryption=encryption)
        result = _ingest(archive, tmp_path / name)
        assert result.status is Status.QUARANTINED
        assert "encrypted" in (result.reason or ""), result.reason


@pytest.mark.parametrize(
    ("action", "named"),
    [
        ({"/S": pikepdf.Name("/JavaScript"), "/JS": pikepdf.String("app.alert(1)")}, "JavaScript"),
        ({"/S": pikepdf.Name("/Launch"), "/F": pikepdf.String("calc.exe")}, "launch actions"),
    ],
)
def test_active_content_is_quarantined(
    archive: Archive, tmp_path: Path, action: dict, named: str
) -> None:
    def open_action(pdf: pikepdf.Pdf) -> None:
        pdf.Root.OpenAction = pdf.make_indirect(pikepdf.Dictionary(action))

    result = _ingest(archive, _with(tmp_path / "active.pdf", open_action))
    assert result.status is Status.QUARANTINED and named in (result.reason or "")
    assert archive.count_records() == 0


def test_a_signed_pdf_is_kept_byte_for_byte_and_said_so(archive: Archive, tmp_path: Path) -> None:
    def signature_field(pdf: pikepdf.Pdf) -> None:
        field = pdf.make_indirect(
            pikepdf.Dictionary(FT=pikepdf.Name("/Sig"), T=pikepdf.String("Signature1"))
        )
        pdf.Root.AcroForm = pikepdf.Dictionary(Fields=pikepdf.Array([field]), SigFlags=3)

    source = _with(tmp_path / "signed.pdf", signature_field)
    before = source.read_bytes()
    result = _ingest(archive, source)
    assert result.status is Status.SEALED, result.reason
    assert "a signed PDF: kept byte for byte" in (result.warning or "")
    record = archive.get(result.record_id or "", AccessLevel.PUBLIC)
    original = next(f for f in record.files if f.role == "original")
    assert archive.blobs.read_bytes(original.sha256) == before


def test_a_damaged_pdf_is_quarantined(archive: Archive, tmp_path: Path) -> None:
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.7\n" + bytes(range(256)) * 4)
    result = _ingest(archive, broken)
    assert result.status is Status.QUARANTINED and "damaged" in (result.reason or "")


def test_pdf_pages_are_drawn_within_the_pixel_budget(archive: Archive, tmp_path: Path) -> None:
    huge = tmp_path / "poster.pdf"
    buffer = io.BytesIO()
    Image.new("1", (200, 200), 1).save(buffer, "PDF", resolution=1)  # 200 x 200 inches
    huge.write_bytes(buffer.getvalue())
    result = _ingest(archive, huge)
    assert result.status is Status.QUARANTINED and "too large" in (result.reason or "")
