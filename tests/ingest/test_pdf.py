"""PDF inputs: scans are OCR'd, born-digital text is kept without OCR, signed PDFs are kept
byte for byte, and what an archive must not hold is quarantined with the reason."""

import functools
import io
import tempfile
from pathlib import Path

import pikepdf
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
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

    def recognize(
        self, page: Image.Image, languages: str, dpi: float = 300.0, work_dir: Path | None = None
    ) -> RecognizedPage:
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
    assert "not validated" not in (result.warning or "")  # check-signatures says what it found
    record = archive.get(result.record_id or "", AccessLevel.PUBLIC)
    original = next(f for f in record.files if f.role == "original")
    assert archive.blobs.read_bytes(original.sha256) == before


def test_a_damaged_pdf_is_quarantined(archive: Archive, tmp_path: Path) -> None:
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.7\n" + bytes(range(256)) * 4)
    result = _ingest(archive, broken)
    assert result.status is Status.QUARANTINED and "damaged" in (result.reason or "")


def test_a_damaged_pdf_s_reason_names_no_file_of_the_archive(
    archive: Archive, tmp_path: Path
) -> None:
    """qpdf names what it read, the archive's staged copy: the reason names the object."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               b"<< /Type /Pages /Kids [2 0 R 3 0 R] /Count 2 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 100 100] >>"]  # fmt: skip
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 4\n0000000000 65535 f \n" + b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size 4 /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % xref
    looped = tmp_path / "kids-loop.pdf"
    looped.write_bytes(bytes(out))
    result = _ingest(archive, looped)
    assert result.status is Status.QUARANTINED and result.reason is not None
    assert "the PDF is damaged: object 2 0: " in result.reason, result.reason
    assert ".incoming-" not in result.reason and "blobs" not in result.reason


def test_pdf_pages_are_drawn_within_the_pixel_budget(archive: Archive, tmp_path: Path) -> None:
    huge = tmp_path / "poster.pdf"
    buffer = io.BytesIO()
    Image.new("1", (200, 200), 1).save(buffer, "PDF", resolution=1)  # 200 x 200 inches
    huge.write_bytes(buffer.getvalue())
    result = _ingest(archive, huge)
    assert result.status is Status.QUARANTINED
    assert result.reason == (
        "page 1 is 60,000 x 60,000 pixels drawn at 300 dpi (3,600.0 megapixels, as much as "
        "414 A4 pages at 300 dpi), over the limit of 100.0 megapixels a page: too large to "
        "draw for OCR"
    )


def _direct_actions() -> dict[str, tuple[object, str]]:
    """Active content written as direct objects, as most PDF writers emit it."""
    from pikepdf import Array, Dictionary, Name, String

    def js(code: str = "app.alert(1)") -> Dictionary:
        return Dictionary(S=Name.JavaScript, JS=String(code))

    def link(pdf: pikepdf.Pdf, action: Dictionary) -> None:
        annot = Dictionary(Type=Name.Annot, Subtype=Name.Link, Rect=Array([0, 0, 99, 99]), A=action)
        pdf.pages[0].obj.Annots = Array([pdf.make_indirect(annot)])

    def field(pdf: pikepdf.Pdf) -> None:
        widget = Dictionary(
            FT=Name.Tx, T=String("so"), Subtype=Name.Widget, Rect=Array([0, 0, 9, 9]),
            AA=Dictionary(K=js("event.rc = true")),
        )  # fmt: skip
        pdf.Root.AcroForm = Dictionary(Fields=Array([pdf.make_indirect(widget)]))

    def chained(pdf: pikepdf.Pdf) -> None:
        pdf.Root.OpenAction = Dictionary(
            S=Name.GoTo, D=Array([pdf.pages[0].obj, Name.Fit]), Next=js()
        )

    def names_tree(pdf: pikepdf.Pdf) -> None:
        tree = Dictionary(Names=Array([String("x"), js()]))
        pdf.Root.Names = Dictionary(EmbeddedFiles=tree)  # not /JavaScript: found by walking

    launch = Dictionary(S=Name.Launch, F=String("cmd.exe"))
    return {
        "open-launch": (lambda pdf: setattr(pdf.Root, "OpenAction", launch), "launch actions"),
        "annot-js": (lambda pdf: link(pdf, js()), "JavaScript"),
        "annot-launch": (lambda pdf: link(pdf, launch), "launch actions"),
        "page-aa": (lambda pdf: setattr(pdf.pages[0].obj, "AA", Dictionary(O=js())), "JavaScript"),
        "field-aa": (field, "JavaScript"),
        "next-chain": (chained, "JavaScript"),
        "names-tree": (names_tree, "JavaScript"),
    }


@pytest.mark.parametrize("case", sorted(_direct_actions()))
def test_active_content_written_as_direct_objects_is_quarantined(
    archive: Archive, tmp_path: Path, case: str
) -> None:
    change, named = _direct_actions()[case]
    result = _ingest(archive, _with(tmp_path / f"{case}.pdf", change), NoOcr())
    assert result.status is Status.QUARANTINED, result
    assert f"the PDF carries {named}" in (result.reason or "")
    assert archive.count_records() == 0


def _searchable(path: Path, hidden_text: list[str], mode: int = 3, image_last: bool = False):
    """A scanner's "searchable PDF": the page scan, and a text layer nobody sees (render mode
    3, or text the page image is drawn over), which here says something else than the scan."""
    scan = path.with_suffix(".png")
    render_page(SAMPLES[0], 200, 3).save(scan)
    page = canvas.Canvas(str(path), pagesize=A4)
    if not image_last:
        page.drawImage(str(scan), 0, 0, width=A4[0], height=A4[1])
    text = page.beginText(40, 700)
    text.setTextRenderMode(mode)
    text.setFont("Helvetica", 10)
    for line in hidden_text:
        text.textLine(line)
    page.drawText(text)
    if image_last:
        page.drawImage(str(scan), 0, 0, width=A4[0], height=A4[1])
    page.save()
    return path


HIDDEN = [
    "UY BAN NHAN DAN TINH HOA BINH",
    "So: 9999/QD-UBND   Ha Noi, ngay 01 thang 01 nam 2001",
    "QUYET DINH",
    "Ve viec mot noi dung khac han voi trang scan",
]


@pytest.mark.parametrize("image_last", [False, True], ids=["invisible-layer", "under-the-image"])
def test_a_searchable_scan_is_ocrd_like_a_scan_not_taken_at_its_hidden_word(
    archive: Archive, tmp_path: Path, image_last: bool
) -> None:
    source = _searchable(
        tmp_path / "searchable.pdf", HIDDEN, 3 if not image_last else 0, image_last
    )
    result = _ingest(archive, source)
    assert result.status is Status.SEALED, result.reason
    record = archive.get(result.record_id or "", AccessLevel.PUBLIC)
    assert record.doc_number == "1482/QĐ-UBND"  # what the page shows, not 9999/QD-UBND
    assert record.issuer == "ỦY BAN NHÂN DÂN TỈNH HÒA BÌNH"
    assert "9999" not in archive.text_of(record)
    assert [f.role for f in record.files].count("archival") == 1
    assert record.pages[0]["confidence"] != 100.0


def test_visible_text_over_an_image_is_born_digital(archive: Archive, tmp_path: Path) -> None:
    """A typed page over a letterhead image keeps its own text, without OCR."""
    source = _searchable(tmp_path / "letterhead.pdf", HIDDEN, mode=0)
    result = _ingest(archive, source, NoOcr())
    assert result.status is Status.SEALED, result.reason
    record = archive.get(result.record_id or "", AccessLevel.PUBLIC)
    assert "9999/QD-UBND" in archive.text_of(record)


def test_a_damaged_pdf_is_named_by_what_was_given_not_the_staged_copy(
    archive: Archive, tmp_path: Path
) -> None:
    broken = tmp_path / "cut.pdf"
    _born_digital(tmp_path / "whole.pdf")
    broken.write_bytes((tmp_path / "whole.pdf").read_bytes()[:300])
    result = _ingest(archive, broken)
    assert result.status is Status.QUARANTINED and "the PDF is damaged" in (result.reason or "")
    assert ".incoming-" not in (result.reason or "") and "blobs" not in (result.reason or "")


def test_a_pdf_of_too_many_objects_is_refused_before_they_are_listed(
    archive: Archive, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Listing 1.9 million empty objects to look for code took 1.5 GB: the count its
    cross-reference table declares is read first."""
    from ingest import pdf as pdf_module

    monkeypatch.setattr(pdf_module, "MAX_OBJECTS_CHECKED", 50)

    def hundred(pdf: pikepdf.Pdf) -> None:
        pdf.Root.Extra = pikepdf.Array(
            [pdf.make_indirect(pikepdf.Dictionary(N=n)) for n in range(100)]
        )

    many = _with(tmp_path / "many.pdf", hundred)
    listed = []
    monkeypatch.setattr(pikepdf.Pdf, "objects", property(lambda self: listed.append(1) or []))
    result = _ingest(archive, many)
    assert result.status is Status.QUARANTINED and "over 50 objects" in (result.reason or "")
    assert not listed


