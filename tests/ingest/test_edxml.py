"""edXML packages (QCVN 102:2016): the header becomes the record's metadata, the attachments
its files, the package is kept as received, and hostile XML is quarantined."""

import base64
import io
from pathlib import Path

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
