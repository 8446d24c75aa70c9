"""Vietnamese administrative metadata from the first page's words: on real OCR of rendered
documents, on OCR noise, and as a property over numbers, places and dates."""

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archive.text import fold
from ingest.cleanup import grayscale
from ingest.contracts import RecognizedPage, Word
from ingest.metadata import extract
from ingest.sample_scans import SAMPLES, render_page
from ingest.tesseract_ocr import TesseractEngine

WIDTH = 1654  # an A4 page at 200 dpi
MOTTO = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"


def _page(*lines: tuple[str, str] | str, confidence: float = 95.0) -> RecognizedPage:
    """A page as tesseract reads it: a header line's two columns (left, right) merged into one
    line of words; a plain string is a line centred on the page."""
    words = []
    for number, line in enumerate(lines, start=1):
        parts = [(line, WIDTH // 2 - 7 * len(line))] if isinstance(line, str) else []
        if not isinstance(line, str):
            parts = [(line[0], 200), (line[1], 860)]
        for text, x in parts:
            for token in text.split():
                width = 14 * len(token)
                words.append(Word(token, x, 100 * number, width, 30, confidence, 1, 1, number))
                x += width + 14
    return RecognizedPage("", tuple(words), WIDTH, 2339)


def _decision(number_line: str = "Số: 1482/QĐ-UBND", date_line: str = "") -> RecognizedPage:
    date_line = date_line or "Hòa Bình, ngày 17 tháng 02 năm 2023"
    return _page(
        ("ỦY BAN NHÂN DÂN", MOTTO),
        ("TỈNH HÒA BÌNH", "Độc lập - Tự do - Hạnh phúc"),
        (number_line, date_line),
        "QUYẾT ĐỊNH",
        "Về việc phê duyệt kế hoạch",
        "chuyển đổi số năm 2023",
        ("Căn cứ Luật Tổ chức chính quyền địa phương ngày 19 tháng 6 năm 2015", ""),
    )


def test_a_decision_gives_every_field() -> None:
    found = extract(_decision())
    assert (found.number, found.doc_type, found.type_name) == ("1482/QĐ-UBND", "QĐ", "QUYẾT ĐỊNH")
    assert found.issuer == "ỦY BAN NHÂN DÂN TỈNH HÒA BÌNH"
    assert (found.place, found.issued_date) == ("Hòa Bình", date(2023, 2, 17))
    assert found.subject == "Về việc phê duyệt kế hoạch chuyển đổi số năm 2023"
    assert found.title == "Quyết định Về việc phê duyệt kế hoạch chuyển đổi số năm 2023"
    assert found.unsure == []


@pytest.mark.parametrize(
    ("number_line", "date_line"),
    [
        ("S6: 1482/QĐ-UBND", "Hòa Bình, ngàv 17 tháng 02 năm 2023"),  # misread letters
        ("Số: 1482/ QĐ-UBND", "Hòa Bình, ngày 17 tháng 02 năm 2023"),  # split notation
        ("Số: 1482/QÐ-UBND", "Hòa Bình, ngay 17 thang 02 nam 2023"),  # Ð for Đ, no accents
    ],
)
def test_ocr_noise_does_not_hide_a_field(number_line: str, date_line: str) -> None:
    found = extract(_decision(number_line, date_line))
    assert found.number == "1482/QĐ-UBND" and found.issued_date == date(2023, 2, 17)
    assert found.place == "Hòa Bình"


def test_what_is_unsure_is_left_empty_and_said() -> None:
    no_date = extract(_decision(date_line="Hòa Bình, ngày 31 tháng 02 năm 2023"))
    assert no_date.issued_date is None and any("is no date" in n for n in no_date.unsure)
    header = ("Số: 1482/QĐ-UBND", "Hà Nội, ngày 01 tháng 3 năm 2024")
    unsure = extract(_page(header, confidence=20))
    assert unsure.number == "" and unsure.issued_date is None
    assert any(note.startswith("number:") for note in unsure.unsure)
    blank = extract(RecognizedPage(""))
    assert blank.title == ""
    assert blank.unsure == [
        "number: no 'Số:' line in the header",
        "date: no 'ngày … tháng … năm …' in the header",
        "no header found (number, place and date)",
    ]


@pytest.mark.parametrize(
    ("notation", "doc_type"),
    [
        ("06/2025/TT-BNV", "TT"),
        ("14514-CV/VPTW", "CV"),
        ("7816/VPCP-TTĐT", "CV"),
        ("93/QĐ-KTNN", "QĐ"),
        ("15/TTr-UBND", "TTr"),
    ],
)
def test_notation_forms_give_the_type(notation: str, doc_type: str) -> None:
    found = extract(
        _page(("BỘ NỘI VỤ", MOTTO), (f"Số: {notation}", "Hà Nội, ngày 5 tháng 3 năm 2025"))
    )
    assert (found.number, found.doc_type) == (notation, doc_type)


def test_a_cong_van_has_no_type_name_and_a_v_v_subject() -> None:
    found = extract(
        _page(
            ("VĂN PHÒNG CHÍNH PHỦ", MOTTO),
            ("", "Độc lập - Tự do - Hạnh phúc"),
            ("Số: 7816/VPCP-TTĐT", "Hà Nội, ngày 30 tháng 9 năm 2015"),
            "V/v triển khai trục liên thông",
            ("Kính gửi: Các Bộ, cơ quan ngang Bộ", ""),
        )
    )
    assert (found.type_name, found.doc_type, found.issuer) == ("", "CV", "VĂN PHÒNG CHÍNH PHỦ")
    assert found.title == "Công văn V/v triển khai trục liên thông"


PLACES = ["Hà Nội", "Hòa Bình", "Thành phố Hồ Chí Minh", "Đà Nẵng", "Cần Thơ", "Lào Cai"]


@given(
    number=st.integers(1, 99999),
    abbreviation=st.sampled_from(["QĐ", "TB", "KH", "BC", "CT", "NQ", "HD", "TTr", "GM"]),
    issuer=st.sampled_from(["UBND", "BNV", "VPCP", "STTTT", "KTNN"]),
    place=st.sampled_from(PLACES),
    day=st.dates(date(1945, 9, 2), date(2030, 12, 31)),
    padded=st.booleans(),
)
def test_any_number_place_and_date_round_trip(
    number: int, abbreviation: str, issuer: str, place: str, day: date, padded: bool
) -> None:
    shown = (lambda n: f"{n:02}") if padded else str
    found = extract(
        _page(
            ("BỘ NỘI VỤ", MOTTO),
            (
                f"Số: {number}/{abbreviation}-{issuer}",
                f"{place}, ngày {shown(day.day)} tháng {shown(day.month)} năm {day.year}",
            ),
        )
    )
    assert found.number == f"{number}/{abbreviation}-{issuer}"
    assert found.doc_type == abbreviation
    assert (found.place, found.issued_date) == (place, day)


def test_real_ocr_of_the_sample_documents(engine: TesseractEngine) -> None:
    found = [
        extract(engine.recognize(grayscale(render_page(doc, 200, n)), "vie+eng"))
        for n, doc in enumerate(SAMPLES)
    ]
    decision, letter, report = found
    assert decision.number == "1482/QĐ-UBND" and decision.type_name == "QUYẾT ĐỊNH"
    assert decision.issuer == "ỦY BAN NHÂN DÂN TỈNH HÒA BÌNH"
    assert (decision.place, decision.issued_date) == ("Hòa Bình", date(2023, 2, 17))
    assert decision.subject == "Về việc phê duyệt kế hoạch chuyển đổi số năm 2023"
    assert (letter.number, letter.doc_type, letter.issuer) == (
        "7816/VPCP-TTĐT",
        "CV",
        "VĂN PHÒNG CHÍNH PHỦ",
    )
    assert letter.subject == "V/v triển khai trục liên thông văn bản quốc gia"
    assert (letter.place, letter.issued_date) == ("Hà Nội", date(2015, 9, 30))
    assert (report.number, report.type_name, report.issued_date) == (
        "215/BC-VTLTNN",
        "BÁO CÁO",
        date(2024, 12, 5),
    )
    assert report.subject == "Tổng kết công tác văn thư, lưu trữ năm 2024"
    # OCR glues the long issuer line to the motto column ("LƯU TRỮNHÀ NUOC"): unglued and
    # put back from the list of bodies, not reported as read.
    assert report.issuer == "BỘ NỘI VỤ CỤC VĂN THƯ VÀ LƯU TRỮ NHÀ NƯỚC"
    assert report.unsure == []


# Issuer words with and without their marks, as OCR gives them.
_ISSUER_WORDS = [
    "BỘ",
    "BO",
    "THÔNG",
    "THONG",
    "TIN",
    "VÀ",
    "VA",
    "TRUYỀN",
    "TRUYEN",
    "SỞ",
    "SO",
    "Y",
    "TẾ",
    "TE",
    "UBND",
    "TỈNH",
    "TINH",
    "HÒA",
    "HOA",
    "BÌNH",
    "BINH",
    "CỤC",
    "CUC",
    "VĂN",
    "VAN",
    "THƯ",
    "THU",
    "LƯU",
    "LUU",
    "TRỮ",
    "TRU",
    "NHÀ",
    "NHA",
    "NƯỚC",
    "NUOC",
    "XÃ",
    "XA",
    "TÂN",
    "TAN",
    ",",
    "-",
    "Đ",
]


def test_a_lost_bar_of_d_is_put_back_in_the_notation() -> None:
    from ingest.metadata import _restored_notation

    assert _restored_notation("2635/QD-SYT", "QUYẾT ĐỊNH", "") == "2635/QĐ-SYT"
    assert _restored_notation("12/2020/ND-CP", "", "") == "12/2020/NĐ-CP"  # one type folds so
    assert _restored_notation("7/HD-UBND", "", "") == "7/HD-UBND"  # HD or HĐ: left as read
    assert _restored_notation("7/HD-UBND", "HỢP ĐỒNG", "") == "7/HĐ-UBND"
    assert _restored_notation("7816/VPCP-TTĐT", "", "") == "7816/VPCP-TTĐT"


def test_the_issuers_initials_put_back_the_bar_of_d_in_its_code() -> None:
    from ingest.metadata import _restored_notation

    planning = "BỘ KẾ HOẠCH VÀ ĐẦU TƯ"
    assert _restored_notation("1310/QĐ-BKHDT", "QUYẾT ĐỊNH", planning) == "1310/QĐ-BKHĐT"
    education = "UBND TỈNH NGHỆ AN SỞ GIÁO DỤC VÀ ĐÀO TẠO"
    assert _restored_notation("238/QĐ-SGDDT", "", education) == "238/QĐ-SGDĐT"
    # Not the initials of the issuer: left as read.
    assert _restored_notation("5/KH-SGDDT", "", "BỘ TÀI CHÍNH") == "5/KH-SGDDT"
    assert _restored_notation("9/UBND-VP", "", "ỦY BAN NHÂN DÂN TỈNH ĐỒNG NAI") == "9/UBND-VP"


def test_marks_lost_from_an_issuer_are_put_back_from_the_list_of_bodies() -> None:
    from ingest.agencies import name_book

    book = name_book()
    assert book.restore("BO THONG TIN VÀ TRUYEN THONG") == "BỘ THÔNG TIN VÀ TRUYỀN THÔNG"
    assert book.restore("UBND THÀNH PHO CAN THƠ SỞ Y TẾ") == "UBND THÀNH PHỐ CẦN THƠ SỞ Y TẾ"
    assert book.restore("BỘ VAN HOA, THE THAO VÀ DU LỊCH") == "BỘ VĂN HÓA, THỂ THAO VÀ DU LỊCH"
    # Words of an unlisted body: put back beside a neighbour they stand with in a listed
    # name, and only there.
    assert (
        book.restore("PHÒNG NÔNG NGHIỆP VÀ PHÁT TRIEN NONG THON")
        == "PHÒNG NÔNG NGHIỆP VÀ PHÁT TRIỂN NÔNG THÔN"
    )
    assert book.restore("ỦY BAN NHÂN DÂN XA TAN LAP") == "ỦY BAN NHÂN DÂN XÃ TAN LAP"
    assert book.restore("CONG TY TNHH AN PHAT") == "CONG TY TNHH AN PHAT"
    # Marks that were read are never changed, even where a listed name differs.
    assert book.restore("BỘ THỐNG TIN") == "BỘ THỐNG TIN"


def test_an_archive_adds_its_own_bodies() -> None:
    from ingest.agencies import name_book

    assert name_book().restore("CONG TY AN PHAT") == "CONG TY AN PHAT"
    own = name_book(("CÔNG TY AN PHÁT",))
    assert own.restore("CONG TY AN PHAT") == "CÔNG TY AN PHÁT"


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_ISSUER_WORDS), min_size=1, max_size=12))
def test_restoring_marks_never_changes_the_letters(words: list[str]) -> None:
    from ingest.agencies import name_book

    text = " ".join(words)
    restored = name_book().restore(text)
    assert fold(restored) == fold(text)
    assert len(restored.split()) == len(text.split())


