"""edXML packages (QCVN 102:2016): the header becomes the record's metadata, the attachments
its files, the package is kept as received, and hostile XML is quarantined."""

import base64
import io
from pathlib import Path

import pytest

from archive.models import AccessLevel
from archive.repository import Archive
from ingest.contracts import IngestContext, IngestSettings, Status
from ingest.pipeline import ingest_one
from ingest.sample_scans import SAMPLES, render_page
from ingest.tesseract_ocr import TesseractEngine
from tests.integrity import verify_record

NS = "http://www.mic.gov.vn/TBT/QCVN_102_2016"


def _scanned_pdf() -> bytes:
    buffer = io.BytesIO()
    render_page(SAMPLES[0], 200, 0).save(buffer, "PDF", resolution=200)
    return buffer.getvalue()


def _package(header: str, attachments: list[tuple[str, str, bytes]]) -> bytes:
    encoded = "".join(
        f"<edXML:Attachment><edXML:ContentId>cid:{n}</edXML:ContentId>"
        f"<edXML:AttachmentName>{name}</edXML:AttachmentName>"
        f"<edXML:ContentType>{media}</edXML:ContentType>"
        f"<edXML:ContentTransferEncoded>{base64.b64encode(data).decode()}"
        "</edXML:ContentTransferEncoded></edXML:Attachment>"
        for n, (name, media, data) in enumerate(attachments, start=1)
    )
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<edXML:edXML xmlns:edXML="{NS}">'
        f"<edXML:edXMLEnvelope><edXML:edXMLHeader><edXML:MessageHeader>{header}"
        "</edXML:MessageHeader></edXML:edXMLHeader></edXML:edXMLEnvelope>"
        f"<edXML:AttachmentEncoded>{encoded}</edXML:AttachmentEncoded></edXML:edXML>"
    ).encode()


HEADER = """
<edXML:From><edXML:OrganId>000.00.00.H31</edXML:OrganId>
  <edXML:OrganName>Ủy ban nhân dân tỉnh Hòa Bình</edXML:OrganName></edXML:From>
<edXML:DocumentId>000.00.00.H31,2023/02/17,1482/QĐ-UBND</edXML:DocumentId>
<edXML:Code><edXML:CodeNumber>1482</edXML:CodeNumber>
  <edXML:CodeNotation>QĐ-UBND</edXML:CodeNotation></edXML:Code>
<edXML:PromulgationInfo><edXML:Place>Hòa Bình</edXML:Place>
  <edXML:PromulgationDate>2023/02/17</edXML:PromulgationDate></edXML:PromulgationInfo>
<edXML:DocumentType><edXML:Type>1</edXML:Type><edXML:TypeName>Quyết định</edXML:TypeName>
</edXML:DocumentType>
<edXML:Subject>Về việc phê duyệt kế hoạch chuyển đổi số năm 2023</edXML:Subject>
<edXML:SignerInfo><edXML:Position>Chủ tịch</edXML:Position>
  <edXML:FullName>Nguyễn Văn A</edXML:FullName></edXML:SignerInfo>
"""


def _ingest(archive: Archive, tmp_path: Path, data: bytes, name: str = "package.xml"):
    source = tmp_path / name
    source.write_bytes(data)
    context = IngestContext(archive, TesseractEngine(), IngestSettings(AccessLevel.PUBLIC))
    return source, ingest_one(source, context)


def test_a_package_is_archived_with_its_header_and_attachments(
    archive: Archive, tmp_path: Path
) -> None:
    scan = _scanned_pdf()
    package = _package(
        HEADER,
        [("1482-QD.pdf", "application/pdf", scan), ("phu-luc.docx", "application/msword", b"PK")],
    )
    source, result = _ingest(archive, tmp_path, package)
    assert result.status is Status.SEALED, result.reason
    record = archive.get(result.record_id or "", AccessLevel.PUBLIC)
    assert (record.doc_number, record.doc_type, record.type_name) == (
        "1482/QĐ-UBND",
        "QĐ",
        "QUYẾT ĐỊNH",
    )
    assert record.issuer == "Ủy ban nhân dân tỉnh Hòa Bình"
    assert (record.place, str(record.issued_date)) == ("Hòa Bình", "2023-02-17")
    assert record.title == "Quyết định Về việc phê duyệt kế hoạch chuyển đổi số năm 2023"
    files = {(f.role, f.name): f for f in record.files}
    assert archive.blobs.read_bytes(files["original", "package.xml"].sha256) == package
    assert archive.blobs.read_bytes(files["attachment", "1482-QD.pdf"].sha256) == scan
    assert files["attachment", "1482-QD.pdf"].media_type == "application/pdf"
    assert ("attachment", "phu-luc.docx") in files
    text = archive.text_of(record)
    assert "Chủ tịch Nguyễn Văn A" in text and "Điều 1. Phê duyệt" in text  # header + OCR
    assert record.warnings == ["attachment 'phu-luc.docx' is stored, not read"]
    assert verify_record(archive, record).ok
    assert source.read_bytes() == package


