"""A relevance set with known answers, and the metrics that score any search engine on it.

    from bench.relevance import relevance_set, score_engine
    report = score_engine(lambda q: my_engine.ids(q.query, q.filters, clearance="public"))
    print(report.markdown("my engine"))

The answers are planted: ``PLANTED`` lists documents that ``bench.search_corpus`` puts into every
corpus of at least ``len(PLANTED)`` records, at evenly spread positions. Their ids depend on the
seed and the key (``planted_id``), not on the corpus size. Each case pairs its answers with
distractors that a naive engine ranks as high or higher: the documents that cite a decree, a
record whose OCR body repeats a misspelt phrase, the same words in another order, the same
topic from another issuer or year. Anchor words (Sín Chải, Nậm Xe, Phìn Hồ, ...) appear in no
background record, so for most queries the answers are every record that matches
(``exhaustive``); ``check`` proves it on any stream of records.

The query language the set assumes (and ``matches`` implements, over folded words):
- words match with or without diacritics; every word must match (AND);
- ``"..."`` is a phrase: the words in that order, adjacent;
- a pasted number such as ``1482/QĐ-UBND`` is a phrase of its parts, in any case or folding;
- ``-word`` or ``-"phrase"`` excludes; ``a OR b`` (upper case) binds tighter than AND, as in web
  search engines: ``giống lúa OR ngô Pà Cò`` is giống AND (lúa OR ngô) AND Pà AND Cò;
- ``filters`` are structured: ``doc_type`` (``QĐ``), ``issuer`` (the full name), ``date_from`` and
  ``date_to`` (ISO, inclusive), ``series`` (a schedule code);
- the engine searches with public clearance: returning any non-public record is a leak.
"""

from __future__ import annotations

import argparse
import hashlib
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from archive.text import fold, normalize

if TYPE_CHECKING:
    from bench.search_corpus import CorpusRecord

# --- Folding, fast -------------------------------------------------------------------------------


_TONES = ("", "\u0300", "\u0301", "\u0303", "\u0309", "\u0323")
_VOWELS = "aăâeêioôơuưyAĂÂEÊIOÔƠUƯY"
_VIETNAMESE = "".join(unicodedata.normalize("NFC", v + t) for v in _VOWELS for t in _TONES) + "đĐ"
# ASCII and Vietnamese letters only: decomposed, every non-ASCII character left is a mark.
_ASCII_VIETNAMESE = re.compile(f"[\\x00-\\x7f{_VIETNAMESE}]*")
# Below U+0300, in Latin Extended Additional and in General Punctuation, every character of NFC
# text decomposes into one base letter and combining marks (U+0300..U+036F) or not at all.
_LATIN = re.compile(r"[\x00-\u02ff\u1e00-\u1eff\u2000-\u206f]*")
_MARKS = re.compile(r"[\u0300-\u036f]+")


def _nfc(text: str) -> str:
    """``archive.text.normalize`` (NFC, Ð read as Đ) without its per-character translate."""
    text = unicodedata.normalize("NFC", text)
    if "\u00d0" in text or "\u00f0" in text:
        text = text.replace("\u00d0", "\u0110").replace("\u00f0", "\u0111")
    return text


def fold_fast(text: str) -> str:
    """Exactly ``archive.text.fold(text)``, about 10 times faster on Vietnamese text.

    fold() keeps the first character of each character's decomposition, one character at a
    time (0.4 µs each). On NFC text of Latin letters and punctuation (no lone combining mark
    passes the test), that is the text decomposed with its marks removed, which C does a
    string at a time; other text goes to fold() itself. tests/bench checks the two agree."""
    text = _nfc(text)
    if text.isascii():
        return text
    if _ASCII_VIETNAMESE.fullmatch(text):
        text = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
        return text.encode("ascii", "ignore").decode("ascii")
    if _LATIN.fullmatch(text) is None:
        return fold(text)
    return _MARKS.sub("", unicodedata.normalize("NFD", text)).replace("đ", "d").replace("Đ", "D")


_WORD = re.compile(r"[^\W_]+")


def words(text: str) -> list[str]:
    """Folded, lowercased words, split where tantivy's default tokenizer splits; numbers
    without leading zeros (``05`` = ``5``)."""
    return [
        w.lstrip("0") or "0" if w.isdigit() else w for w in _WORD.findall(fold_fast(text).lower())
    ]


def notation_key(number: str) -> str:
    """A document number compared as people mean it: folded, lowercased, no spaces, no leading
    zero (``05/2025/TT-BNV`` = ``5/2025/tt-bnv``, ``1482/QÐ-UBND`` = ``1482/qd-ubnd``)."""
    key = "".join(fold_fast(number).lower().split())
    return re.sub(r"^0+(?=\d)", "", key)


def planted_id(key: str, seed: int = 7) -> str:
    return hashlib.blake2b(
        f"luutru-bench:{seed}:planted:{key}".encode(), digest_size=12
    ).hexdigest()


# --- The planted records -------------------------------------------------------------------------


@dataclass(frozen=True)
class Planted:
    key: str
    doc_type: str
    number: str
    issuer: str
    place: str
    date: str
    subject: str
    lines: tuple[str, ...] = ()  # the case's own sentences, placed first in the body
    access: str = "public"
    series: str | None = None
    keywords: tuple[str, ...] = ()
    noise: str | None = None  # "eth": Đ read as Ð in the body; "nfd": subject and body decomposed


_HB, _NA = "Ủy ban nhân dân tỉnh Hòa Bình", "Ủy ban nhân dân tỉnh Nghệ An"
_LC, _HG = "Ủy ban nhân dân tỉnh Lai Châu", "Ủy ban nhân dân tỉnh Hà Giang"
_MT, _BY = "Ủy ban nhân dân huyện Mường Tè", "Ủy ban nhân dân huyện Bắc Yên"
_TD, _MC = "Ủy ban nhân dân huyện Tam Đường", "Ủy ban nhân dân huyện Mai Châu"
_QN_STTTT = "Sở Thông tin và Truyền thông tỉnh Quảng Ninh"
_VPCP = "Văn phòng Chính phủ"