def _read_or_refuse(data: bytes) -> str:
    """What ingest's read-pdf makes of ``data``: "read" or the refusal; any other exception
    (an unexpected error, quarantined with a Python exception's name) fails the test."""
    from ingest import pdf as pdf_module

    try:
        pdf_module.inspect(data)
        document = pdf_module.Document(data)
        try:
            for _ in pdf_module.pages(document):
                pass
        finally:
            document.close()
    except pdf_module.PdfRefused as exc:
        return str(exc)
    return "read"


def test_every_cut_of_a_pdf_is_read_or_refused_as_damaged() -> None:
    """A truncated PDF whose repair lost objects crashed the object walk (pikepdf lists a lost
    object as None); every cut must now be read cleanly or refused with what was found."""
    from tests.ingest.pki import make_pdf

    data = make_pdf()
    outcomes = {n: _read_or_refuse(data[:n]) for n in range(len(data))}
    for cut, outcome in outcomes.items():
        assert outcome == "read" or outcome.startswith("the PDF is damaged"), (cut, outcome)
        assert "Error:" not in outcome and "NoneType" not in outcome, (cut, outcome)
    lost = [n for n, outcome in outcomes.items() if "objects cannot be read" in outcome]
    assert lost, "no cut lost an object: the test no longer covers the repair"
    assert "qpdf: object 7 0: unexpected EOF" in outcomes[800], outcomes[800]
    # Only the trailer's end cut off: qpdf rebuilds the table, nothing is lost, it is read.
    assert outcomes[len(data) - 10] == "read"


