"""The vocabulary of the synthetic Vietnamese records corpus; the entry points bench/run.py uses.

The data here (issuers with their notation codes, document types, administrative domains with
their subjects and sentences, the laws and decrees documents cite) is what
``bench.search_corpus`` composes documents from. None of it contains the relevance set's anchor
words (Sín Chải, Nậm Xe, Phìn Hồ, ...) or the words its exclusion and phrase queries turn on;
``tests/bench`` checks that no background record answers an anchored query.

``generate``, ``queries`` and ``SyntheticRecord`` are kept for ``bench.run.bench_search``; they
forward to ``bench.search_corpus``.
"""

# ruff: noqa: E501 -- the sentences below are data, kept whole so they can be read and grepped

from __future__ import annotations

import random
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bench.search_corpus import CorpusRecord as SyntheticRecord

# --- Document types (Decree 30/2020/NĐ-CP, Appendix III) ----------------------------------------

TYPE_NAMES = {
    "QĐ": "QUYẾT ĐỊNH",
    "CV": "",  # a công văn carries no type name
    "TB": "THÔNG BÁO",
    "BC": "BÁO CÁO",
    "KH": "KẾ HOẠCH",
    "TTr": "TỜ TRÌNH",
    "NĐ": "NGHỊ ĐỊNH",
    "TT": "THÔNG TƯ",
    "NQ": "NGHỊ QUYẾT",
    "CT": "CHỈ THỊ",
    "CĐ": "CÔNG ĐIỆN",
    "ĐA": "ĐỀ ÁN",
    "QC": "QUY CHẾ",
    "GM": "GIẤY MỜI",
    "CTr": "CHƯƠNG TRÌNH",
    "HD": "HƯỚNG DẪN",
    "BB": "BIÊN BẢN",
    "HĐ": "HỢP ĐỒNG",
    "L": "LUẬT",
}
DOC_WORD = {abbr: name.capitalize() for abbr, name in TYPE_NAMES.items() if name}
DOC_WORD["CV"] = "Công văn"
LEGAL_TYPES = frozenset({"NĐ", "TT", "L"})  # always numbered with the year inside
ARTICLE_TYPES = frozenset({"QĐ", "NĐ", "TT", "NQ", "QC", "L"})  # written as Điều 1., Điều 2., ...
ENACTING = {
    "QĐ": "QUYẾT ĐỊNH:",
    "NQ": "QUYẾT NGHỊ:",
    "NĐ": "Chính phủ ban hành Nghị định.",
    "TT": "Ban hành Thông tư.",
    "QC": "Chương I. QUY ĐỊNH CHUNG",
    "L": "Quốc hội ban hành Luật.",
}
SECTIONS = {
    "BC": (
        "I. KẾT QUẢ ĐẠT ĐƯỢC",
        "II. TỒN TẠI, HẠN CHẾ VÀ NGUYÊN NHÂN",
        "III. PHƯƠNG HƯỚNG, NHIỆM VỤ THỜI GIAN TỚI",
        "IV. KIẾN NGHỊ, ĐỀ XUẤT",
    ),
    "KH": (
        "I. MỤC ĐÍCH, YÊU CẦU",
        "II. NHIỆM VỤ, GIẢI PHÁP",
        "III. KINH PHÍ",
        "IV. TỔ CHỨC THỰC HIỆN",
    ),
    "ĐA": ("I. SỰ CẦN THIẾT", "II. MỤC TIÊU", "III. NHIỆM VỤ, GIẢI PHÁP", "IV. TỔ CHỨC THỰC HIỆN"),
    "CTr": ("I. MỤC TIÊU", "II. NỘI DUNG CHƯƠNG TRÌNH", "III. TỔ CHỨC THỰC HIỆN"),
    "HD": ("I. PHẠM VI, ĐỐI TƯỢNG ÁP DỤNG", "II. NỘI DUNG HƯỚNG DẪN", "III. TỔ CHỨC THỰC HIỆN"),
    "BB": ("I. THÀNH PHẦN", "II. NỘI DUNG", "III. KẾT LUẬN"),
}
LETTER_SECTIONS: tuple[str, ...] = ()

# --- Issuers ----------------------------------------------------------------------------------

KIND_TYPES: dict[str, dict[str, float]] = {
    "government": {"NĐ": 6, "NQ": 3},
    "pm": {"QĐ": 6, "CT": 2, "CĐ": 1},
    "office": {"CV": 6, "TB": 3},
    "ministry": {"CV": 10, "QĐ": 6, "TT": 2, "KH": 2, "BC": 2, "TB": 1, "HD": 1, "GM": 1},
    "agency": {"CV": 10, "QĐ": 5, "KH": 2, "BC": 2, "HD": 2, "TB": 1, "GM": 1},
    "party": {"CV": 6, "NQ": 1, "CT": 1, "KH": 2, "BC": 2, "TB": 2, "QĐ": 1},
    "province": {
        "CV": 12,
        "QĐ": 10,
        "KH": 3,
        "BC": 3,
        "TB": 2,
        "TTr": 2,
        "CT": 1,
        "CĐ": 0.5,
        "ĐA": 0.5,
        "QC": 0.5,
        "GM": 1,
        "CTr": 0.5,
    },
    "council": {"NQ": 6, "BC": 2, "TB": 1},
    "department": {
        "CV": 12,
        "QĐ": 6,
        "KH": 3,
        "BC": 3,
        "TB": 2,
        "TTr": 3,
        "HD": 1,
        "GM": 2,
        "BB": 1,
        "HĐ": 1,
    },
    "district": {"CV": 12, "QĐ": 8, "KH": 3, "BC": 4, "TB": 2, "TTr": 2, "GM": 1, "BB": 1},
}

_HEADS = {
    "government": "Chính phủ",
    "pm": "Thủ tướng Chính phủ",
    "office": "Bộ trưởng, Chủ nhiệm Văn phòng Chính phủ",
    "assembly": "Quốc hội",
}
_SIGNERS = {
    "province": (
        ("TM. ỦY BAN NHÂN DÂN", "CHỦ TỊCH"),
        ("TM. ỦY BAN NHÂN DÂN", "KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH"),
        ("TL. CHỦ TỊCH", "CHÁNH VĂN PHÒNG"),
    ),
    "ministry": (
        ("BỘ TRƯỞNG",),
        ("KT. BỘ TRƯỞNG", "THỨ TRƯỞNG"),
        ("TL. BỘ TRƯỞNG", "CHÁNH VĂN PHÒNG"),
    ),
    "government": (
        ("TM. CHÍNH PHỦ", "THỦ TƯỚNG"),
        ("TM. CHÍNH PHỦ", "KT. THỦ TƯỚNG", "PHÓ THỦ TƯỚNG"),
    ),
    "pm": (("THỦ TƯỚNG",), ("KT. THỦ TƯỚNG", "PHÓ THỦ TƯỚNG")),
    "office": (("BỘ TRƯỞNG, CHỦ NHIỆM",), ("KT. BỘ TRƯỞNG, CHỦ NHIỆM", "PHÓ CHỦ NHIỆM")),
    "agency": (
        ("THỦ TRƯỞNG CƠ QUAN",),
        ("KT. THỦ TRƯỞNG", "PHÓ THỦ TRƯỞNG"),
        ("TL. THỦ TRƯỞNG", "CHÁNH VĂN PHÒNG"),
    ),
    "party": (("T/M BAN THƯỜNG VỤ", "BÍ THƯ"), ("T/L BAN THƯỜNG VỤ", "CHÁNH VĂN PHÒNG")),
    "council": (("CHỦ TỊCH",), ("KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH")),
    "department": (("GIÁM ĐỐC",), ("KT. GIÁM ĐỐC", "PHÓ GIÁM ĐỐC")),
    "assembly": (("CHỦ TỊCH QUỐC HỘI",),),
}
_SIGNERS["district"] = _SIGNERS["province"]