def _p(
    key: str,
    doc_type: str,
    number: str,
    issuer: str,
    place: str,
    date: str,
    subject: str,
    *lines: str,
    **extra: object,
) -> Planted:
    return Planted(key, doc_type, number, issuer, place, date, subject, lines, **extra)  # type: ignore[arg-type]


PLANTED: tuple[Planted, ...] = (
    # Folded and accented topic queries, anchored on a commune no background record names.
    _p(
        "cds.kh",
        "KH",
        "25/KH-UBND",
        _TD,
        "Tam Đường",
        "2024-01-22",
        "Chuyển đổi số xã Sín Chải năm 2024",
        "Mục tiêu: đến hết năm 2024, 100% hồ sơ thủ tục hành chính của xã Sín Chải được tiếp nhận, giải quyết trực tuyến.",  # noqa: E501
        "Ủy ban nhân dân xã Sín Chải bố trí công chức phụ trách chuyển đổi số và tổ công nghệ số cộng đồng tại các thôn.",  # noqa: E501
        series="QC",
        keywords=("chuyển đổi số", "Sín Chải"),
    ),
    _p(
        "cds.bc",
        "BC",
        "118/BC-UBND",
        _TD,
        "Tam Đường",
        "2024-12-20",
        "Kết quả thực hiện chuyển đổi số xã Sín Chải năm 2024",
        "Năm 2024, xã Sín Chải hoàn thành các chỉ tiêu chuyển đổi số được giao.",
        series="BC-NAM",
    ),
    _p(
        "sohoa",
        "QĐ",
        "1057/QĐ-UBND",
        _LC,
        "Lai Châu",
        "2022-09-14",
        "Về việc phê duyệt Đề án số hóa tài liệu lưu trữ tại kho lưu trữ Nậm Xe",
        "Phê duyệt Đề án số hóa tài liệu lưu trữ tại kho lưu trữ Nậm Xe với tổng số 1.250 hồ sơ.",
    ),
    # Reserved topics: in many background bodies, in no background subject.
    _p(
        "topic.t1",
        "CV",
        "2345/VPCP-KSTT",
        _VPCP,
        "Hà Nội",
        "2019-03-08",
        "V/v kết nối, liên thông hệ thống quản lý văn bản với Trục liên thông văn bản quốc gia",
        "Đề nghị các bộ, ngành, địa phương hoàn thành kết nối với Trục liên thông văn bản quốc gia trước ngày 31 tháng 3 năm 2019.",  # noqa: E501
        series="CV",
    ),
    _p(
        "topic.t2",
        "KH",
        "86/KH-UBND",
        "Ủy ban nhân dân tỉnh Quảng Ninh",
        "Quảng Ninh",
        "2019-05-20",
        "Kết nối, gửi nhận văn bản điện tử qua Trục liên thông văn bản quốc gia năm 2019",
        series="QC",
    ),
    _p(
        "topic.t3",
        "CV",
        "412/BCY-CTSO",
        "Ban Cơ yếu Chính phủ",
        "Hà Nội",
        "2020-08-11",
        "V/v sử dụng chữ ký số chuyên dùng Chính phủ trong văn bản điện tử",
        series="CV",
    ),
    _p(
        "topic.t4",
        "QĐ",
        "77/QĐ-STTTT",
        _QN_STTTT,
        "Quảng Ninh",
        "2021-02-02",
        "Về việc cấp chứng thư số và chữ ký số chuyên dùng cho cán bộ, công chức",
    ),
    # Numbers: one notation used by two provinces, its near misses, documents citing it.
    _p(
        "num.hb",
        "QĐ",
        "1482/QĐ-UBND",
        _HB,
        "Hòa Bình",
        "2023-02-17",
        "Về việc ban hành Danh mục hồ sơ năm 2023 của Văn phòng Ủy ban nhân dân tỉnh",
    ),
    _p(
        "num.na",
        "QĐ",
        "1482/QĐ-UBND",
        _NA,
        "Nghệ An",
        "2019-05-08",
        "Về việc công bố danh mục thủ tục hành chính lĩnh vực nội vụ",
    ),
    _p(
        "num.hbcv",
        "CV",
        "1482/UBND-KT",
        _HB,
        "Hòa Bình",
        "2021-04-12",
        "V/v báo cáo tình hình giải ngân vốn đầu tư công",
        series="CV",
    ),
    _p(
        "num.syt",
        "QĐ",
        "1482/QĐ-SYT",
        "Sở Y tế thành phố Cần Thơ",
        "Cần Thơ",
        "2022-10-03",
        "Về việc kiện toàn Hội đồng thuốc và điều trị",
    ),
    _p(
        "num.cite",
        "CV",
        "356/UBND-NV",
        "Ủy ban nhân dân huyện Lương Sơn",
        "Lương Sơn",
        "2023-03-01",
        "V/v triển khai Quyết định số 1482/QĐ-UBND ngày 17/02/2023 của Ủy ban nhân dân tỉnh",
        "Thực hiện Quyết định số 1482/QĐ-UBND ngày 17 tháng 02 năm 2023 của Ủy ban nhân dân tỉnh Hòa Bình, các phòng lập hồ sơ theo Danh mục.",  # noqa: E501
        series="CV",
    ),
    _p(
        "num.vpcp",
        "CV",
        "7816/VPCP-TTĐT",
        _VPCP,
        "Hà Nội",
        "2015-09-30",
        "V/v cung cấp thông tin cho Cổng Thông tin điện tử Chính phủ",
        series="CV",
    ),
    _p(
        "num.vpcpcite",
        "CV",
        "1203/STTTT-VP",
        _QN_STTTT,
        "Quảng Ninh",
        "2015-10-12",
        "V/v cung cấp thông tin cho Cổng Thông tin điện tử tỉnh",
        "Thực hiện Công văn số 7816/VPCP-TTĐT ngày 30 tháng 9 năm 2015 của Văn phòng Chính phủ, Sở đề nghị các đơn vị cung cấp thông tin.",  # noqa: E501
        series="CV",
    ),
    _p(
        "num.vptw",
        "CV",
        "14514-CV/VPTW",
        "Văn phòng Trung ương Đảng",
        "Hà Nội",
        "2023-11-06",
        "V/v thực hiện chế độ báo cáo định kỳ",
        series="CV",
    ),
    _p(
        "num.ktnn",
        "QĐ",
        "93/QĐ-KTNN",
        "Kiểm toán nhà nước",
        "Hà Nội",
        "2024-01-25",
        "Về việc ban hành Kế hoạch kiểm toán năm 2024",
    ),
    _p(
        "num.ktnn930",
        "QĐ",
        "930/QĐ-KTNN",
        "Kiểm toán nhà nước",
        "Hà Nội",
        "2023-06-30",
        "Về việc kiểm toán báo cáo quyết toán ngân sách địa phương",
    ),
    _p(
        "num.ttg",
        "QĐ",
        "1896/QĐ-TTg",
        "Thủ tướng Chính phủ",
        "Hà Nội",
        "2023-12-29",
        "Về việc phê duyệt Chương trình phát triển lưu trữ số",
    ),
    # Legal documents cited by number in thousands of background bodies.
    _p(
        "law.nd30",
        "NĐ",
        "30/2020/NĐ-CP",
        "Chính phủ",
        "Hà Nội",
        "2020-03-05",
        "Về công tác văn thư",
        "Nghị định này quy định về công tác văn thư và quản lý nhà nước về công tác văn thư.",
        "Nghị định này áp dụng đối với cơ quan, tổ chức nhà nước và doanh nghiệp nhà nước.",
        keywords=("văn thư",),
    ),
    _p(
        "law.nd30cv",
        "CV",
        "1234/BNV-VTLTNN",
        "Bộ Nội vụ",
        "Hà Nội",
        "2020-04-20",
        "V/v triển khai thực hiện Nghị định số 30/2020/NĐ-CP về công tác văn thư",
        series="CV",
    ),
    _p(
        "law.l33",
        "L",
        "33/2024/QH15",
        "Quốc hội",
        "Hà Nội",
        "2024-06-21",
        "Luật Lưu trữ",
        "Luật này quy định về tài liệu lưu trữ, hoạt động lưu trữ, lưu trữ tài liệu điện tử và quản lý nhà nước về lưu trữ.",  # noqa: E501
    ),
    _p(
        "law.tt05",
        "TT",
        "05/2025/TT-BNV",
        "Bộ Nội vụ",
        "Hà Nội",
        "2025-05-14",
        "Quy định về thông tin đầu vào của hồ sơ, tài liệu điện tử và số hóa tài liệu lưu trữ",
    ),
    # Phrases: the same words, in another order or apart.
    _p(
        "ph.a",
        "QĐ",
        "412/QĐ-UBND",
        _MT,
        "Mường Tè",
        "2023-04-10",
        "Về việc hỗ trợ kinh phí xây dựng trường mầm non xã Nậm Pồ",
        "Hỗ trợ kinh phí xây dựng trường mầm non xã Nậm Pồ từ nguồn ngân sách huyện.",
    ),
    _p(
        "ph.b",
        "QĐ",
        "415/QĐ-UBND",
        _MT,
        "Mường Tè",
        "2023-04-12",
        "Về việc sửa chữa nhà ăn trường tiểu học xã Nậm Pồ phục vụ trẻ mầm non",
        "Sửa chữa nhà ăn của trường tiểu học xã Nậm Pồ, bố trí khu vực riêng cho trẻ mầm non.",
    ),
    _p(
        "ph.c",
        "QĐ",
        "2210/QĐ-UBND",
        _HG,
        "Hà Giang",
        "2022-11-15",
        "Về việc hủy tài liệu hết giá trị của Ủy ban nhân dân xã Thèn Phàng",
        "Hủy 45 hộp tài liệu hết giá trị của Ủy ban nhân dân xã Thèn Phàng theo Danh mục kèm theo.",
    ),
    _p(
        "ph.d",
        "BC",
        "301/BC-UBND",
        _HG,
        "Hà Giang",
        "2022-10-20",
        "Kết quả xác định giá trị tài liệu lưu trữ xã Thèn Phàng đến hết năm 2021",
        "Hội đồng đã xác định giá trị tài liệu của xã Thèn Phàng, lựa chọn tài liệu lưu trữ đến hết năm 2021.",  # noqa: E501
    ),
    # Diacritics that change the word: lúa (rice) and lụa (silk) fold alike.
    _p(
        "dr.lua",
        "KH",
        "56/KH-UBND",
        _BY,
        "Bắc Yên",
        "2024-02-05",
        "Hỗ trợ sản xuất lúa vụ Đông Xuân xã Tà Xùa năm 2024",
        "Hỗ trợ giống lúa, phân bón cho các hộ sản xuất lúa của xã Tà Xùa.",
        series="QC",
    ),
    _p(
        "dr.lua2",
        "KH",
        "57/KH-UBND",
        _BY,
        "Bắc Yên",
        "2024-02-06",
        "Hỗ trợ sản xuất lụa tơ tằm xã Tà Xùa năm 2024",
        "Hỗ trợ trứng tằm, khung dệt cho các hộ sản xuất lụa của xã Tà Xùa.",
        series="QC",
    ),
    # Exclusion and OR.
    _p(
        "ex.lua",
        "QĐ",
        "201/QĐ-UBND",
        _MC,
        "Mai Châu",
        "2021-03-01",
        "Về việc hỗ trợ giống lúa cho hộ nghèo xã Pà Cò",
        "Hỗ trợ giống lúa lai cho 120 hộ nghèo xã Pà Cò.",
    ),
    _p(
        "ex.ngo",
        "QĐ",
        "202/QĐ-UBND",
        _MC,
        "Mai Châu",
        "2021-03-02",
        "Về việc hỗ trợ giống ngô cho hộ nghèo xã Pà Cò",
        "Hỗ trợ giống ngô lai cho 95 hộ nghèo xã Pà Cò.",
    ),
    _p(
        "ex.caphe",
        "QĐ",
        "203/QĐ-UBND",
        _MC,
        "Mai Châu",
        "2021-03-03",
        "Về việc hỗ trợ giống cà phê cho hộ nghèo xã Pà Cò",
        "Hỗ trợ giống cà phê chè cho 40 hộ nghèo xã Pà Cò.",
    ),
    # Structured filters: one project, five documents of different types, issuers and years.
    _p(
        "gp.qd21",
        "QĐ",
        "655/QĐ-UBND",
        _LC,
        "Lai Châu",
        "2021-03-15",
        "Về việc phê duyệt phương án bồi thường, hỗ trợ, tái định cư và giải phóng mặt bằng dự án đường Phìn Hồ",  # noqa: E501
    ),
    _p(
        "gp.cv21",
        "CV",
        "1789/UBND-KT",
        _LC,
        "Lai Châu",
        "2021-06-02",
        "V/v đẩy nhanh tiến độ giải phóng mặt bằng dự án đường Phìn Hồ",
        series="CV",
    ),
    _p(
        "gp.qd22",
        "QĐ",
        "402/QĐ-STNMT",
        "Sở Tài nguyên và Môi trường tỉnh Lai Châu",
        "Lai Châu",
        "2022-08-10",
        "Về việc thu hồi đất để giải phóng mặt bằng dự án đường Phìn Hồ",
    ),
    _p(
        "gp.tb19",
        "TB",
        "245/TB-UBND",
        _LC,
        "Lai Châu",
        "2019-11-20",
        "Kết luận của Chủ tịch Ủy ban nhân dân tỉnh về giải phóng mặt bằng dự án đường Phìn Hồ",
    ),
    _p(
        "gp.bc23",
        "BC",
        "310/BC-UBND",
        _MT,
        "Mường Tè",
        "2023-12-25",
        "Kết quả giải phóng mặt bằng dự án đường Phìn Hồ năm 2023",
        series="BC-NAM",
    ),
    # The subject says it; an OCR body says it more often, misspelt (hồ so).
    _p(
        "so.subject",
        "QĐ",
        "1320/QĐ-UBND",
        _HG,
        "Hà Giang",
        "2022-07-05",
        "Về việc chỉnh lý hồ sơ lưu trữ của Ủy ban nhân dân xã Lũng Cú",
        "Chỉnh lý hồ sơ lưu trữ của Ủy ban nhân dân xã Lũng Cú giai đoạn 2010 - 2020.",
    ),
    _p(
        "so.ocr",
        "BC",
        "96/BC-UBND",
        _HG,
        "Hà Giang",
        "2021-12-28",
        "Kết quả công tác văn thư năm 2021 của xã Lũng Cú",
        "Năm 2021, xã Lũng Cú đã thống kê hồ so lưu trữ của các thôn và lập danh mục hồ so lưu trữ.",  # noqa: E501
        "Số hồ so lưu trữ chưa chỉnh lý của xã Lũng Cú còn nhiều; hồ so lưu trữ bị ẩm mốc được vệ sinh, sấy khô.",  # noqa: E501
        series="BC-NAM",
    ),
    # OCR forms: Ð (U+00D0) in the number itself; a record stored in NFD.
    _p(
        "ocr.eth",
        "QĐ",
        "215/Q\u00d0-UBND",
        _HG,
        "Hà Giang",
        "2021-08-09",
        "Về việc thành lập Hội đồng thi tuyển viên chức năm 2021",
        noise="eth",
    ),
    _p(
        "ocr.nfd",
        "QĐ",
        "733/QĐ-UBND",
        _BY,
        "Bắc Yên",
        "2023-09-12",
        "Về việc tổ chức tiêm chủng mở rộng tại xã Hồng Ngài",
        "Tổ chức tiêm chủng mở rộng cho trẻ em dưới 5 tuổi tại xã Hồng Ngài.",
        noise="nfd",
    ),
    # Restricted records that match; a public reader must see only the public one.
    _p(
        "lk.public",
        "CV",
        "2790/UBND-NC",
        _NA,
        "Nghệ An",
        "2023-05-15",
        "V/v kiểm tra công tác bảo vệ kho lưu trữ xã Nà Ngoi",
        "Đề nghị xây dựng phương án bảo vệ kho lưu trữ xã Nà Ngoi trong mùa mưa bão.",
        "Thực hiện Kế hoạch số 317/KH-UBND, Ủy ban nhân dân tỉnh kiểm tra kho lưu trữ xã Nà Ngoi.",
        series="CV",
    ),
    _p(
        "lk.secret",
        "KH",
        "52/KH-UBND",
        _NA,
        "Nghệ An",
        "2023-04-02",
        "Phương án bảo vệ kho lưu trữ xã Nà Ngoi trong tình huống khẩn cấp",
        "Phương án bảo vệ kho lưu trữ xã Nà Ngoi: lực lượng, phương tiện và tuyến di chuyển tài liệu mật.",  # noqa: E501
        access="secret",
    ),
    _p(
        "lk.conf",
        "KH",
        "317/KH-UBND",
        _NA,
        "Nghệ An",
        "2023-03-20",
        "Di chuyển tài liệu mật khỏi kho lưu trữ xã Nà Ngoi",
        "Lực lượng thực hiện phương án bảo vệ kho lưu trữ xã Nà Ngoi di chuyển tài liệu mật theo tuyến đã định.",  # noqa: E501
        access="confidential",
    ),
    _p(
        "lk.internal",
        "BC",
        "144/BC-UBND",
        _NA,
        "Nghệ An",
        "2023-12-10",
        "Tình hình kho lưu trữ xã Nà Ngoi năm 2023",
        "Phương án bảo vệ kho lưu trữ xã Nà Ngoi đã được rà soát, bổ sung.",
        access="internal",
        series="BC-NAM",
    ),
)

