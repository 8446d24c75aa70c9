"""Rendered Vietnamese administrative documents with known metadata, for bench.quality.

Deterministic: the same 48 documents every run. Every third one is held out of the set the
metadata extractor is tuned on.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from PIL import Image

from ingest.sample_scans import SampleDocument, render_page

FONT_DIR = Path("/usr/share/fonts/truetype")
FONTS = {
    "Liberation Serif": FONT_DIR / "liberation2/LiberationSerif-Regular.ttf",
    "Noto Serif": FONT_DIR / "noto/NotoSerif-Regular.ttf",
    "DejaVu Serif": FONT_DIR / "dejavu/DejaVuSerif.ttf",
}
BOLD_FONTS = {
    "Liberation Serif": FONT_DIR / "liberation2/LiberationSerif-Bold.ttf",
    "Noto Serif": FONT_DIR / "noto/NotoSerif-Bold.ttf",
    "DejaVu Serif": FONT_DIR / "dejavu/DejaVuSerif-Bold.ttf",
}

# (parent organ, issuer, notation code, place). The last four are not in the built-in list of
# issuing bodies (ingest/agency_names.txt) by name: their marks must be read, not put back.
ISSUERS = [
    ("ỦY BAN NHÂN DÂN", "TỈNH HÒA BÌNH", "UBND", "Hòa Bình"),
    ("BỘ NỘI VỤ", "CỤC VĂN THƯ VÀ LƯU TRỮ NHÀ NƯỚC", "VTLTNN", "Hà Nội"),
    ("", "VĂN PHÒNG CHÍNH PHỦ", "VPCP", "Hà Nội"),
    ("ỦY BAN NHÂN DÂN", "THÀNH PHỐ ĐÀ NẴNG", "UBND", "Đà Nẵng"),
    ("UBND TỈNH NGHỆ AN", "SỞ GIÁO DỤC VÀ ĐÀO TẠO", "SGDĐT", "Nghệ An"),
    ("", "BỘ TÀI CHÍNH", "BTC", "Hà Nội"),
    ("UBND THÀNH PHỐ CẦN THƠ", "SỞ Y TẾ", "SYT", "Cần Thơ"),
    ("", "BỘ THÔNG TIN VÀ TRUYỀN THÔNG", "BTTTT", "Hà Nội"),
    ("ỦY BAN NHÂN DÂN", "HUYỆN LƯƠNG SƠN", "UBND", "Lương Sơn"),
    ("UBND TỈNH THỪA THIÊN HUẾ", "SỞ NỘI VỤ", "SNV", "Thừa Thiên Huế"),
    ("BỘ NỘI VỤ", "VỤ TỔ CHỨC CÁN BỘ", "TCCB", "Hà Nội"),
    ("ỦY BAN NHÂN DÂN", "TỈNH QUẢNG NINH", "UBND", "Quảng Ninh"),
    ("", "BỘ Y TẾ", "BYT", "Hà Nội"),
    ("UBND TỈNH LÂM ĐỒNG", "SỞ TÀI NGUYÊN VÀ MÔI TRƯỜNG", "STNMT", "Lâm Đồng"),
    ("", "BỘ KẾ HOẠCH VÀ ĐẦU TƯ", "BKHĐT", "Hà Nội"),
    ("UBND TỈNH BẮC NINH", "SỞ TƯ PHÁP", "STP", "Bắc Ninh"),
    ("ỦY BAN NHÂN DÂN", "XÃ TÂN LẬP", "UBND", "Tân Lập"),
    ("SỞ Y TẾ TỈNH KHÁNH HÒA", "BỆNH VIỆN ĐA KHOA TỈNH", "BVĐK", "Khánh Hòa"),
    ("ĐẠI HỌC QUỐC GIA HÀ NỘI", "TRƯỜNG ĐẠI HỌC KHOA HỌC XÃ HỘI VÀ NHÂN VĂN", "XHNV", "Hà Nội"),
    ("UBND HUYỆN MỘC CHÂU", "PHÒNG NÔNG NGHIỆP VÀ PHÁT TRIỂN NÔNG THÔN", "NNPTNT", "Mộc Châu"),
]

# (type name as printed, abbreviation, subjects)
TYPES = [
    (
        "QUYẾT ĐỊNH",
        "QĐ",
        [
            "Về việc phê duyệt kế hoạch chuyển đổi số năm {year}",
            "Về việc ban hành Quy chế công tác văn thư, lưu trữ",
            "Về việc thành lập Hội đồng xác định giá trị tài liệu",
        ],
    ),
    (
        "BÁO CÁO",
        "BC",
        [
            "Tổng kết công tác văn thư, lưu trữ năm {year}",
            "Kết quả số hóa tài liệu lưu trữ",
        ],
    ),
    (
        "KẾ HOẠCH",
        "KH",
        [
            "Thu thập hồ sơ, tài liệu vào Lưu trữ lịch sử năm {year}",
            "Chỉnh lý tài liệu tồn đọng",
        ],
    ),
    (
        "TỜ TRÌNH",
        "TTr",
        [
            "Đề nghị phê duyệt danh mục hồ sơ năm {year}",
            "Về việc đề nghị cấp kinh phí số hóa",
        ],
    ),
    (
        "THÔNG BÁO",
        "TB",
        [
            "Kết luận của Chủ tịch tại cuộc họp giao ban",
            "Lịch tiếp công dân tháng {month} năm {year}",
        ],
    ),
    (
        "BIÊN BẢN",
        "BB",
        [
            "Bàn giao hồ sơ, tài liệu",
            "Họp Hội đồng xác định giá trị tài liệu",
        ],
    ),
    (
        "CHỈ THỊ",
        "CT",
        [
            "Về tăng cường công tác văn thư, lưu trữ",
            "Về việc đẩy mạnh dịch vụ công trực tuyến",
        ],
    ),
    (
        "NGHỊ QUYẾT",
        "NQ",
        [
            "Về nhiệm vụ phát triển kinh tế - xã hội năm {year}",
        ],
    ),
    (
        "HƯỚNG DẪN",
        "HD",
        [
            "Lập hồ sơ điện tử và nộp lưu vào Lưu trữ cơ quan",
        ],
    ),
    (
        "",
        "CV",
        [
            "V/v triển khai trục liên thông văn bản quốc gia",
            "V/v báo cáo tình hình thực hiện chế độ báo cáo định kỳ năm {year}",
            "V/v góp ý dự thảo Thông tư quy định về lưu trữ tài liệu điện tử",
        ],
    ),
]
BODY = [
    "Căn cứ Nghị định số 30/2020/NĐ-CP của Chính phủ về công tác văn thư;",
    "Căn cứ Luật Lưu trữ ngày 21 tháng 6 năm 2024;",
    "Xét đề nghị của Thủ trưởng các cơ quan, đơn vị có liên quan.",
    "Các cơ quan, đơn vị chịu trách nhiệm thi hành văn bản này.",
]
SIGNERS = ["CHỦ TỊCH", "GIÁM ĐỐC", "BỘ TRƯỞNG", "CỤC TRƯỞNG", "CHÁNH VĂN PHÒNG"]


@dataclass(frozen=True)
class MetadataCase:
    index: int
    document: SampleDocument
    expected: dict[str, str]
    font: str
    dpi: int
    tilt: float
    noise_seed: int
    jpeg: bool

    @property
    def held_out(self) -> bool:
        return self.index % 3 == 2

    @property
    def file_name(self) -> str:
        return self.document.file_name

    @property
    def type_label(self) -> str:
        return self.document.type_name or "CÔNG VĂN"

    @property
    def issuer_label(self) -> str:
        return self.expected["issuer"]

    def write(self, folder: Path) -> Path:
        fonts = (FONTS[self.font], BOLD_FONTS[self.font])
        page = render_page(self.document, self.dpi, self.noise_seed, fonts)
        if self.tilt:
            page = page.rotate(
                self.tilt, expand=True, fillcolor="white", resample=Image.Resampling.BICUBIC
            )
        target = folder / self.file_name
        if self.jpeg:
            page.save(target, dpi=(self.dpi, self.dpi), quality=75)
        else:
            page.save(target, dpi=(self.dpi, self.dpi))
        return target


def _place_date(place: str, day: date) -> str:
    # Decree 30: days under 10 and the months January and February take a leading zero.
    month = f"{day.month:02d}" if day.month < 3 else str(day.month)
    return f"{place}, ngày {day.day:02d} tháng {month} năm {day.year}"


def metadata_cases(count: int = 60) -> list[MetadataCase]:
    """``count`` documents whose issuer, type, font, resolution, tilt and noise are drawn
    independently, so that the held-out third (``MetadataCase.held_out``) is no easier or
    narrower than the rest."""
    rng = random.Random(30)
    fonts = [name for name, path in FONTS.items() if path.is_file() and BOLD_FONTS[name].is_file()]
    cases = []
    for index in range(count):
        parent, issuer, code, place = rng.choice(ISSUERS)
        type_name, abbreviation, subjects = rng.choice(TYPES)
        day = date(rng.randint(2015, 2025), rng.randint(1, 12), rng.randint(1, 28))
        subject = rng.choice(subjects).format(year=day.year, month=day.month)
        serial = rng.randint(1, 4999)
        if abbreviation == "CV":
            number = f"{serial}/{code}-{rng.choice(['VP', 'KHTC', 'TCCB', 'TTĐT'])}"
        else:
            number = f"{serial}/{abbreviation}-{code}"
        jpeg = rng.random() < 0.2
        document = SampleDocument(
            f"doc-{index:02d}." + ("jpg" if jpeg else "png"),
            parent,
            issuer,
            f"Số: {number}",
            _place_date(place, day),
            type_name,
            subject,
            BODY,
            rng.choice(SIGNERS),
        )
        expected = {
            "number": number,
            "doc_type": abbreviation,
            "type_name": type_name,
            "issuer": " ".join(part for part in (parent, issuer) if part),
            "place": place,
            "date": day.isoformat(),
            "subject": subject,
        }
        cases.append(
            MetadataCase(
                index,
                document,
                expected,
                rng.choice(fonts),
                rng.choice([200, 300]),
                rng.choice([-2.0, -1.0, 1.0, 2.0]) if rng.random() < 0.35 else 0.0,
                index,
                jpeg,
            )
        )
    return cases