@dataclass(frozen=True)
class Issuer:
    name: str
    code: str  # the notation code: UBND, BNV, VPCP, SNV, ...
    place: str  # where its documents are dated
    kind: str
    units: tuple[str, ...]  # drafting units, the second half of a công văn's notation
    focus: tuple[str, ...] = ()  # domains it writes about most
    weight: float = 1.0
    max_number: int = 3000
    parent: str = ""  # the body above it, shown first in the header (a Sở's provincial committee)
    short: str = ""  # the name under the parent (Sở Nội vụ)
    head: str = ""  # who signs a decision (Chủ tịch Ủy ban nhân dân tỉnh ...)
    province: str = ""  # the province it belongs to, for "trên địa bàn tỉnh ..."

    @property
    def header(self) -> str:
        return (self.short or self.name).upper()

    @property
    def authority(self) -> str:
        """The line above ``Căn cứ`` in a decision: who decides."""
        if self.head:
            return self.head.upper()
        if self.kind in ("province", "district"):
            return f"CHỦ TỊCH {self.name.upper()}"
        if self.kind == "ministry":
            return f"BỘ TRƯỞNG {self.name.upper()}"
        if self.kind == "department":
            return f"GIÁM ĐỐC {self.header}"
        return _HEADS.get(self.kind, f"THỦ TRƯỞNG {self.name}").upper()


_UBND_UNITS = ("KT", "VX", "NC", "TH", "KGVX", "NNMT", "XD", "TCD")
_SO_UNITS = ("VP", "KHTC", "TCCB", "NV", "QLCL", "TTr")


def _ministry(name: str, code: str, units: tuple[str, ...], focus: tuple[str, ...]) -> Issuer:
    return Issuer(name, code, "Hà Nội", "ministry", units, focus, 1.0, 9999)


def _province(
    place: str, prefix: str = "tỉnh", weight: float = 3.0, focus: tuple[str, ...] = ()
) -> Issuer:
    name = f"Ủy ban nhân dân {prefix} {place}"
    shown = "Thành phố Hồ Chí Minh" if place == "Hồ Chí Minh" else place
    return Issuer(
        name,
        "UBND",
        shown,
        "province",
        _UBND_UNITS,
        focus,
        weight,
        6000,
        province=f"{prefix} {place}",
    )


def _department(short: str, code: str, prefix: str, place: str, focus: tuple[str, ...]) -> Issuer:
    parent = f"Ủy ban nhân dân {prefix} {place}"
    return Issuer(
        f"{short} {prefix} {place}",
        code,
        place,
        "department",
        _SO_UNITS,
        focus,
        2.0,
        3000,
        parent=parent,
        short=short,
        province=f"{prefix} {place}",
    )


def _district(name: str, place: str, province: str) -> Issuer:
    return Issuer(
        name,
        "UBND",
        place,
        "district",
        ("VP", "TNMT", "NV", "TCKH", "VHTT"),
        (),
        2.0,
        2500,
        province=province,
    )


ISSUERS: tuple[Issuer, ...] = (
    Issuer(
        "Chính phủ", "CP", "Hà Nội", "government", ("KGVX",), ("cchc", "noivu", "vanthu"), 0.6, 200
    ),
    Issuer(
        "Thủ tướng Chính phủ",
        "TTg",
        "Hà Nội",
        "pm",
        ("KGVX", "KTTH"),
        ("cds", "cchc", "thientai"),
        0.8,
        2500,
    ),
    Issuer(
        "Văn phòng Chính phủ",
        "VPCP",
        "Hà Nội",
        "office",
        ("TTĐT", "KSTT", "TH", "NC", "KTTH", "QHĐP"),
        ("cchc", "cds"),
        1.5,
        9999,
    ),
    _ministry(
        "Bộ Nội vụ",
        "BNV",
        ("VTLTNN", "TCBC", "CCHC", "VP", "CQĐP", "CCVC"),
        ("noivu", "vanthu", "cchc"),
    ),
    _ministry("Bộ Tài chính", "BTC", ("NSNN", "QLCS", "HCSN", "VP", "ĐT"), ("ngansach",)),
    _ministry("Bộ Thông tin và Truyền thông", "BTTTT", ("CĐSQG", "ATTT", "THH", "VP"), ("cds",)),
    _ministry("Bộ Y tế", "BYT", ("KCB", "DP", "KH-TC", "VP", "BH"), ("yte",)),
    _ministry(
        "Bộ Giáo dục và Đào tạo", "BGDĐT", ("GDTrH", "GDTH", "QLCL", "VP", "NGCBQLGD"), ("giaoduc",)
    ),
    _ministry(
        "Bộ Tài nguyên và Môi trường",
        "BTNMT",
        ("ĐĐ", "TCMT", "VP", "KTTV"),
        ("datdai", "moitruong"),
    ),
    _ministry(
        "Bộ Kế hoạch và Đầu tư", "BKHĐT", ("KTĐPLT", "GSTĐĐT", "VP"), ("xaydung", "ngansach")
    ),
    _ministry("Bộ Tư pháp", "BTP", ("VĐCXDPL", "KTrVB", "VP"), ("thanhtra", "cchc")),
    _ministry("Bộ Xây dựng", "BXD", ("HĐXD", "QLN", "VP"), ("xaydung",)),
    _ministry(
        "Bộ Nông nghiệp và Phát triển nông thôn",
        "BNN",
        ("TT", "KTHT", "PCTT", "VP"),
        ("nongnghiep", "thientai"),
    ),
    _ministry("Bộ Giao thông vận tải", "BGTVT", ("KCHT", "ATGT", "VP"), ("xaydung", "anninh")),
    _ministry(
        "Bộ Lao động - Thương binh và Xã hội",
        "BLĐTBXH",
        ("VPQGGN", "BTXH", "VP", "LĐTL"),
        ("laodong",),
    ),
    _ministry("Bộ Công Thương", "BCT", ("TTTN", "CN", "VP"), ("laodong", "xaydung")),
    _ministry("Bộ Công an", "BCA", ("V03", "C06", "VP"), ("anninh", "cds")),
    Issuer(
        "Kiểm toán nhà nước",
        "KTNN",
        "Hà Nội",
        "agency",
        ("TH", "VP", "PC"),
        ("ngansach", "thanhtra"),
        0.8,
        2000,
        head="Tổng Kiểm toán nhà nước",
    ),
    Issuer(
        "Cục Văn thư và Lưu trữ nhà nước",
        "VTLTNN",
        "Hà Nội",
        "agency",
        ("NVTW", "NVĐP", "VP", "TTTH"),
        ("vanthu", "cds"),
        1.2,
        3000,
        head="Cục trưởng Cục Văn thư và Lưu trữ nhà nước",
    ),
    Issuer(
        "Ban Cơ yếu Chính phủ",
        "BCY",
        "Hà Nội",
        "agency",
        ("VP", "KHTC", "CTSO"),
        ("cds", "anninh"),
        0.6,
        1500,
        head="Trưởng Ban Cơ yếu Chính phủ",
    ),
    Issuer(
        "Văn phòng Trung ương Đảng",
        "VPTW",
        "Hà Nội",
        "party",
        ("VPTW",),
        ("noivu", "vanthu"),
        0.8,
        15000,
    ),
    Issuer(
        "Tỉnh ủy Hòa Bình",
        "TU",
        "Hòa Bình",
        "party",
        ("TU",),
        ("noivu", "thanhtra"),
        0.8,
        1500,
        parent="Đảng bộ tỉnh Hòa Bình",
        short="Tỉnh ủy",
        province="tỉnh Hòa Bình",
    ),
    Issuer(
        "Thành ủy Đà Nẵng",
        "TU",
        "Đà Nẵng",
        "party",
        ("TU",),
        ("noivu", "xaydung"),
        0.8,
        1500,
        parent="Đảng bộ thành phố Đà Nẵng",
        short="Thành ủy",
        province="thành phố Đà Nẵng",
    ),
    _province("Hòa Bình", focus=("nongnghiep", "thientai")),
    _province("Lai Châu", focus=("nongnghiep", "laodong")),
    _province("Nghệ An"),
    _province("Thanh Hóa"),
    _province("Quảng Ninh", focus=("cds", "moitruong")),
    _province("Lâm Đồng", focus=("nongnghiep", "datdai")),
    _province("Đắk Lắk"),
    _province("Cà Mau", focus=("thientai", "nongnghiep")),
    _province("An Giang"),
    _province("Bắc Ninh", focus=("xaydung", "cds")),
    _province("Thái Nguyên"),
    _province("Hà Giang", focus=("laodong", "giaoduc")),
    _province("Hà Nội", "thành phố", 4.0, ("xaydung", "datdai", "cds")),
    _province("Đà Nẵng", "thành phố", 3.0, ("cds", "xaydung")),
    _province("Hồ Chí Minh", "Thành phố", 4.0, ("xaydung", "datdai", "cds")),
    _province("Hải Phòng", "thành phố"),
    _province("Cần Thơ", "thành phố", focus=("thientai", "yte")),
    Issuer(
        "Hội đồng nhân dân tỉnh Nghệ An",
        "HĐND",
        "Nghệ An",
        "council",
        ("HĐND",),
        ("ngansach",),
        0.8,
        300,
        province="tỉnh Nghệ An",
    ),
    Issuer(
        "Hội đồng nhân dân thành phố Hà Nội",
        "HĐND",
        "Hà Nội",
        "council",
        ("HĐND",),
        ("ngansach", "giaoduc"),
        0.8,
        300,
        province="thành phố Hà Nội",
    ),
    _department("Sở Nội vụ", "SNV", "tỉnh", "Nghệ An", ("noivu", "vanthu")),
    _department("Sở Tài chính", "STC", "thành phố", "Hà Nội", ("ngansach",)),
    _department("Sở Y tế", "SYT", "thành phố", "Cần Thơ", ("yte",)),
    _department("Sở Giáo dục và Đào tạo", "SGDĐT", "tỉnh", "Thanh Hóa", ("giaoduc",)),
    _department(
        "Sở Tài nguyên và Môi trường", "STNMT", "tỉnh", "Lai Châu", ("datdai", "moitruong")
    ),
    _department("Sở Thông tin và Truyền thông", "STTTT", "tỉnh", "Quảng Ninh", ("cds",)),
    _department("Sở Kế hoạch và Đầu tư", "SKHĐT", "tỉnh", "Bắc Ninh", ("xaydung", "ngansach")),
    _department("Sở Xây dựng", "SXD", "thành phố", "Đà Nẵng", ("xaydung",)),
    _department(
        "Sở Nông nghiệp và Phát triển nông thôn",
        "SNN",
        "tỉnh",
        "An Giang",
        ("nongnghiep", "thientai"),
    ),
    _department("Sở Lao động - Thương binh và Xã hội", "SLĐTBXH", "tỉnh", "Cà Mau", ("laodong",)),
    _district("Ủy ban nhân dân huyện Lương Sơn", "Lương Sơn", "tỉnh Hòa Bình"),
    _district("Ủy ban nhân dân quận Ba Đình", "Ba Đình", "thành phố Hà Nội"),
    _district("Ủy ban nhân dân thành phố Thủ Đức", "Thủ Đức", "Thành phố Hồ Chí Minh"),
)