# --- The queries ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class RelevanceQuery:
    query: str
    filters: dict[str, str]
    relevant: tuple[str, ...]  # record ids; the first is the best answer
    kind: str
    note: str
    excluded: tuple[str, ...] = ()  # match the words but not the query: returning one is wrong
    restricted: tuple[str, ...] = ()  # non-public records that match: returning one is a leak
    best_first: bool = False  # relevant[0] is the single best answer and must come first
    exhaustive: bool = True  # relevant + restricted is every record that matches (see check)


FILTER_KEYS = frozenset({"doc_type", "issuer", "date_from", "date_to", "series"})
_NOT_EXHAUSTIVE = frozenset({"topic", "number", "number_cited"})  # citing documents match too

_GP = ("gp.qd21", "gp.cv21", "gp.qd22", "gp.tb19", "gp.bc23")
_CASES: tuple[tuple[str, str, tuple[str, ...], str, dict[str, object]], ...] = (
    ("folded", "chuyen doi so Sin Chai", ("cds.kh", "cds.bc"), "typed without diacritics", {}),
    (
        "folded",
        "so hoa tai lieu luu tru Nam Xe",
        ("sohoa",),
        "'nam' is also năm (year) everywhere",
        {},
    ),
    ("folded", "giai phong mat bang Phin Ho", _GP, "five documents of one project", {}),
    ("folded", "san xuat lua Ta Xua", ("dr.lua", "dr.lua2"), "lúa and lụa both fold to lua", {}),
    ("diacritics", "chuyển đổi số Sín Chải", ("cds.kh", "cds.bc"), "", {}),
    (
        "diacritics",
        "CHUYỂN ĐỔI SỐ XÃ SÍN CHẢI",
        ("cds.kh", "cds.bc"),
        "upper case, as in a header",
        {},
    ),
    (
        "diacritics",
        unicodedata.normalize("NFD", "chuyển đổi số Sín Chải"),
        ("cds.kh", "cds.bc"),
        "the query in NFD",
        {},
    ),
    ("diacritics", "số hóa tài liệu lưu trữ Nậm Xe", ("sohoa",), "", {}),
    ("diacritics", "số hoá tài liệu Nậm Xe", ("sohoa",), "old tone placement: hoá for hóa", {}),
    (
        "topic",
        "truc lien thong van ban quoc gia",
        ("topic.t1", "topic.t2"),
        "in ~1/4 of bodies, in these subjects only",
        {},
    ),
    (
        "topic",
        "trục liên thông văn bản",
        ("topic.t1", "topic.t2"),
        "subject matches must beat body mentions",
        {},
    ),
    (
        "topic",
        "chu ky so chuyen dung",
        ("topic.t3", "topic.t4"),
        "in many bodies, in these subjects only",
        {},
    ),
    (
        "topic",
        "chữ ký số chuyên dùng Chính phủ",
        ("topic.t3", "topic.t4"),
        "t3's subject has every word",
        {"best_first": True},
    ),
    (
        "number",
        "1482/QĐ-UBND",
        ("num.hb", "num.na"),
        "two provinces share the notation; 1482/UBND-KT, 1482/QĐ-SYT and a citing CV (number in its subject) must rank lower",  # noqa: E501
        {},
    ),
    ("number", "1482/qđ-ubnd", ("num.hb", "num.na"), "lower case", {}),
    ("number", "1482/QD-UBND", ("num.hb", "num.na"), "without diacritics", {}),
    ("number", "1482/qd-ubnd", ("num.hb", "num.na"), "lower case, without diacritics", {}),
    ("number", "1482/Q\u00d0-UBND", ("num.hb", "num.na"), "pasted from OCR: Ð (U+00D0)", {}),
    ("number", "Số: 1482/QĐ-UBND", ("num.hb", "num.na"), "pasted with its label", {}),
    ("number", "1482 /QĐ-UBND", ("num.hb", "num.na"), "a space from a PDF copy", {}),
    (
        "number",
        "7816/VPCP-TTĐT",
        ("num.vpcp",),
        "a CV's notation: issuer and unit codes; one document cites it",
        {},
    ),
    ("number", "7816/vpcp-ttdt", ("num.vpcp",), "", {}),
    ("number", "14514-CV/VPTW", ("num.vptw",), "Party style", {}),
    ("number", "14514-cv/vptw", ("num.vptw",), "", {}),
    ("number", "93/QĐ-KTNN", ("num.ktnn",), "930/QĐ-KTNN is not it", {}),
    ("number", "93/qd-ktnn", ("num.ktnn",), "", {}),
    ("number", "1896/qd-ttg", ("num.ttg",), "", {}),
    (
        "number_cited",
        "30/2020/NĐ-CP",
        ("law.nd30",),
        "the decree above the ~4 % of bodies citing it (3,700 at 100k) and a CV with it in its subject",  # noqa: E501
        {"best_first": True},
    ),
    ("number_cited", "30/2020/nd-cp", ("law.nd30",), "", {"best_first": True}),
    ("number_cited", "nghị định 30/2020/NĐ-CP", ("law.nd30",), "", {"best_first": True}),
    ("number_cited", "nghi dinh 30/2020", ("law.nd30",), "a partial number", {"best_first": True}),
    (
        "number_cited",
        "33/2024/QH15",
        ("law.l33",),
        "a law: no type in its notation",
        {"best_first": True},
    ),
    ("number_cited", "luat luu tru 33/2024/qh15", ("law.l33",), "", {"best_first": True}),
    ("number_cited", "05/2025/TT-BNV", ("law.tt05",), "", {"best_first": True}),
    (
        "number_cited",
        "5/2025/TT-BNV",
        ("law.tt05",),
        "without the leading zero",
        {"best_first": True},
    ),
    (
        "phrase",
        '"trường mầm non" Nậm Pồ',
        ("ph.a",),
        "ph.b has trường ... mầm non apart",
        {"excluded": ("ph.b",)},
    ),
    ("phrase", '"truong mam non" nam po', ("ph.a",), "", {"excluded": ("ph.b",)}),
    (
        "phrase",
        '"tài liệu hết giá trị" Thèn Phàng',
        ("ph.c",),
        "ph.d has the words in another order",
        {"excluded": ("ph.d",)},
    ),
    ("phrase", '"giá trị tài liệu" Thèn Phàng', ("ph.d",), "the reverse", {"excluded": ("ph.c",)}),
    (
        "diacritic_rank",
        "sản xuất lúa Tà Xùa",
        ("dr.lua", "dr.lua2"),
        "exact diacritics first: lúa before lụa",
        {"best_first": True},
    ),
    (
        "diacritic_rank",
        "sản xuất lụa Tà Xùa",
        ("dr.lua2", "dr.lua"),
        "lụa before lúa",
        {"best_first": True},
    ),
    ("exclude", "hỗ trợ giống Pà Cò -ngô", ("ex.lua", "ex.caphe"), "", {"excluded": ("ex.ngo",)}),
    ("exclude", "ho tro giong Pa Co -ngo", ("ex.lua", "ex.caphe"), "", {"excluded": ("ex.ngo",)}),
    (
        "exclude",
        "hỗ trợ giống Pà Cò -ngô -lúa",
        ("ex.caphe",),
        "two exclusions",
        {"excluded": ("ex.ngo", "ex.lua")},
    ),
    (
        "or",
        "giống lúa OR ngô Pà Cò",
        ("ex.lua", "ex.ngo"),
        "OR binds tighter than AND",
        {"excluded": ("ex.caphe",)},
    ),
    ("or", "giong lua OR ngo Pa Co", ("ex.lua", "ex.ngo"), "", {"excluded": ("ex.caphe",)}),
    ("or", '"Nậm Xe" OR "Sín Chải"', ("sohoa", "cds.kh", "cds.bc"), "two phrases", {}),
    (
        "filter",
        "1482/QĐ-UBND",
        ("num.hb",),
        "the number within one issuer",
        {"filters": {"issuer": _HB}, "excluded": ("num.na",)},
    ),
    (
        "filter",
        "giai phong mat bang Phin Ho",
        ("gp.qd21", "gp.qd22"),
        "",
        {"filters": {"doc_type": "QĐ"}, "excluded": ("gp.cv21", "gp.tb19", "gp.bc23")},
    ),
    (
        "filter",
        "giải phóng mặt bằng Phìn Hồ",
        ("gp.qd21", "gp.cv21", "gp.tb19"),
        "",
        {"filters": {"issuer": _LC}, "excluded": ("gp.qd22", "gp.bc23")},
    ),
    (
        "filter",
        "giai phong mat bang Phin Ho",
        ("gp.qd21", "gp.cv21"),
        "",
        {
            "filters": {"date_from": "2021-01-01", "date_to": "2021-12-31"},
            "excluded": ("gp.qd22", "gp.tb19", "gp.bc23"),
        },
    ),
    (
        "filter",
        "giai phong mat bang Phin Ho",
        ("gp.qd22",),
        "",
        {
            "filters": {"doc_type": "QĐ", "date_from": "2022-01-01"},
            "excluded": ("gp.qd21", "gp.cv21", "gp.tb19", "gp.bc23"),
        },
    ),
    (
        "filter",
        "Phìn Hồ",
        ("gp.bc23",),
        "",
        {"filters": {"series": "BC-NAM"}, "excluded": ("gp.qd21", "gp.cv21", "gp.qd22", "gp.tb19")},
    ),
    (
        "filter",
        "Phìn Hồ",
        ("gp.cv21",),
        "",
        {
            "filters": {"doc_type": "CV", "issuer": _LC},
            "excluded": ("gp.qd21", "gp.qd22", "gp.tb19", "gp.bc23"),
        },
    ),
    (
        "filter",
        "duong Phin Ho",
        ("gp.tb19",),
        "",
        {
            "filters": {"date_to": "2019-12-31"},
            "excluded": ("gp.qd21", "gp.cv21", "gp.qd22", "gp.bc23"),
        },
    ),
    (
        "filter",
        "",
        tuple(p.key for p in PLANTED if p.issuer == _MT),
        "filters only: browse one issuer",
        {"filters": {"issuer": _MT}},
    ),
    (
        "filter",
        "",
        tuple(p.key for p in PLANTED if p.issuer == _MT and p.doc_type == "BC"),
        "filters only",
        {"filters": {"issuer": _MT, "doc_type": "BC"}},
    ),
    (
        "subject_vs_ocr",
        "hồ sơ lưu trữ Lũng Cú",
        ("so.subject", "so.ocr"),
        "so.ocr's body repeats 'hồ so lưu trữ' 4 times",
        {"best_first": True},
    ),
    (
        "subject_vs_ocr",
        "ho so luu tru Lung Cu",
        ("so.subject", "so.ocr"),
        "folded: both bodies match alike; the subject must decide",
        {"best_first": True},
    ),
    (
        "subject_vs_ocr",
        "hồ sơ lưu trữ xã Lũng Cú",
        ("so.subject", "so.ocr"),
        "",
        {"best_first": True},
    ),
    (
        "ocr_form",
        "215/QĐ-UBND",
        ("ocr.eth",),
        "the record's number field holds Ð (U+00D0)",
        {"exhaustive": False},
    ),
    ("ocr_form", "215/qd-ubnd", ("ocr.eth",), "", {"exhaustive": False}),
    ("ocr_form", "tiêm chủng Hồng Ngài", ("ocr.nfd",), "the record is stored in NFD", {}),
    ("ocr_form", "tiem chung hong ngai", ("ocr.nfd",), "", {}),
    (
        "leak",
        "phuong an bao ve kho Na Ngoi",
        ("lk.public",),
        "the secret plan matches best",
        {"restricted": ("lk.secret", "lk.conf", "lk.internal")},
    ),
    (
        "leak",
        "kho lưu trữ Nà Ngoi",
        ("lk.public",),
        "three restricted records match",
        {"restricted": ("lk.secret", "lk.conf", "lk.internal")},
    ),
    (
        "leak",
        "317/KH-UBND",
        ("lk.public",),
        "the number of a confidential plan: only the public letter citing it",
        {"restricted": ("lk.conf",), "exhaustive": False},
    ),
)