def test_a_province_read_without_its_marks_is_put_back() -> None:
    from ingest.agencies import known_place

    assert known_place("Đà Nang") == "Đà Nẵng"
    assert known_place("Thua Thien  Hue") == "Thừa Thiên Huế"
    assert known_place("Lương Sơn") == "Lương Sơn"  # a district: kept as read


def test_an_issuer_with_marks_nobody_could_put_back_is_unsure_not_guessed() -> None:
    from ingest.agencies import name_book

    book = name_book()
    assert book.unglue("LƯU TRỮNHÀ NUOC") == "LƯU TRỮ NHÀ NUOC"
    assert book.unglue("TRUYEN") == "TRUYEN"  # a listed word is never cut
    found = extract(
        _page(
            ("ỦY BAN NHÂN DÂN", MOTTO),
            ("XÃ TAN LAP", "Độc lập - Tự do - Hạnh phúc"),
            ("Số: 12/QĐ-UBND", "Tân Lập, ngày 17 tháng 02 năm 2023"),
            "QUYẾT ĐỊNH",
            "Về việc phê duyệt kế hoạch",
        )
    )
    assert found.issuer == "" and found.number == "12/QĐ-UBND"
    assert found.unsure == [
        "issuer: read 'ỦY BAN NHÂN DÂN XÃ TAN LAP', whose TAN lost marks that could not be put back"
    ]
