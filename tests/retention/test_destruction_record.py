"""The record of destruction: Vietnamese text intact, every destroyed file named by its full
SHA-256, PDF/A-2b, and the same bytes for the same data."""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import sys
import unicodedata
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pikepdf
import pypdfium2 as pdfium
import pytest

from archive.errors import UsageError
from retention.destruction_record import (
    Approval,
    DestroyedRecord,
    DestructionRecordData,
    render_destruction_record,
)

ICT = timezone(timedelta(hours=7))
ROOT = Path(__file__).resolve().parents[2]


def _record(n: int, subject: str = "") -> DestroyedRecord:
    def sha(label: str) -> str:
        return hashlib.sha256(f"{label}{n}".encode()).hexdigest()

    return DestroyedRecord(
        record_id=sha("record")[:24],
        number=f"{100 + n}/BC-VP",
        type_name="BÁO CÁO",
        issued_date=date(2014, 1 + n % 12, 1 + n % 28),
        subject=subject or f"Tình hình thực hiện nhiệm vụ tháng {1 + n % 12} năm 2014",
        series_code="BC-THANG",
        series_title="Báo cáo tháng, quý",
        retention="10 năm",
        closed_year=2014,
        files=(("original", sha("original"), 120_000 + n), ("archival", sha("archival"), 80_000)),
    )


def _data(count: int = 3, **changes: object) -> DestructionRecordData:
    data = DestructionRecordData(
        list_id="HUY-2026-007",
        agency="ỦY BAN NHÂN DÂN TỈNH HÒA BÌNH\nVĂN PHÒNG",
        place="Hòa Bình",
        proposed_by="Nguyễn Thị Hương",
        proposed_at=datetime(2026, 2, 10, 9, 0, tzinfo=ICT),
        approvals=(
            Approval(
                "Trần Văn Đức",
                "Chủ tịch Hội đồng xác định giá trị tài liệu",
                # UTC on purpose: shown in Vietnam time, 10:15.
                datetime(2026, 2, 20, 3, 15, tzinfo=UTC),
            ),
            Approval("Lê Thị Ánh", "Chánh Văn phòng", datetime(2026, 2, 25, 14, 0, tzinfo=ICT)),
        ),
        executed_by="Phạm Quốc Khánh",
        executed_at=datetime(2026, 3, 5, 14, 30, tzinfo=ICT),
        decision="Quyết định số 12/QĐ-VP ngày 25 tháng 02 năm 2026 của Chánh Văn phòng",
        records=tuple(_record(n) for n in range(count)),
    )
    return replace(data, **changes)  # type: ignore[arg-type]


def _pages(pdf: bytes) -> list[str]:
    document = pdfium.PdfDocument(pdf)
    try:
        return [
            unicodedata.normalize("NFC", document[i].get_textpage().get_text_range())
            for i in range(len(document))
        ]
    finally:
        document.close()


@pytest.fixture(scope="module")
def small() -> bytes:
    return render_destruction_record(_data())


@pytest.fixture(scope="module")
def large() -> bytes:
    return render_destruction_record(_data(300))


def test_text_extracts_with_diacritics_intact(small: bytes) -> None:
    text = " ".join(" ".join(_pages(small)).split())  # lines wrap where the layout says
    for expected in [
        "ỦY BAN NHÂN DÂN TỈNH HÒA BÌNH",
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "Hòa Bình, ngày 05 tháng 3 năm 2026",
        "BIÊN BẢN",
        "Về việc hủy tài liệu hết giá trị",
        "Căn cứ Luật Lưu trữ số 33/2024/QH15",
        "Thông tư số 06/2025/TT-BNV",
        "Quyết định số 12/QĐ-VP",
        "Nguyễn Thị Hương",
        "Trần Văn Đức",
        "phê duyệt hồi 10:15 ngày 20/02/2026",
        "Lê Thị Ánh",
        "Phạm Quốc Khánh",
        "NGƯỜI THỰC HIỆN",
        "DANH MỤC TÀI LIỆU HỦY",
        "Tình hình thực hiện nhiệm vụ tháng 1 năm 2014",
        "Báo cáo tháng, quý",
        "10 năm",
        "MÃ SHA-256 CỦA CÁC TỆP ĐÃ HỦY",
    ]:
        assert expected in text, expected