def relevance_set(seed: int = 7) -> list[RelevanceQuery]:
    """The queries, their answers as record ids of a corpus generated with ``seed``."""

    def ids(keys: Iterable[str]) -> tuple[str, ...]:
        return tuple(planted_id(key, seed) for key in keys)

    out = []
    for kind, query, relevant, note, extra in _CASES:
        filters = dict(extra.get("filters", {}))  # type: ignore[call-overload]
        out.append(
            RelevanceQuery(
                query=query,
                filters=filters,
                relevant=ids(relevant),
                kind=kind,
                note=note,
                excluded=ids(extra.get("excluded", ())),  # type: ignore[arg-type]
                restricted=ids(extra.get("restricted", ())),  # type: ignore[arg-type]
                best_first=bool(extra.get("best_first", False)),
                exhaustive=bool(extra.get("exhaustive", kind not in _NOT_EXHAUSTIVE)),
            )
        )
    return out


def planted_keys(seed: int = 7) -> dict[str, str]:
    """Record id -> planted key, to name answers in reports."""
    return {planted_id(p.key, seed): p.key for p in PLANTED}


# --- The reference matcher -----------------------------------------------------------------------


@dataclass(frozen=True)
class Clause:
    alternatives: tuple[tuple[str, ...], ...]  # phrases of folded words; one must match
    negated: bool = False