def plain_issuer(name: str, place: str) -> Issuer:
    """An issuer of a planted record that the background does not use."""
    if name.startswith("Ủy ban nhân dân"):
        kind = "district" if " huyện " in name or " quận " in name else "province"
        return Issuer(name, "UBND", place, kind, _UBND_UNITS)
    if name.startswith("Quốc hội"):
        return Issuer(name, "QH15", place, "assembly", ("QH",))
    return Issuer(name, "", place, "agency", ("VP",))


def signer(kind: str, rng: random.Random) -> tuple[str, ...]:
    return rng.choice(_SIGNERS.get(kind, _SIGNERS["agency"]))


_SURNAMES = (
    "Nguyễn",
    "Trần",
    "Lê",
    "Phạm",
    "Hoàng",
    "Vũ",
    "Đặng",
    "Bùi",
    "Đỗ",
    "Hồ",
    "Dương",
    "Lý",
)
_MIDDLE = ("Văn", "Thị", "Đức", "Minh", "Quốc", "Thanh", "Hữu", "Ngọc", "Xuân", "Thu", "Anh")
_GIVEN = (
    "An",
    "Bình",
    "Cường",
    "Dũng",
    "Hà",
    "Hải",
    "Hùng",
    "Hương",
    "Lan",
    "Long",
    "Mai",
    "Nam",
    "Phong",
    "Quang",
    "Sơn",
    "Thắng",
    "Thảo",
    "Trung",
    "Tuấn",
    "Việt",
    "Yến",
    "Khánh",
    "Tâm",
)


def person(rng: random.Random) -> str:
    return f"{rng.choice(_SURNAMES)} {rng.choice(_MIDDLE)} {rng.choice(_GIVEN)}"


def vn_date(iso: str) -> str:
    """``ngày 05 tháng 02 năm 2023``: days under 10 and months 1 and 2 take a leading zero
    (Decree 30/2020/NĐ-CP, Appendix I)."""
    year, month, day = (int(part) for part in iso.split("-"))
    shown = f"{month:02d}" if month < 3 else str(month)
    return f"ngày {day:02d} tháng {shown} năm {year}"


# --- What documents cite ----------------------------------------------------------------------


@dataclass(frozen=True)
class Law:
    key: str
    kind: str  # Luật, Nghị định, Thông tư, Quyết định, Pháp lệnh
    number: str | None
    date: str
    about: str  # the law's name, or what the decree is about
    by: str = ""  # "của Chính phủ"
    general: bool = False  # cited by documents of any domain now and then

    def cite(self, rng: random.Random) -> str:
        if self.kind in ("Luật", "Pháp lệnh"):
            shown = f" số {self.number}" if self.number and rng.random() < 0.5 else ""
            return f"{self.kind} {self.about}{shown} {vn_date(self.date)}"
        return f"{self.kind} số {self.number} {vn_date(self.date)} {self.by} {self.about}"