@functools.cache
def _cut_sources() -> tuple[bytes, ...]:
    """A three-page scan as scanner software writes it (Pillow), and a born-digital PDF with
    object streams and compressed streams as office suites write it: cut, they lose objects
    one, several, or all at a time."""
    pages = [Image.new("L", (300, 400), shade) for shade in (255, 200, 150)]
    scan = io.BytesIO()
    pages[0].save(scan, "PDF", resolution=100, save_all=True, append_images=pages[1:])
    with tempfile.TemporaryDirectory() as folder:
        typed = _born_digital(Path(folder) / "typed.pdf")
        packed = io.BytesIO()
        with pikepdf.open(typed) as whole:
            whole.save(packed, object_stream_mode=pikepdf.ObjectStreamMode.generate)
    return scan.getvalue(), packed.getvalue()


@settings(max_examples=200, deadline=None)
@given(source=st.sampled_from([0, 1]), where=st.floats(0, 1))
def test_a_cut_pdf_is_read_or_refused_as_damaged(source: int, where: float) -> None:
    data = _cut_sources()[source]
    outcome = _read_or_refuse(data[: int(len(data) * where)])
    assert outcome == "read" or outcome.startswith("the PDF is damaged"), outcome
    assert "Error:" not in outcome and "NoneType" not in outcome, outcome


def test_a_truncated_pdf_is_quarantined_as_damaged_not_an_unexpected_error(
    archive: Archive, tmp_path: Path
) -> None:
    from tests.ingest.pki import make_pdf

    cut = tmp_path / "scan-truncated.pdf"
    cut.write_bytes(make_pdf()[:800])
    result = _ingest(archive, cut)
    assert result.status is Status.QUARANTINED, result
    assert (result.reason or "").startswith("the PDF is damaged or truncated: "), result.reason
    assert "unexpected error" not in (result.reason or "")