_ATOM = re.compile(r'(-?)"([^"]*)"|(\S+)')


def parse(query: str) -> list[Clause]:
    clauses: list[Clause] = []
    join_next = False
    for match in _ATOM.finditer(normalize(query)):
        minus, quoted, bare = match.groups()
        if bare == "OR":
            join_next = bool(clauses) and not clauses[-1].negated
            continue
        negated = bool(minus) or (bare is not None and len(bare) > 1 and bare[0] == "-")
        text = quoted if quoted is not None else (bare[1:] if negated else bare)
        phrase = tuple(words(text))
        if not phrase:
            continue
        if join_next and not negated:
            clauses[-1] = Clause((*clauses[-1].alternatives, phrase))
        else:
            clauses.append(Clause((phrase,), negated))
        join_next = False
    return clauses


def plain_words(query: str) -> list[str]:
    """The query's words without its syntax (quotes, OR, exclusions), in their typed form: what
    a raw engine without a query language is given."""
    out = []
    for match in _ATOM.finditer(normalize(query)):
        minus, quoted, bare = match.groups()
        if bare == "OR" or minus or (bare and len(bare) > 1 and bare[0] == "-"):
            continue
        out += [w.lower() for w in _WORD.findall(quoted if quoted is not None else bare)]
    return out