_CP = "của Chính phủ"
_TTG = "của Thủ tướng Chính phủ"
_BNV = "của Bộ trưởng Bộ Nội vụ"
LAWS: tuple[Law, ...] = (
    Law("nd30", "Nghị định", "30/2020/NĐ-CP", "2020-03-05", "về công tác văn thư", _CP, True),
    Law("nd110", "Nghị định", "110/2004/NĐ-CP", "2004-04-08", "về công tác văn thư", _CP),
    Law(
        "nd01",
        "Nghị định",
        "01/2013/NĐ-CP",
        "2013-01-03",
        "quy định chi tiết thi hành một số điều của Luật Lưu trữ",
        _CP,
    ),
    Law(
        "nd45",
        "Nghị định",
        "45/2020/NĐ-CP",
        "2020-04-08",
        "về thực hiện thủ tục hành chính trên môi trường điện tử",
        _CP,
        True,
    ),
    Law(
        "nd163",
        "Nghị định",
        "163/2016/NĐ-CP",
        "2016-12-21",
        "quy định chi tiết thi hành một số điều của Luật Ngân sách nhà nước",
        _CP,
    ),
    Law(
        "nd138",
        "Nghị định",
        "138/2020/NĐ-CP",
        "2020-11-27",
        "quy định về tuyển dụng, sử dụng và quản lý công chức",
        _CP,
    ),
    Law("nd58", "Nghị định", "58/2001/NĐ-CP", "2001-08-24", "về quản lý và sử dụng con dấu", _CP),
    Law(
        "qd749",
        "Quyết định",
        "749/QĐ-TTg",
        "2020-06-03",
        "phê duyệt Chương trình Chuyển đổi số quốc gia đến năm 2025, định hướng đến năm 2030",
        _TTG,
    ),
    Law(
        "qd06",
        "Quyết định",
        "06/QĐ-TTg",
        "2022-01-06",
        "phê duyệt Đề án phát triển ứng dụng dữ liệu về dân cư, định danh và xác thực điện tử phục vụ chuyển đổi số quốc gia",
        _TTG,
    ),
    Law(
        "tt01",
        "Thông tư",
        "01/2011/TT-BNV",
        "2011-01-19",
        "hướng dẫn thể thức và kỹ thuật trình bày văn bản hành chính",
        _BNV,
    ),
    Law(
        "tt07",
        "Thông tư",
        "07/2012/TT-BNV",
        "2012-11-22",
        "hướng dẫn quản lý văn bản, lập hồ sơ và nộp lưu hồ sơ, tài liệu vào Lưu trữ cơ quan",
        _BNV,
    ),
    Law(
        "tt09",
        "Thông tư",
        "09/2011/TT-BNV",
        "2011-06-03",
        "quy định về thời hạn bảo quản hồ sơ, tài liệu hình thành phổ biến trong hoạt động của các cơ quan, tổ chức",
        _BNV,
    ),
    Law(
        "tt02",
        "Thông tư",
        "02/2019/TT-BNV",
        "2019-01-24",
        "quy định tiêu chuẩn dữ liệu thông tin đầu vào và yêu cầu bảo quản tài liệu lưu trữ điện tử",
        _BNV,
    ),
    Law(
        "tt10",
        "Thông tư",
        "10/2022/TT-BNV",
        "2022-12-23",
        "quy định thời hạn bảo quản tài liệu",
        _BNV,
    ),
    Law(
        "tt05",
        "Thông tư",
        "05/2025/TT-BNV",
        "2025-05-14",
        "quy định về thông tin đầu vào của hồ sơ, tài liệu điện tử và số hóa tài liệu lưu trữ",
        _BNV,
    ),
    Law("pl34", "Pháp lệnh", "34/2001/PL-UBTVQH10", "2001-04-04", "Lưu trữ quốc gia"),
    Law("l01", "Luật", "01/2011/QH13", "2011-11-11", "Lưu trữ"),
    Law("l33", "Luật", "33/2024/QH15", "2024-06-21", "Lưu trữ"),
    Law(
        "l80",
        "Luật",
        "80/2015/QH13",
        "2015-06-22",
        "Ban hành văn bản quy phạm pháp luật",
        general=True,
    ),
    Law("l51", "Luật", "51/2005/QH11", "2005-11-29", "Giao dịch điện tử"),
    Law("l20", "Luật", "20/2023/QH15", "2023-06-22", "Giao dịch điện tử"),
    Law("l83", "Luật", "83/2015/QH13", "2015-06-25", "Ngân sách nhà nước"),
    Law("l01ns", "Luật", "01/2002/QH11", "2002-12-16", "Ngân sách nhà nước"),
    Law("l13", "Luật", "13/2003/QH11", "2003-11-26", "Đất đai"),
    Law("l45", "Luật", "45/2013/QH13", "2013-11-29", "Đất đai"),
    Law("l31", "Luật", "31/2024/QH15", "2024-01-18", "Đất đai"),
    Law("l22", "Luật", "22/2008/QH12", "2008-11-13", "Cán bộ, công chức"),
    Law("l58", "Luật", "58/2010/QH12", "2010-11-15", "Viên chức"),
    Law("l43", "Luật", "43/2019/QH14", "2019-06-14", "Giáo dục"),
    Law("l15", "Luật", "15/2023/QH15", "2023-01-09", "Khám bệnh, chữa bệnh"),
    Law("l39", "Luật", "39/2019/QH14", "2019-06-13", "Đầu tư công"),
    Law("l72", "Luật", "72/2020/QH14", "2020-11-17", "Bảo vệ môi trường"),
    Law("l33tt", "Luật", "33/2013/QH13", "2013-06-19", "Phòng, chống thiên tai"),
    Law("l50", "Luật", "50/2014/QH13", "2014-06-18", "Xây dựng"),
)


def organisation_law(kind: str, year: int) -> str:
    """The law that gives the issuer its powers, as it stood in ``year``."""
    if kind in ("province", "district", "department", "council"):
        if year >= 2016:
            return "Luật Tổ chức chính quyền địa phương ngày 19 tháng 6 năm 2015"
        if year >= 2004:
            return "Luật Tổ chức Hội đồng nhân dân và Ủy ban nhân dân ngày 26 tháng 11 năm 2003"
        return "Luật Tổ chức Hội đồng nhân dân và Ủy ban nhân dân ngày 21 tháng 6 năm 1994"
    if kind in ("ministry", "office", "agency"):
        if year >= 2017:
            return "Nghị định số 123/2016/NĐ-CP ngày 01 tháng 9 năm 2016 của Chính phủ quy định chức năng, nhiệm vụ, quyền hạn và cơ cấu tổ chức của bộ, cơ quan ngang bộ"
        if year >= 2008:
            return "Nghị định số 178/2007/NĐ-CP ngày 03 tháng 12 năm 2007 của Chính phủ quy định chức năng, nhiệm vụ, quyền hạn và cơ cấu tổ chức của bộ, cơ quan ngang bộ"
        return "Nghị định số 86/2002/NĐ-CP ngày 05 tháng 11 năm 2002 của Chính phủ quy định chức năng, nhiệm vụ, quyền hạn và cơ cấu tổ chức của bộ, cơ quan ngang bộ"
    if kind == "party":
        return "Điều lệ Đảng Cộng sản Việt Nam"
    if kind == "assembly":
        return "Hiến pháp nước Cộng hòa xã hội chủ nghĩa Việt Nam"
    if year >= 2016:
        return "Luật Tổ chức Chính phủ ngày 19 tháng 6 năm 2015"
    return "Luật Tổ chức Chính phủ ngày 25 tháng 12 năm 2001"


_PROVINCE_PROPOSERS = (
    ("Giám đốc Sở Nội vụ", "SNV"),
    ("Giám đốc Sở Tài chính", "STC"),
    ("Giám đốc Sở Kế hoạch và Đầu tư", "SKHĐT"),
    ("Giám đốc Sở Tài nguyên và Môi trường", "STNMT"),
)
CENTRAL_PROPOSERS = (
    ("Chánh Văn phòng", "VP"),
    ("Vụ trưởng Vụ Pháp chế", "PC"),
    ("Vụ trưởng Vụ Tổ chức cán bộ", "TCCB"),
)
PROPOSERS = {  # who proposes a decision, by the issuer's kind: (title, notation code)
    "province": _PROVINCE_PROPOSERS,
    "council": (("Ủy ban nhân dân tỉnh", "UBND"),),
    "district": (("Trưởng phòng Nội vụ", "NV"), ("Trưởng phòng Tài chính - Kế hoạch", "TCKH")),
    "department": (("Trưởng phòng Tổ chức cán bộ", "TCCB"), ("Chánh Văn phòng Sở", "VP")),
    "government": (("Bộ trưởng Bộ Nội vụ", "BNV"), ("Bộ trưởng Bộ Tài chính", "BTC")),
    "pm": (("Bộ trưởng Bộ Nội vụ", "BNV"), ("Bộ trưởng Bộ Kế hoạch và Đầu tư", "BKHĐT")),
}
ADDRESSEES = (
    "Các sở, ban, ngành tỉnh; Ủy ban nhân dân các huyện, thị xã, thành phố.",
    "Các bộ, cơ quan ngang bộ, cơ quan thuộc Chính phủ; Ủy ban nhân dân các tỉnh, thành phố trực thuộc Trung ương.",
    "Các phòng, ban chuyên môn; Ủy ban nhân dân các xã, thị trấn.",
    "Thủ trưởng các đơn vị trực thuộc.",
    "Văn phòng Chính phủ.",
)
LETTER_VERBS = {
    "CV": (
        "đề nghị các cơ quan, đơn vị thực hiện một số nội dung sau",
        "hướng dẫn như sau",
        "có ý kiến như sau",
    ),
    "BC": ("báo cáo như sau",),
    "TB": ("thông báo như sau",),
    "TTr": ("kính trình xem xét, phê duyệt một số nội dung sau",),
    "GM": ("trân trọng kính mời đại biểu tham dự",),
}
COPIES = (
    "Chủ tịch, các Phó Chủ tịch",
    "Các Phó Giám đốc",
    "Cổng thông tin điện tử",
    "Lãnh đạo Văn phòng",
    "Các vụ, cục, đơn vị thuộc Bộ",
)
CLOSING_ARTICLES = (
    "{doc} này có hiệu lực kể từ ngày ký. Chánh Văn phòng, Thủ trưởng các cơ quan, đơn vị và cá nhân có liên quan chịu trách nhiệm thi hành {doc} này.",
    "{doc} này có hiệu lực thi hành từ ngày 01 tháng 7 năm {next}. Các cơ quan, tổ chức, cá nhân có liên quan chịu trách nhiệm thi hành.",
)