def test_every_record_id_and_full_sha256_appears(small: bytes) -> None:
    text = "".join(_pages(small))
    for record in _data().records:
        assert record.record_id in text
        for _role, sha256, _size in record.files:
            assert sha256 in text
            assert f"{sha256[:12]}…" in text  # the short form in the list


def test_xmp_identifies_pdfa_2b(small: bytes) -> None:
    assert small.startswith(b"%PDF-1.7")
    with pikepdf.open(io.BytesIO(small)) as pdf:
        meta = pdf.open_metadata()
        assert meta["pdfaid:part"] == "2"
        assert meta["pdfaid:conformance"] == "B"
        assert "HUY-2026-007" in meta["dc:title"]
        assert meta["xmp:CreateDate"].startswith("2026-03-05T14:30:00+07:00")
        assert str(pdf.docinfo["/Title"]) == meta["dc:title"]
        (intent,) = pdf.Root.OutputIntents
        assert intent.S == "/GTS_PDFA1"
        assert intent.DestOutputProfile.N == 3
        assert str(pdf.Root.Lang) == "vi"


def _fonts(pdf: pikepdf.Pdf) -> list[pikepdf.Dictionary]:
    found = {}
    for page in pdf.pages:
        for font in page.Resources.get("/Font", {}).values():
            found[font.objgen] = font
    return list(found.values())


def test_fonts_are_embedded(small: bytes) -> None:
    with pikepdf.open(io.BytesIO(small)) as pdf:
        fonts = _fonts(pdf)
        assert fonts
        for font in fonts:
            descriptor = font.FontDescriptor
            assert any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")), font
            assert "/ToUnicode" in font  # what makes the text extract
    assert b"/Helvetica" not in small


def test_no_transparency(small: bytes) -> None:
    with pikepdf.open(io.BytesIO(small)) as pdf:
        for page in pdf.pages:
            assert "/Group" not in page.obj
            for state in page.Resources.get("/ExtGState", {}).values():
                assert float(state.get("/CA", 1)) == 1 and float(state.get("/ca", 1)) == 1
                assert state.get("/SMask", "/None") == "/None"


@pytest.mark.parametrize("rendering", ["small", "large"])
def test_passes_pikepdf_pdfa_validator(rendering: str, request: pytest.FixtureRequest) -> None:
    # pikepdf's allowlist validator (veraPDF's rules); needs the pikepdf[pdfa] extras.
    pdfa = pytest.importorskip("pikepdf.pdfa")
    report = pdfa.validate_written(io.BytesIO(request.getfixturevalue(rendering)), "2b")
    assert report.verdict == "pass", [str(f) for f in report.findings]


def test_300_records_repeat_the_table_headers(large: bytes) -> None:
    pages = _pages(large)
    listing = next(i for i, t in enumerate(pages) if "DANH MỤC TÀI LIỆU HỦY" in t)
    appendix = next(i for i, t in enumerate(pages) if "MÃ SHA-256 CỦA CÁC TỆP ĐÃ HỦY" in t)
    assert appendix - listing >= 5
    for text in pages[listing:appendix]:
        assert "Tên loại, trích yếu" in text and "Số, ký hiệu" in text
    assert len(pages) - appendix >= 5
    for text in pages[appendix:]:
        assert "Mã SHA-256" in text and "Kích thước (byte)" in text
    everything = "".join(pages)
    for record in _data(300).records:
        assert record.record_id in everything
        assert all(sha256 in everything for _r, sha256, _s in record.files)
    # Every page says which page of how many it is, so a missing page shows.
    for n, text in enumerate(pages, 1):
        assert f"Trang {n}/{len(pages)}" in text


def test_same_data_same_bytes(small: bytes) -> None:
    assert render_destruction_record(_data()) == small
    other = render_destruction_record(_data(executed_by="Hoàng Minh Tuấn"))
    assert other != small
    with pikepdf.open(io.BytesIO(small)) as a, pikepdf.open(io.BytesIO(other)) as b:
        assert a.trailer.ID[0] != b.trailer.ID[0]  # the document ID follows the content