def _text(record: CorpusRecord) -> str:
    return " " + " ".join(words(f"{record.subject}\n{record.number}\n{record.body}")) + " "


def _filters_match(filters: dict[str, str], record: CorpusRecord) -> bool:
    unknown = set(filters) - FILTER_KEYS
    if unknown:
        raise ValueError(f"unknown filters: {sorted(unknown)}")
    if "doc_type" in filters and normalize(record.doc_type) != normalize(filters["doc_type"]):
        return False
    if (
        "issuer" in filters
        and normalize(record.issuer).casefold() != normalize(filters["issuer"]).casefold()
    ):
        return False
    if "series" in filters and record.series_code != filters["series"]:
        return False
    if record.date < filters.get("date_from", ""):
        return False
    return record.date <= filters.get("date_to", "9999")


def _clauses_match(clauses: Sequence[Clause], text: str) -> bool:
    for clause in clauses:
        found = any(f" {' '.join(phrase)} " in text for phrase in clause.alternatives)
        if found == clause.negated:
            return False
    return True


def matches(query: RelevanceQuery, record: CorpusRecord, text: str | None = None) -> bool:
    """Whether ``record`` answers ``query`` under the language above (access aside)."""
    if not _filters_match(query.filters, record):
        return False
    return _clauses_match(parse(query.query), text if text is not None else _text(record))