# --- Domains: subjects, sentences, keywords ---------------------------------------------------


@dataclass(frozen=True)
class Domain:
    key: str
    weight: float
    topics: tuple[str, ...]  # noun phrases that fill the subject templates
    keywords: tuple[str, ...]
    sentences: tuple[str, ...]  # slots: {year} {next} {place} {org} {pct} {count} {amount} {cite}
    laws: tuple[str, ...] = field(default=())  # keys of LAWS the domain's decisions cite


DOMAINS: tuple[Domain, ...] = (
    Domain(
        "cds",
        1.6,
        (
            "chuyển đổi số",
            "phát triển Chính phủ số",
            "cung cấp dịch vụ công trực tuyến toàn trình",
            "bảo đảm an toàn thông tin mạng",
            "ứng dụng công nghệ thông tin trong cơ quan nhà nước",
            "triển khai Đề án 06",
            "kết nối, chia sẻ dữ liệu dân cư",
            "sử dụng hệ thống quản lý văn bản và điều hành",
        ),
        (
            "chuyển đổi số",
            "dịch vụ công trực tuyến",
            "an toàn thông tin",
            "dữ liệu số",
            "Đề án 06",
            "chính quyền số",
        ),
        (
            "Đến hết năm {year}, {pct}% hồ sơ thủ tục hành chính được tiếp nhận và giải quyết trực tuyến toàn trình.",
            "Rà soát, nâng cấp hạ tầng mạng, máy chủ và thiết bị bảo đảm an toàn thông tin theo cấp độ.",
            "Triển khai nền tảng số dùng chung, kết nối với Cổng Dịch vụ công quốc gia theo {cite}.",
            "Tỷ lệ văn bản điện tử gửi, nhận giữa các cơ quan nhà nước đạt {pct}%, trừ văn bản mật.",
            "Tổ chức tập huấn kỹ năng số cho {count} cán bộ, công chức phụ trách công nghệ thông tin.",
            "Cập nhật, làm sạch dữ liệu dân cư phục vụ xác thực điện tử và định danh công dân.",
            "Các phần mềm dùng chung phải bảo đảm khả năng tích hợp, chia sẻ dữ liệu và vận hành ổn định.",
            "Thực hiện giám sát an toàn thông tin tập trung, phát hiện và xử lý kịp thời các sự cố.",
            "Ưu tiên bố trí kinh phí cho các nhiệm vụ chuyển đổi số theo {cite}.",
        ),
        ("qd749", "qd06", "nd45", "l20", "l51"),
    ),
    Domain(
        "vanthu",
        1.4,
        (
            "công tác văn thư, lưu trữ",
            "lập hồ sơ điện tử",
            "số hóa tài liệu",
            "chỉnh lý tài liệu tồn đọng",
            "nộp lưu hồ sơ vào Lưu trữ lịch sử",
            "quản lý và sử dụng con dấu",
            "thu thập tài liệu vào Lưu trữ cơ quan",
            "bảo quản tài liệu lưu trữ",
        ),
        ("văn thư", "lưu trữ", "hồ sơ", "số hóa", "chỉnh lý", "nộp lưu"),
        (
            "Các đơn vị lập Danh mục hồ sơ năm {year} và lập hồ sơ công việc theo quy định tại {cite}.",
            "Chỉnh lý khoảng {count} mét giá tài liệu tồn đọng, xác định thời hạn bảo quản cho từng hồ sơ.",
            "Văn thư cơ quan đăng ký, quản lý văn bản đến, văn bản đi trên Hệ thống quản lý văn bản và điều hành.",
            "Tài liệu có thời hạn bảo quản vĩnh viễn được nộp lưu vào Lưu trữ lịch sử {place} đúng thời hạn.",
            "Kho lưu trữ được trang bị giá, hộp, cặp và thiết bị phòng cháy, chữa cháy, điều hòa nhiệt độ.",
            "Số hóa tài liệu lưu trữ theo thứ tự ưu tiên: tài liệu có giá trị, tài liệu có tần suất khai thác cao.",
            "Bản sao điện tử được ký số bởi cơ quan thực hiện số hóa và quản lý theo {cite}.",
            "Tổ chức phục vụ độc giả khai thác, sử dụng tài liệu tại phòng đọc của Lưu trữ cơ quan.",
        ),
        ("nd30", "nd01", "tt07", "tt09", "tt02", "tt10", "l01", "l33", "pl34", "nd110", "nd58"),
    ),
    Domain(
        "ngansach",
        1.4,
        (
            "giao dự toán ngân sách nhà nước",
            "quyết toán ngân sách",
            "giải ngân vốn đầu tư công",
            "quản lý, sử dụng tài sản công",
            "mua sắm tập trung",
            "thực hành tiết kiệm, chống lãng phí",
            "điều hành ngân sách địa phương",
            "kiểm toán báo cáo quyết toán",
        ),
        ("ngân sách", "dự toán", "quyết toán", "tài sản công", "giải ngân", "kiểm toán"),
        (
            "Tổng thu ngân sách nhà nước trên địa bàn ước đạt {amount} triệu đồng, bằng {pct}% dự toán.",
            "Các đơn vị dự toán quản lý, sử dụng kinh phí đúng mục đích, tiết kiệm và hiệu quả theo {cite}.",
            "Kho bạc Nhà nước kiểm soát chi chặt chẽ; số dư tạm ứng quá hạn được thu hồi trước ngày 31 tháng 12.",
            "Bổ sung có mục tiêu từ ngân sách cấp trên số tiền {amount} triệu đồng để thực hiện chính sách an sinh.",
            "Rà soát, sắp xếp lại trụ sở làm việc, xử lý tài sản công dôi dư theo quy định.",
            "Tỷ lệ giải ngân vốn đầu tư công đến ngày 30 tháng 9 năm {year} đạt {pct}% kế hoạch vốn được giao.",
            "Thuyết minh chi tiết các khoản chi thường xuyên và chi đầu tư phát triển kèm theo báo cáo.",
            "Thực hiện công khai dự toán, quyết toán ngân sách theo quy định của {cite}.",
        ),
        ("l83", "nd163", "l01ns", "l39"),
    ),
    Domain(
        "datdai",
        1.3,
        (
            "thu hồi đất",
            "cấp giấy chứng nhận quyền sử dụng đất",
            "bồi thường, hỗ trợ, tái định cư",
            "quy hoạch, kế hoạch sử dụng đất",
            "bảng giá đất",
            "chuyển mục đích sử dụng đất",
            "đấu giá quyền sử dụng đất",
        ),
        ("đất đai", "thu hồi đất", "giá đất", "bồi thường", "tái định cư", "quy hoạch sử dụng đất"),
        (
            "Thu hồi {count} ha đất nông nghiệp để thực hiện dự án theo kế hoạch sử dụng đất năm {year}.",
            "Phương án bồi thường, hỗ trợ được niêm yết công khai tại trụ sở Ủy ban nhân dân cấp xã.",
            "Hộ gia đình, cá nhân có đất bị thu hồi được bố trí tái định cư tại khu dân cư mới.",
            "Văn phòng đăng ký đất đai cập nhật biến động vào hồ sơ địa chính và cơ sở dữ liệu đất đai.",
            "Giá đất cụ thể được xác định theo phương pháp so sánh và được Hội đồng thẩm định giá đất thông qua.",
            "Kiên quyết xử lý các trường hợp lấn chiếm, sử dụng đất sai mục đích theo {cite}.",
            "Hoàn thành cấp giấy chứng nhận lần đầu cho {pct}% diện tích đủ điều kiện.",
            "Tổ chức đối thoại với người sử dụng đất có ý kiến chưa đồng thuận về phương án bồi thường.",
        ),
        ("l13", "l45", "l31"),
    ),
    Domain(
        "yte",
        1.1,
        (
            "phòng, chống dịch bệnh",
            "tiêm chủng mở rộng",
            "khám bệnh, chữa bệnh bảo hiểm y tế",
            "nâng cao chất lượng y tế cơ sở",
            "bảo đảm an toàn thực phẩm",
            "cung ứng thuốc, vật tư y tế",
        ),
        ("y tế", "tiêm chủng", "bảo hiểm y tế", "khám chữa bệnh", "phòng chống dịch", "trạm y tế"),
        (
            "Tỷ lệ trẻ em dưới 1 tuổi được tiêm chủng đầy đủ các loại vắc xin đạt {pct}%.",
            "Các cơ sở khám bệnh, chữa bệnh bảo đảm đủ thuốc, vật tư, sinh phẩm phục vụ người bệnh.",
            "Tăng cường giám sát dịch bệnh tại cộng đồng, phát hiện sớm và khoanh vùng xử lý ổ dịch.",
            "Tỷ lệ dân số tham gia bảo hiểm y tế đạt {pct}%, vượt chỉ tiêu được giao.",
            "Đầu tư trang thiết bị cho {count} trạm y tế xã theo chuẩn quốc gia về y tế cơ sở.",
            "Thực hiện khám bệnh, chữa bệnh theo {cite} và hướng dẫn chuyên môn của Bộ Y tế.",
            "Kiểm tra an toàn thực phẩm tại các bếp ăn tập thể và cơ sở kinh doanh dịch vụ ăn uống.",
        ),
        ("l15",),
    ),
    Domain(
        "giaoduc",
        1.1,
        (
            "tuyển sinh đầu cấp",
            "thực hiện chương trình giáo dục phổ thông 2018",
            "tổ chức kỳ thi tốt nghiệp trung học phổ thông",
            "phát triển đội ngũ nhà giáo",
            "xây dựng trường đạt chuẩn quốc gia",
            "cung cấp sách giáo khoa",
        ),
        ("giáo dục", "tuyển sinh", "giáo viên", "trường học", "thi tốt nghiệp", "sách giáo khoa"),
        (
            "Năm học {year} - {next}, toàn ngành có {count} trường đạt chuẩn quốc gia, tăng so với năm học trước.",
            "Bố trí đủ giáo viên các môn học bắt buộc theo chương trình giáo dục phổ thông.",
            "Tổ chức kỳ thi an toàn, nghiêm túc, đúng quy chế; tỷ lệ học sinh tốt nghiệp đạt {pct}%.",
            "Rà soát cơ sở vật chất, phòng học bộ môn và thiết bị dạy học tối thiểu.",
            "Thực hiện chế độ, chính sách đối với nhà giáo và học sinh theo {cite}.",
            "Công tác tuyển sinh thực hiện trực tuyến trên hệ thống của ngành giáo dục.",
        ),
        ("l43",),
    ),
    Domain(
        "noivu",
        1.3,
        (
            "tuyển dụng công chức",
            "bổ nhiệm cán bộ lãnh đạo, quản lý",
            "nâng bậc lương thường xuyên",
            "đào tạo, bồi dưỡng cán bộ, công chức",
            "sắp xếp đơn vị hành chính cấp xã",
            "kiện toàn tổ chức bộ máy",
            "quản lý vị trí việc làm",
            "thi đua, khen thưởng",
        ),
        (
            "cán bộ",
            "công chức",
            "viên chức",
            "tổ chức bộ máy",
            "thi đua khen thưởng",
            "vị trí việc làm",
        ),
        (
            "Bổ nhiệm có thời hạn 05 năm kể từ ngày Quyết định có hiệu lực.",
            "Thực hiện nâng bậc lương thường xuyên cho {count} công chức, viên chức đủ điều kiện.",
            "Tuyển dụng công chức thông qua thi tuyển, bảo đảm công khai, minh bạch theo {cite}.",
            "Sắp xếp tổ chức bộ máy tinh gọn, hoạt động hiệu lực, hiệu quả; giảm đầu mối bên trong.",
            "Khen thưởng {count} tập thể và cá nhân có thành tích xuất sắc trong phong trào thi đua.",
            "Cử cán bộ tham gia lớp bồi dưỡng kiến thức quản lý nhà nước chương trình chuyên viên chính.",
            "Xây dựng đề án vị trí việc làm và cơ cấu ngạch công chức, chức danh nghề nghiệp viên chức.",
            "Hồ sơ cán bộ được cập nhật vào cơ sở dữ liệu cán bộ, công chức, viên chức.",
        ),
        ("l22", "l58", "nd138"),
    ),
    Domain(
        "cchc",
        1.0,
        (
            "cải cách hành chính",
            "kiểm soát thủ tục hành chính",
            "thực hiện cơ chế một cửa, một cửa liên thông",
            "đo lường sự hài lòng của người dân",
            "nâng cao chỉ số cải cách hành chính",
            "cắt giảm điều kiện kinh doanh",
        ),
        ("cải cách hành chính", "thủ tục hành chính", "một cửa", "chỉ số hài lòng", "PAR INDEX"),
        (
            "Công bố, công khai đầy đủ thủ tục hành chính trên Cơ sở dữ liệu quốc gia về thủ tục hành chính.",
            "Tỷ lệ hồ sơ giải quyết đúng hạn đạt {pct}%; xin lỗi tổ chức, cá nhân đối với hồ sơ trễ hạn.",
            "Bộ phận Một cửa tiếp nhận {count} hồ sơ trong kỳ, trong đó hồ sơ trực tuyến chiếm phần lớn.",
            "Đơn giản hóa thành phần hồ sơ, rút ngắn thời gian giải quyết theo {cite}.",
            "Tổ chức khảo sát mức độ hài lòng của người dân, tổ chức đối với sự phục vụ của cơ quan hành chính.",
        ),
        ("nd45", "l80"),
    ),
    Domain(
        "nongnghiep",
        1.0,
        (
            "xây dựng nông thôn mới",
            "phát triển sản xuất nông nghiệp",
            "chuyển đổi cơ cấu cây trồng",
            "phòng, chống dịch bệnh trên gia súc",
            "trồng và bảo vệ rừng",
            "hỗ trợ hợp tác xã nông nghiệp",
        ),
        ("nông thôn mới", "nông nghiệp", "cây trồng", "vật nuôi", "lâm nghiệp", "hợp tác xã"),
        (
            "Đến năm {year}, có {count} xã đạt chuẩn nông thôn mới, {pct}% thôn, bản có đường giao thông cứng hóa.",
            "Diện tích gieo trồng vụ Đông Xuân đạt kế hoạch; năng suất lúa bình quân tăng so với cùng kỳ.",
            "Tiêm phòng vắc xin cho đàn gia súc, gia cầm; tiêu độc, khử trùng chuồng trại định kỳ.",
            "Hỗ trợ giống cây trồng, vật tư nông nghiệp cho hộ nghèo theo {cite}.",
            "Trồng mới {count} ha rừng tập trung; tỷ lệ che phủ rừng đạt {pct}%.",
            "Phát triển sản phẩm OCOP gắn với chuỗi giá trị và tiêu thụ nông sản.",
        ),
        (),
    ),
    Domain(
        "thientai",
        0.8,
        (
            "phòng, chống thiên tai và tìm kiếm cứu nạn",
            "ứng phó với bão, lũ",
            "khắc phục hậu quả mưa lũ",
            "phòng, chống hạn hán, xâm nhập mặn",
            "bảo đảm an toàn hồ đập",
        ),
        ("thiên tai", "bão lũ", "sạt lở", "hạn mặn", "cứu nạn", "hồ đập"),
        (
            "Triển khai phương án sơ tán {count} hộ dân ra khỏi khu vực có nguy cơ sạt lở đất, lũ quét.",
            "Duy trì nghiêm chế độ trực ban 24/24 giờ, theo dõi chặt chẽ diễn biến mưa, lũ.",
            "Kiểm tra an toàn hồ chứa, đê điều; chuẩn bị đầy đủ vật tư, phương tiện theo phương châm bốn tại chỗ.",
            "Thiệt hại ước tính {amount} triệu đồng; hỗ trợ kịp thời các hộ có nhà bị sập, hư hỏng nặng.",
            "Thực hiện theo {cite} và chỉ đạo của Ban Chỉ huy phòng, chống thiên tai và tìm kiếm cứu nạn.",
        ),
        ("l33tt",),
    ),
    Domain(
        "xaydung",
        1.2,
        (
            "đầu tư xây dựng công trình giao thông",
            "quản lý trật tự xây dựng",
            "cấp giấy phép xây dựng",
            "phát triển nhà ở xã hội",
            "quy hoạch chung đô thị",
            "quản lý chất lượng công trình",
        ),
        (
            "xây dựng",
            "đầu tư công",
            "giấy phép xây dựng",
            "quy hoạch đô thị",
            "nhà ở xã hội",
            "giao thông",
        ),
        (
            "Tổng mức đầu tư dự án là {amount} triệu đồng từ nguồn vốn ngân sách tỉnh giai đoạn {year} - {next}.",
            "Chủ đầu tư tổ chức nghiệm thu, bàn giao công trình đưa vào sử dụng đúng quy định của {cite}.",
            "Xử lý nghiêm các công trình xây dựng không phép, sai phép trên địa bàn {place}.",
            "Thẩm định hồ sơ thiết kế xây dựng triển khai sau thiết kế cơ sở trong thời hạn quy định.",
            "Tiến độ thi công đạt {pct}% khối lượng; nhà thầu cam kết hoàn thành trước ngày 31 tháng 12 năm {year}.",
            "Quy hoạch chung được lấy ý kiến cộng đồng dân cư và các cơ quan, tổ chức có liên quan.",
        ),
        ("l50", "l39"),
    ),
    Domain(
        "thanhtra",
        0.9,
        (
            "thanh tra, kiểm tra công vụ",
            "giải quyết khiếu nại, tố cáo",
            "phòng, chống tham nhũng, tiêu cực",
            "tiếp công dân định kỳ",
            "kê khai tài sản, thu nhập",
            "kiểm tra việc chấp hành pháp luật",
        ),
        (
            "thanh tra",
            "khiếu nại",
            "tố cáo",
            "phòng chống tham nhũng",
            "tiếp công dân",
            "kê khai tài sản",
        ),
        (
            "Tiếp {count} lượt công dân đến kiến nghị, phản ánh; tiếp nhận và phân loại đơn thư đúng quy định.",
            "Kết luận thanh tra kiến nghị thu hồi {amount} triệu đồng nộp ngân sách nhà nước.",
            "Chỉ đạo giải quyết dứt điểm các vụ việc khiếu nại đông người, phức tạp, kéo dài.",
            "Thực hiện kê khai, công khai bản kê khai tài sản, thu nhập theo {cite}.",
            "Kiểm tra công vụ đột xuất việc chấp hành kỷ luật, kỷ cương hành chính tại các đơn vị.",
        ),
        (),
    ),
    Domain(
        "laodong",
        1.0,
        (
            "giảm nghèo bền vững",
            "giải quyết việc làm",
            "thực hiện chính sách người có công",
            "bảo trợ xã hội",
            "đào tạo nghề cho lao động nông thôn",
            "bảo hiểm xã hội tự nguyện",
        ),
        (
            "giảm nghèo",
            "việc làm",
            "người có công",
            "bảo trợ xã hội",
            "đào tạo nghề",
            "an sinh xã hội",
        ),
        (
            "Tỷ lệ hộ nghèo theo chuẩn nghèo đa chiều giảm còn {pct} phần nghìn; hộ cận nghèo giảm tương ứng.",
            "Giải quyết việc làm mới cho {count} lao động, trong đó đi làm việc ở nước ngoài theo hợp đồng.",
            "Chi trả trợ cấp ưu đãi người có công kịp thời, đầy đủ, đúng đối tượng.",
            "Hỗ trợ tiền điện, tiền nhà cho hộ nghèo và đối tượng bảo trợ xã hội theo {cite}.",
            "Tổ chức các lớp đào tạo nghề ngắn hạn gắn với nhu cầu của doanh nghiệp trên địa bàn.",
        ),
        (),
    ),
    Domain(
        "moitruong",
        0.8,
        (
            "bảo vệ môi trường",
            "quản lý chất thải rắn sinh hoạt",
            "quan trắc môi trường",
            "xử lý nước thải",
            "cấp giấy phép môi trường",
        ),
        ("môi trường", "chất thải", "nước thải", "quan trắc", "giấy phép môi trường"),
        (
            "Tỷ lệ chất thải rắn sinh hoạt đô thị được thu gom, xử lý đạt {pct}%.",
            "Cơ sở sản xuất phải vận hành hệ thống xử lý nước thải bảo đảm quy chuẩn kỹ thuật.",
            "Kết quả quan trắc cho thấy chất lượng không khí tại các khu dân cư ở mức tốt.",
            "Cấp giấy phép môi trường cho {count} cơ sở theo {cite}.",
            "Xử lý nghiêm hành vi xả thải trái phép ra môi trường, kênh rạch và sông.",
        ),
        ("l72",),
    ),
    Domain(
        "anninh",
        0.8,
        (
            "bảo đảm an ninh trật tự",
            "bảo đảm trật tự an toàn giao thông",
            "phòng cháy, chữa cháy",
            "diễn tập khu vực phòng thủ",
            "tuyển chọn và gọi công dân nhập ngũ",
        ),
        (
            "an ninh trật tự",
            "an toàn giao thông",
            "phòng cháy chữa cháy",
            "quốc phòng",
            "nghĩa vụ quân sự",
        ),
        (
            "Tai nạn giao thông giảm trên cả ba tiêu chí so với cùng kỳ năm {year}.",
            "Kiểm tra an toàn phòng cháy, chữa cháy tại {count} cơ sở, chợ và khu dân cư.",
            "Tổ chức diễn tập khu vực phòng thủ bảo đảm an toàn tuyệt đối về người và vũ khí, trang bị.",
            "Hoàn thành chỉ tiêu giao quân năm {year}, bảo đảm chất lượng và đúng luật.",
            "Xây dựng phong trào toàn dân bảo vệ an ninh Tổ quốc theo {cite}.",
        ),
        (),
    ),
)