def test_missing_header_fields_are_said_not_guessed(archive: Archive, tmp_path: Path) -> None:
    _, result = _ingest(archive, tmp_path, _package("<edXML:Subject>Báo cáo</edXML:Subject>", []))
    assert result.status is Status.SEALED
    record = archive.get(result.record_id or "", AccessLevel.PUBLIC)
    assert record.doc_number == "" and record.issued_date is None
    assert "metadata: number (Code) missing from the edXML header" in (record.warnings or [])


XXE = b"""<?xml version="1.0"?>
<!DOCTYPE edXML [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<edXML><Subject>&secret;</Subject></edXML>"""
LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
<edXML><Subject>&lol2;</Subject></edXML>"""


def test_hostile_or_broken_xml_is_quarantined(archive: Archive, tmp_path: Path) -> None:
    cases = {
        "xxe.xml": (XXE, "DTD or entities"),
        "laughs.xml": (LAUGHS, "DTD or entities"),
        "broken.xml": (b"<?xml version='1.0'?><edXML><unclosed></edXML>", "not well-formed"),
        "other.xml": (b"<?xml version='1.0'?><invoice/>", "not an edXML package"),
        "bad-base64.xml": (
            _package(HEADER, []).replace(
                b"</edXML:AttachmentEncoded>",
                b"<edXML:Attachment><edXML:AttachmentName>a.pdf</edXML:AttachmentName>"
                b"<edXML:ContentTransferEncoded>@@not base64@@</edXML:ContentTransferEncoded>"
                b"</edXML:Attachment></edXML:AttachmentEncoded>",
            ),
            "cannot be decoded from base64",
        ),
    }
    for name, (data, reason) in cases.items():
        _, result = _ingest(archive, tmp_path, data, name)
        assert result.status is Status.QUARANTINED, name
        assert reason in (result.reason or ""), (name, result.reason)
        assert "root:" not in (result.reason or "")  # /etc/passwd never read
    assert archive.count_records() == 0


class NoOcr(TesseractEngine):
    def recognize(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise AssertionError("a page was OCR'd")


def _ingest_with(archive: Archive, source: Path, ocr=None, **settings):  # type: ignore[no-untyped-def]
    context = IngestContext(
        archive, ocr or TesseractEngine(), IngestSettings(AccessLevel.PUBLIC, **settings)
    )
    return ingest_one(source, context)


def test_the_same_attachment_twice_is_stored_once_and_the_batch_goes_on(
    archive: Archive, tmp_path: Path, sample_scans: list[Path]
) -> None:
    from ingest.runner import run_ingest

    scan = _scanned_pdf()
    package = tmp_path / "a-twice.xml"
    package.write_bytes(
        _package(
            HEADER,
            [
                ("phu-luc-1.pdf", "application/pdf", scan),
                ("phu-luc-1-ban-sao.pdf", "application/pdf", scan),
            ],
        )
    )
    later = sample_scans[0]
    context = IngestContext(archive, TesseractEngine(), IngestSettings(AccessLevel.PUBLIC))
    results = run_ingest([package, later], context, 1)
    assert [r.status for r in results] == [Status.SEALED, Status.SEALED], results
    # In the order they finished: the scan read ahead may finish first.
    [sealed] = [r for r in results if r.path == str(package)]
    record = archive.get(sealed.record_id or "", AccessLevel.PUBLIC)
    attachments = [f for f in record.files if f.role == "attachment"]
    assert [f.name for f in attachments] == ["phu-luc-1.pdf"]
    assert record.page_count == 1  # read once, not twice
    assert any(
        "attachment 'phu-luc-1-ban-sao.pdf' has the same content as 'phu-luc-1.pdf'" in w
        for w in record.warnings or []
    )
    assert verify_record(archive, record).ok


def _pdf_with(change) -> bytes:  # type: ignore[no-untyped-def]
    import pikepdf

    buffer = io.BytesIO()
    with pikepdf.open(io.BytesIO(_scanned_pdf())) as document:
        change(document)
        document.save(buffer)
    return buffer.getvalue()


def _encrypted() -> bytes:
    import pikepdf

    buffer = io.BytesIO()
    with pikepdf.open(io.BytesIO(_scanned_pdf())) as document:
        document.save(buffer, encryption=pikepdf.Encryption(owner="o", user="mat-khau"))
    return buffer.getvalue()


def _bad_attachments() -> dict[str, tuple[bytes, str]]:
    from pikepdf import Dictionary, Name, String
    from PIL import Image

    def js(document) -> None:  # type: ignore[no-untyped-def]
        action = Dictionary(S=Name.JavaScript, JS=String("app.alert(1)"))
        document.Root.OpenAction = document.make_indirect(action)

    def launch(document) -> None:  # type: ignore[no-untyped-def]
        document.Root.OpenAction = Dictionary(S=Name.Launch, F=String("cmd.exe"))

    bomb = io.BytesIO()  # issue 7's example: 27 KB, three pages of 12000 x 12000
    sheet = Image.new("1", (12000, 12000), 1)
    sheet.save(bomb, "TIFF", compression="group4", save_all=True, append_images=[sheet, sheet])
    poster = io.BytesIO()
    Image.new("1", (200, 200), 1).save(poster, "PDF", resolution=1)  # 200 x 200 inches
    cut = io.BytesIO()
    render_page(SAMPLES[0], 200, 0).save(cut, "PNG")
    return {
        "qd.pdf": (_pdf_with(js), "attachment 'qd.pdf': the PDF carries JavaScript"),
        "lenh.pdf": (_pdf_with(launch), "attachment 'lenh.pdf': the PDF carries launch actions"),
        "mat.pdf": (_encrypted(), "attachment 'mat.pdf': the PDF is encrypted"),
        "bomb.tif": (
            bomb.getvalue(),
            "attachment 'bomb.tif', page 1 is 12,000 x 12,000 pixels (144.0 megapixels",
        ),
        "poster.pdf": (
            poster.getvalue(),
            "attachment 'poster.pdf', page 1 is 60,000 x 60,000 pixels drawn at 300 dpi",
        ),
        "cut.png": (cut.getvalue()[:5000], "attachment 'cut.png'"),
    }


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_an_attachment_the_archive_would_refuse_quarantines_the_package(
    archive: Archive, tmp_path: Path
) -> None:
    for name, (data, reason) in _bad_attachments().items():
        media = "image/tiff" if name.endswith((".tif", ".png")) else "application/pdf"
        source = tmp_path / f"{name}.xml"
        source.write_bytes(_package(HEADER, [(name, media, data)]))
        result = _ingest_with(archive, source, NoOcr())
        assert result.status is Status.QUARANTINED, (name, result)
        assert (result.reason or "").startswith(reason), (name, result.reason)
    assert archive.count_records() == 0


def test_attachments_share_one_pixel_budget(archive: Archive, tmp_path: Path) -> None:
    scan = _scanned_pdf()  # one A4 page at 300 dpi when drawn: 8.7 megapixels
    other = _pdf_with(lambda document: None)
    source = tmp_path / "two.xml"
    source.write_bytes(
        _package(HEADER, [("a.pdf", "application/pdf", scan), ("b.pdf", "application/pdf", other)])
    )
    result = _ingest_with(archive, source, NoOcr(), max_input_pixels=12_000_000)
    assert result.status is Status.QUARANTINED
    assert (result.reason or "").startswith("by attachment 'b.pdf', page 1 its pages hold")


def test_running_out_of_memory_on_a_page_is_the_machines_limit(
    archive: Archive, tmp_path: Path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    import pypdfium2

    def exhausted(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise MemoryError

    monkeypatch.setattr(pypdfium2.PdfPage, "render", exhausted)
    source = tmp_path / "big.xml"
    source.write_bytes(_package(HEADER, [("giant.pdf", "application/pdf", _scanned_pdf())]))
    result = _ingest_with(archive, source, NoOcr())
    assert result.status is Status.FAILED, result
    assert result.reason == "attachment 'giant.pdf', page 1: out of memory drawing the page"
    assert archive.quarantined() == [] and archive.count_records() == 0


def test_header_values_that_cannot_be_so_are_said_once(archive: Archive, tmp_path: Path) -> None:
    future = HEADER.replace("2023/02/17", "2999/01/01")
    _, result = _ingest(archive, tmp_path, _package(future, []), "future.xml")
    record = archive.get(result.record_id or "", AccessLevel.PUBLIC)
    assert record.issued_date is None
    assert "metadata: date (PromulgationDate): '2999/01/01' is in the future" in record.warnings
    impossible = HEADER.replace("2023/02/17", "2023/02/30")
    _, result = _ingest(archive, tmp_path, _package(impossible, []), "impossible.xml")
    record = archive.get(result.record_id or "", AccessLevel.PUBLIC)
    dates = [w for w in record.warnings or [] if "date" in w]
    assert dates == ["metadata: date (PromulgationDate): '2023/02/30' is no day of the calendar"]
    assert "the package carries no attachment with content" in " ".join(record.warnings)


def test_an_envelope_root_is_read_and_names_are_kept_to_file_names(
    archive: Archive, tmp_path: Path
) -> None:
    package = _package(
        HEADER,
        [
            ("../../etc/x.pdf", "application/pdf", _scanned_pdf()),
            ("a\u202eexe.docx", "application/msword", b"PK"),
        ],
    ).decode()
    # As some gateway libraries write it: the envelope itself is the root.
    envelope = package.replace(f'<edXML:edXML xmlns:edXML="{NS}"><edXML:edXMLEnvelope>', "")
    envelope = envelope.replace("</edXML:edXMLEnvelope>", "").replace("</edXML:edXML>", "")
    envelope = envelope.replace(
        "<edXML:edXMLHeader>", f'<edXML:edXMLEnvelope xmlns:edXML="{NS}"><edXML:edXMLHeader>'
    )
    envelope += "</edXML:edXMLEnvelope>"
    _, result = _ingest(archive, tmp_path, envelope.encode(), "envelope.xml")
    assert result.status is Status.SEALED, result.reason
    record = archive.get(result.record_id or "", AccessLevel.PUBLIC)
    names = sorted(f.name for f in record.files if f.role == "attachment")
    assert names == ["aexe.docx", "x.pdf"]
    assert "attachment name '../../etc/x.pdf' is stored as 'x.pdf'" in record.warnings
    assert record.doc_number == "1482/QĐ-UBND"


def test_two_attachments_of_one_name_both_stand_in_its_evidence(
    archive: Archive, tmp_path: Path
) -> None:
    """Senders attach 'Phụ lục' twice with different contents: unzipped, the evidence bundle
    must hold both (also where a file system ignores case), and verify."""
    import zipfile

    from archive.bundle import verify_bundle
    from archive.evidence import write_evidence

    docx = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    data = _package(HEADER, [("phu-luc.docx", docx, b"PK\x03\x04 first appendix"),
                             ("phu-luc.docx", docx, b"PK\x03\x04 second appendix"),
                             ("PHU-LUC.docx", docx, b"PK\x03\x04 third appendix")])  # fmt: skip
    _, result = _ingest(archive, tmp_path, data)
    assert result.status is Status.SEALED, result
    bundle = tmp_path / "evidence.zip"
    write_evidence(archive, result.record_id or "", bundle)
    with zipfile.ZipFile(bundle) as opened:
        names = [n.casefold() for n in opened.namelist() if n.startswith("files/attachment/")]
    assert len(names) == len(set(names)) == 3, names
    checked = verify_bundle(bundle)
    assert checked.ok, checked.problems


def test_an_attachment_inside_an_attachment_is_not_one_of_its_own(tmp_path: Path) -> None:
    """Only the outermost ``Attachment`` elements are attachments: looking into each, as
    deep as they went, 30,000 nested ones (750 KB) took minutes."""
    from ingest import edxml

    inner = (
        "".join(
            f"<edXML:Attachment><edXML:AttachmentName>n{n}.pdf</edXML:AttachmentName>"
            for n in range(2000)
        )
        + "</edXML:Attachment>" * 2000
    )
    data = _package(HEADER, [("phu-luc.docx", "application/octet-stream", b"PK\x03\x04 x")])
    data = data.replace(b"</edXML:ContentTransferEncoded>",
                        b"</edXML:ContentTransferEncoded>" + inner.encode(), 1)  # fmt: skip
    document = edxml.parse(data, 10_000_000, tmp_path)
    assert [a.name for a in document.attachments] == ["phu-luc.docx"]
    assert not any("n0.pdf" in note for note in document.notes)  # not read as an empty one