def loosened(query: str) -> list[Clause]:
    """The query as bare words: no phrases, exclusions or OR. A distractor must match this."""
    return [
        Clause(((word,),))
        for clause in parse(query)
        if not clause.negated and len(clause.alternatives) == 1
        for word in clause.alternatives[0]
    ]


def _notations(query: str) -> list[str]:
    return [token for token in normalize(query).split() if "/" in token and "-" in token]


def check(
    records: Iterable[CorpusRecord], queries: Sequence[RelevanceQuery], seed: int = 7
) -> list[str]:
    """Problems with the answer keys over ``records`` (the whole corpus, or a sample of it with
    the planted records): answers that do not match, distractors that do not tempt, background
    records that match an exhaustive query or own a planted number. Empty when all is well."""
    named = {rid for q in queries for rid in (*q.relevant, *q.excluded, *q.restricted)}
    found: dict[str, CorpusRecord] = {}
    extra: dict[int, set[str]] = {i: set() for i in range(len(queries))}
    parsed = [parse(q.query) for q in queries]
    owners = [{notation_key(n) for n in _notations(q.query)} for q in queries]
    # Every word of a plain clause must be in the record: a cheap test before the full match.
    required = [
        {
            w
            for c in clauses
            if len(c.alternatives) == 1 and not c.negated
            for w in c.alternatives[0]
        }
        for clauses in parsed
    ]
    problems = []
    names = planted_keys(seed)
    for record in records:
        text = _text(record)
        present = set(text.split())
        if record.record_id in named:
            found[record.record_id] = record
        key = notation_key(record.number)
        for i, query in enumerate(queries):
            if record.record_id in (*query.relevant, *query.restricted, *query.excluded):
                continue
            if key in owners[i]:
                problems.append(
                    f"{query.query!r}: {record.record_id} also has number {record.number}"
                )
            if not query.exhaustive or not required[i] <= present:
                continue
            if _filters_match(query.filters, record) and _clauses_match(parsed[i], text):
                extra[i].add(record.record_id)
    for rid in sorted(named - set(found)):
        problems.append(f"record {rid} is not in the corpus")
    for i, query in enumerate(queries):
        label = f"{query.kind} {query.query!r} {query.filters or ''}"
        if extra[i]:
            shown = sorted(names.get(rid, rid) for rid in extra[i])[:4]
            problems.append(f"{label}: {len(extra[i])} unexpected matches, e.g. {shown}")
        for rid in query.relevant + query.restricted:
            if rid in found and not matches(query, found[rid]):
                problems.append(f"{label}: answer {rid} does not match")
        for rid in query.relevant:
            if rid in found and found[rid].access != "public":
                problems.append(f"{label}: answer {rid} is not public")
        for rid in query.restricted:
            if rid in found and found[rid].access == "public":
                problems.append(f"{label}: restricted {rid} is public")
        for rid in query.excluded:
            if rid not in found:
                continue
            if matches(query, found[rid]):
                problems.append(f"{label}: excluded {rid} matches")
            if not _clauses_match(loosened(query.query), _text(found[rid])):
                problems.append(f"{label}: excluded {rid} does not even match the words")
    return problems