GENERIC = (
    "Giao Văn phòng chủ trì, phối hợp với các cơ quan, đơn vị liên quan theo dõi, đôn đốc việc thực hiện.",
    "Thủ trưởng các cơ quan, đơn vị chịu trách nhiệm trước cấp trên về kết quả thực hiện nhiệm vụ được giao.",
    "Trong quá trình thực hiện, nếu có khó khăn, vướng mắc, các cơ quan, đơn vị phản ánh kịp thời để được hướng dẫn, giải quyết.",
    "Các cơ quan, đơn vị tổng hợp, báo cáo kết quả thực hiện trước ngày 15 tháng 12 năm {year}.",
    "Kinh phí thực hiện được bố trí từ nguồn ngân sách nhà nước theo phân cấp hiện hành và các nguồn hợp pháp khác.",
    "Tăng cường công tác kiểm tra, giám sát; kịp thời chấn chỉnh những tồn tại, hạn chế trong quá trình thực hiện.",
    "Đẩy mạnh công tác thông tin, tuyên truyền để cán bộ, công chức, viên chức và Nhân dân biết, thực hiện.",
    "Văn bản điện tử gửi đi được ký số bằng chữ ký số chuyên dùng Chính phủ và gửi, nhận qua Trục liên thông văn bản quốc gia.",
    "Việc lập hồ sơ và nộp lưu hồ sơ, tài liệu vào Lưu trữ cơ quan thực hiện theo quy định hiện hành.",
    "Các nội dung khác không quy định tại văn bản này thực hiện theo quy định của pháp luật hiện hành.",
    "Định kỳ 06 tháng, các đơn vị báo cáo tình hình thực hiện về {org} để tổng hợp.",
    "Người đứng đầu cơ quan, đơn vị chịu trách nhiệm chỉ đạo, tổ chức thực hiện nghiêm túc, hiệu quả.",
    "Bảo đảm sự phối hợp chặt chẽ, thống nhất giữa các cấp, các ngành trong tổ chức thực hiện.",
    "Thực hiện theo đúng quy định tại {cite}.",
    "Đề nghị các cơ quan, đơn vị quan tâm, phối hợp thực hiện.",
    "Tiếp tục thực hiện có hiệu quả các nhiệm vụ, giải pháp đã đề ra, phấn đấu hoàn thành các chỉ tiêu năm {year}.",
    "Phân công rõ người, rõ việc, rõ thời gian hoàn thành và rõ trách nhiệm của từng cơ quan, đơn vị.",
    "Kết quả thực hiện là tiêu chí đánh giá, xếp loại thi đua cuối năm của tập thể và cá nhân.",
    "Văn phòng theo dõi, tổng hợp tình hình và tham mưu xử lý các vấn đề phát sinh vượt thẩm quyền.",
    "Thời gian thực hiện từ tháng 01 đến hết tháng 12 năm {year}.",
    "Các cơ quan, đơn vị căn cứ chức năng, nhiệm vụ được giao xây dựng kế hoạch cụ thể để triển khai.",
    "Nội dung chi và mức chi thực hiện theo quy định về chế độ công tác phí, chi hội nghị hiện hành.",
    "Thông tin chi tiết liên hệ Văn phòng, số điện thoại 024.3852.{phone}.",
    "Yêu cầu các cơ quan, đơn vị nghiêm túc triển khai, thực hiện.",
)