def test_same_bytes_in_another_process(small: bytes) -> None:
    """No clock, no random ID, no hash-seed ordering: another interpreter writes the same file."""
    script = (
        "import hashlib, sys\n"
        "sys.path.insert(0, sys.argv[1])\n"
        "from tests.retention.test_destruction_record import _data\n"
        "from retention.destruction_record import render_destruction_record\n"
        "print(hashlib.sha256(render_destruction_record(_data())).hexdigest())\n"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    done = subprocess.run(
        [sys.executable, "-c", script, str(ROOT)],
        capture_output=True,
        text=True,
        check=True,
        env=env,
        cwd=ROOT,
        timeout=120,
    )
    assert done.stdout.strip() == hashlib.sha256(small).hexdigest()


@pytest.mark.parametrize(
    "changes",
    [
        {"approvals": ()},
        {"approvals": (Approval("Trần Văn Đức", "", datetime(2026, 2, 20)),)},
        # The same person twice, written differently, is still one approver.
        {
            "approvals": (
                Approval("Trần Văn Đức", "Chủ tịch", datetime(2026, 2, 20)),
                Approval(" trần  văn đức ", "Chánh Văn phòng", datetime(2026, 2, 21)),
            )
        },
        {"records": ()},
        {"records": (_record(1), _record(1))},
    ],
)
def test_refuses_what_the_procedure_forbids(changes: dict[str, object]) -> None:
    with pytest.raises(UsageError):
        render_destruction_record(_data(**changes))


def test_a_character_no_font_has_is_written_as_its_code_point() -> None:
    # PDF/A forbids drawing .notdef, the box a missing glyph would be.
    record = _record(0, subject="Ảnh chụp 😀 hiện trường")
    pdf = render_destruction_record(_data(records=(record,)))
    assert "Ảnh chụp [U+1F600] hiện trường" in "".join(_pages(pdf))
    pdfa = pytest.importorskip("pikepdf.pdfa")
    assert pdfa.validate_written(io.BytesIO(pdf), "2b").verdict == "pass"


def test_a_row_taller_than_a_page_is_split() -> None:
    record = _record(0, subject="Trích yếu rất dài của một văn bản cũ. " * 600)
    pages = _pages(render_destruction_record(_data(records=(record,))))
    listing = [t for t in pages if "Tên loại, trích yếu" in t]
    assert len(listing) >= 2


def test_naive_times_are_shown_as_given() -> None:
    data = _data(
        executed_at=datetime(2026, 1, 9, 8, 5),
        proposed_at=datetime(2025, 12, 1, 7, 0),
        approvals=(
            Approval("Trần Văn Đức", "Chủ tịch", datetime(2025, 12, 20, 16, 0)),
            Approval("Lê Thị Ánh", "", datetime(2025, 12, 22, 9, 30)),
        ),
    )
    text = " ".join(" ".join(_pages(render_destruction_record(data))).split())
    # Decree 30: a zero before days under 10 and months under 3.
    assert "Hòa Bình, ngày 09 tháng 01 năm 2026" in text
    assert "hồi 08:05 ngày 09/01/2026" in text
    assert "Lê Thị Ánh: phê duyệt hồi 09:30 ngày 22/12/2025" in text


def test_every_date_is_the_day_in_vietnam_and_roles_are_vietnamese_titles() -> None:
    """19:54 UTC on 4 December is 02:54 on 5 December in Vietnam: the text, the XMP and the
    record's own date all say the 5th. The archive's role names become Vietnamese titles."""
    executed = datetime(2026, 12, 4, 19, 54, tzinfo=UTC)
    data = _data(
        executed_at=executed,
        approvals=(
            Approval("Trần Văn An", "approver", datetime(2026, 12, 1, 2, 0, tzinfo=UTC)),
            Approval("Lê Thị Bình", "approver", datetime(2026, 12, 2, 2, 0, tzinfo=UTC)),
        ),
    )
    pdf = render_destruction_record(data)
    text = " ".join(" ".join(_pages(pdf)).split())
    assert "Hòa Bình, ngày 05 tháng 12 năm 2026" in text and "hồi 02:54 ngày 05/12/2026" in text
    with pikepdf.open(io.BytesIO(pdf)) as document:
        created = str(document.open_metadata()["xmp:CreateDate"])
        pages = len(document.pages)
    assert created.startswith("2026-12-05T02:54") and created.endswith("+07:00")
    assert "NGƯỜI PHÊ DUYỆT" in text and "Trần Văn An, người phê duyệt: phê duyệt hồi" in text
    assert "approver" not in text.casefold()
    from retention.destruction_record import local_date, page_count

    assert local_date(executed) == date(2026, 12, 5)
    assert page_count(pdf) == pages >= 3