# --- Metrics -------------------------------------------------------------------------------------


def recall_at(results: Sequence[str], relevant: Sequence[str], k: int = 10) -> float:
    """Share of ``relevant`` found in the first ``k`` results."""
    if not relevant:
        raise ValueError("recall of an empty relevant set")
    return len(set(results[:k]) & set(relevant)) / len(set(relevant))


def reciprocal_rank(results: Sequence[str], relevant: Sequence[str]) -> float:
    """1 / the rank of the first relevant result; 0 when none is returned."""
    wanted = set(relevant)
    return next((1.0 / rank for rank, rid in enumerate(results, 1) if rid in wanted), 0.0)


@dataclass(frozen=True)
class QueryOutcome:
    query: RelevanceQuery
    results: tuple[str, ...]
    recall: float
    rr: float
    top1: bool | None  # None unless the query has a single best answer
    wrong: int  # excluded records among the first k
    leaks: int  # restricted records anywhere in the results


@dataclass(frozen=True)
class KindScore:
    kind: str
    queries: int
    recall: float
    mrr: float
    top1: tuple[int, int]  # (first, out of) over best_first queries
    wrong: int
    leaks: int

    def row(self) -> list[str]:
        top1 = f"{self.top1[0]}/{self.top1[1]}" if self.top1[1] else "-"
        return [
            self.kind,
            str(self.queries),
            f"{self.recall:.2f}",
            f"{self.mrr:.2f}",
            top1,
            str(self.wrong),
            str(self.leaks),
        ]


def _score(kind: str, outcomes: Sequence[QueryOutcome]) -> KindScore:
    ranked = [o for o in outcomes if o.top1 is not None]
    return KindScore(
        kind,
        len(outcomes),
        sum(o.recall for o in outcomes) / len(outcomes),
        sum(o.rr for o in outcomes) / len(outcomes),
        (sum(bool(o.top1) for o in ranked), len(ranked)),
        sum(o.wrong for o in outcomes),
        sum(o.leaks for o in outcomes),
    )


COLUMNS = ["kind", "queries", "recall@10", "MRR", "top-1", "wrong", "leaks"]


@dataclass(frozen=True)
class RelevanceReport:
    outcomes: tuple[QueryOutcome, ...]
    k: int = 10
    names: dict[str, str] = field(default_factory=dict)  # record id -> planted key

    def by_kind(self) -> list[KindScore]:
        kinds = dict.fromkeys(o.query.kind for o in self.outcomes)
        return [_score(kind, [o for o in self.outcomes if o.query.kind == kind]) for kind in kinds]

    def overall(self) -> KindScore:
        return _score("all", self.outcomes)

    def markdown(self, title: str = "Relevance") -> str:
        rows = [score.row() for score in (*self.by_kind(), self.overall())]
        rows[-1] = [f"**{cell}**" for cell in rows[-1]]
        lines = [f"### {title}", "", "| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
        return "\n".join([*lines, *("| " + " | ".join(row) + " |" for row in rows), ""])

    def failures(self) -> list[str]:
        """One line per query that missed an answer, put the best answer lower, or leaked."""
        out = []
        for o in self.outcomes:
            if o.recall == 1.0 and o.top1 is not False and not o.wrong and not o.leaks:
                continue
            best = o.query.relevant[0]
            rank = o.results.index(best) + 1 if best in o.results else None
            got = ", ".join(self.names.get(rid, "·") for rid in o.results[:5])
            out.append(
                f"{o.query.kind}: {o.query.query!r} {o.query.filters or ''} recall {o.recall:.2f}, "
                f"best at {rank or '-'}, wrong {o.wrong}, leaks {o.leaks}; top 5: {got}"
            )
        return out


def score_engine(
    search: Callable[[RelevanceQuery], list[str]],
    *,
    seed: int = 7,
    queries: Sequence[RelevanceQuery] | None = None,
    restricted: Iterable[str] = (),
    k: int = 10,
) -> RelevanceReport:
    """Run every query through ``search`` (record ids, best first, searched with public
    clearance) and score it. ``restricted`` adds ids that count as leaks for every query (all
    the corpus's non-public records: ``bench.search_corpus.restricted_ids``)."""
    queries = relevance_set(seed) if queries is None else queries
    always = frozenset(restricted)
    outcomes = []
    for query in queries:
        results = tuple(search(query))
        leak_ids = always | set(query.restricted)
        outcomes.append(
            QueryOutcome(
                query,
                results,
                recall_at(results, query.relevant, k),
                reciprocal_rank(results, query.relevant),
                results[:1] == query.relevant[:1] if query.best_first else None,
                len(set(results[:k]) & set(query.excluded)),
                sum(rid in leak_ids for rid in results),
            )
        )
    return RelevanceReport(tuple(outcomes), k, planted_keys(seed))


def compare_markdown(reports: dict[str, RelevanceReport]) -> str:
    """One line per engine: the overall scores side by side."""
    lines = [
        "| engine | queries | recall@10 | MRR | top-1 | wrong | leaks |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, report in reports.items():
        lines.append("| " + " | ".join([name, *report.overall().row()[1:]]) + " |")
    return "\n".join([*lines, ""])


def main() -> None:
    parser = argparse.ArgumentParser(
        description="Check the relevance set's answer keys over a corpus."
    )
    parser.add_argument("--records", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=7)
    options = parser.parse_args()
    from bench.search_corpus import generate

    queries = relevance_set(options.seed)
    kinds = dict.fromkeys(q.kind for q in queries)
    print(
        f"{len(queries)} queries, {len(PLANTED)} planted records; kinds: "
        + ", ".join(f"{kind} {sum(q.kind == kind for q in queries)}" for kind in kinds)
    )
    problems = check(generate(options.records, options.seed), queries, options.seed)
    print("\n".join(problems) if problems else f"answer keys hold over {options.records} records")
    raise SystemExit(1 if problems else 0)


if __name__ == "__main__":
    main()