_SUBJECTS = {
    "QĐ": (
        "Về việc phê duyệt Kế hoạch {topic} năm {year}",
        "Về việc ban hành Quy chế {topic}",
        "Về việc thành lập Ban Chỉ đạo {topic}",
        "Về việc kiện toàn Tổ công tác {topic}",
        "Về việc phân bổ kinh phí thực hiện {topic} năm {year}",
        "Về việc khen thưởng tập thể, cá nhân có thành tích trong {topic}",
        "Về việc công bố kết quả {topic} năm {year}",
    ),
    "CV": (
        "V/v triển khai {topic}",
        "V/v đôn đốc thực hiện {topic}",
        "V/v góp ý dự thảo văn bản về {topic}",
        "V/v báo cáo tình hình {topic}",
        "V/v hướng dẫn {topic}",
        "V/v tăng cường {topic}",
        "V/v rà soát, tổng hợp số liệu {topic}",
        "V/v đề nghị cung cấp thông tin về {topic}",
    ),
    "KH": (
        "Triển khai {topic} năm {year}",
        "Thực hiện {topic} giai đoạn {year} - {y5}",
        "Kiểm tra {topic} năm {year}",
    ),
    "TB": (
        "Kết luận của lãnh đạo {org} tại cuộc họp về {topic}",
        "Về việc {topic}",
        "Ý kiến chỉ đạo về {topic}",
    ),
    "TTr": (
        "Về việc đề nghị phê duyệt {topic}",
        "Về việc đề nghị bổ sung kinh phí {topic} năm {year}",
    ),
    "NĐ": ("Quy định chi tiết về {topic}", "Sửa đổi, bổ sung một số điều về {topic}"),
    "TT": ("Hướng dẫn {topic}", "Quy định chi tiết về {topic}"),
    "NQ": (
        "Về {topic}",
        "Quy định mức chi cho {topic}",
        "Về nhiệm vụ phát triển kinh tế - xã hội năm {next}",
    ),
    "CT": ("Về tăng cường {topic}", "Về đẩy mạnh {topic}"),
    "CĐ": ("Về việc tập trung chỉ đạo {topic}",),
    "ĐA": ("{Topic} giai đoạn {year} - {y5}",),
    "QC": ("Phối hợp trong {topic}", "Làm việc về {topic}"),
    "GM": ("Dự hội nghị về {topic}", "Họp bàn về {topic}"),
    "CTr": ("Công tác năm {year}", "Hành động thực hiện {topic}"),
    "HD": ("Thực hiện {topic}", "Về {topic} năm {year}"),
    "BB": ("Họp về {topic}", "Kiểm tra {topic}", "Nghiệm thu {topic}"),
    "HĐ": ("Thực hiện gói thầu tư vấn {topic}",),
}
_QUARTERS = ("I", "II", "III", "IV")


def subject(
    rng: random.Random, doc_type: str, domain: Domain, date: str, issuer: Issuer
) -> tuple[str, str]:
    """A trích yếu for the type and domain, and the period a report covers ("" otherwise):
    the year, quarter or month the report is dated in (a January report covers December)."""
    topic = rng.choice(domain.topics)
    year, month = int(date[:4]), int(date[5:7])
    period = ""
    if doc_type == "BC":
        roll = rng.random()
        if roll < 0.5:
            period, text = "năm", f"Kết quả thực hiện {topic} năm {year}"
        elif roll < 0.75:
            period, text = (
                "quý",
                f"Tình hình thực hiện {topic} quý {_QUARTERS[(month - 1) // 3]} năm {year}",
            )
        elif roll < 0.9:
            shown = f"tháng {month - 1} năm {year}" if month > 1 else f"tháng 12 năm {year - 1}"
            period, text = "tháng", f"Kết quả {topic} {shown}"
        else:
            text = f"Kết quả kiểm tra {topic}"
        return text, period
    template = rng.choice(_SUBJECTS[doc_type])
    text = template.format(
        topic=topic,
        Topic=topic[0].upper() + topic[1:],
        year=year,
        next=year + 1,
        y5=year + 5,
        org=issuer.name,
    )
    return text, period


# --- For the noise and the timing queries -----------------------------------------------------

_VOWELS = "aăâeêioôơuưy"
_TONES = ("\u0300", "\u0301", "\u0303", "\u0309", "\u0323")
VIETNAMESE_LETTERS = "đĐ" + "".join(
    unicodedata.normalize("NFC", base + tone)
    for base in _VOWELS + _VOWELS.upper()
    for tone in ("", *_TONES)
)
COMMON_QUERIES = (
    "quyết định",
    "quyet dinh",
    "ubnd",
    "năm 2023",
    "cong van",
    "báo cáo",
    "ke hoach",
    "thực hiện",
    "so",
    "nam",
    "tinh",
    "van ban",
    "ho so",
    "ngan sach nha nuoc",
)
MISSES = (
    "qyuet dinh",
    "chuyen doi sô",
    "khong co ket qua nay",
    "zzz",
    "ngan sach xa hoi chu nghia 1890",
)


# --- Kept for bench/run.py --------------------------------------------------------------------


def generate(count: int, seed: int = 7) -> Iterator[SyntheticRecord]:
    """The corpus of ``bench.search_corpus`` (``title`` is the trích yếu); forwarded here for
    bench/run.py, which imports this module by its old name."""
    from bench import search_corpus  # search_corpus builds on this module's vocabulary

    return search_corpus.generate(count, seed)


def queries(count: int, seed: int = 7) -> list[str]:
    from bench import search_corpus

    return search_corpus.latency_queries(count, seed)


def __getattr__(name: str) -> object:
    if name == "SyntheticRecord":  # the old record type; bench/run.py names it in a signature
        from bench.search_corpus import CorpusRecord

        return CorpusRecord
    raise AttributeError(name)
