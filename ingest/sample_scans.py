"""Render sample Vietnamese administrative documents as scans, for the demo, tests and benches.

The pages follow the Decree 30/2020/NĐ-CP layout (issuer and number top left, national motto
top right, type name and subject centred). Fonts must carry Vietnamese glyphs: DejaVu, Noto or
Liberation 2 (Liberation 1.x draws boxes for them).

    python -m ingest.sample_scans OUT_DIR
"""

from __future__ import annotations

import random
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageFont

FONT_CANDIDATES = {
    False: [
        "/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf",
        "/usr/share/fonts/truetype/noto/NotoSerif-Regular.ttf",
        "/usr/share/fonts/truetype/liberation2/LiberationSerif-Regular.ttf",
    ],
    True: [
        "/usr/share/fonts/truetype/dejavu/DejaVuSerif-Bold.ttf",
        "/usr/share/fonts/truetype/noto/NotoSerif-Bold.ttf",
        "/usr/share/fonts/truetype/liberation2/LiberationSerif-Bold.ttf",
    ],
}


def find_font(bold: bool = False) -> Path:
    for candidate in FONT_CANDIDATES[bold]:
        if Path(candidate).is_file():
            return Path(candidate)
    style = ":style=Bold" if bold else ""
    try:
        found = subprocess.run(
            ["fc-match", "-f", "%{file}", f"DejaVu Serif{style}:lang=vi"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        found = ""
    if not found:
        raise FileNotFoundError(
            "no font with Vietnamese glyphs; install fonts-dejavu-core or fonts-noto-core"
        )
    return Path(found)


@dataclass(frozen=True)
class SampleDocument:
    file_name: str
    issuer_parent: str
    issuer: str
    number: str
    place_date: str
    type_name: str
    subject: str
    body: list[str]
    signer: str


SAMPLES = [
    SampleDocument(
        "quyet-dinh-1482.png",
        "ỦY BAN NHÂN DÂN",
        "TỈNH HÒA BÌNH",
        "Số: 1482/QĐ-UBND",
        "Hòa Bình, ngày 17 tháng 02 năm 2023",
        "QUYẾT ĐỊNH",
        "Về việc phê duyệt kế hoạch chuyển đổi số năm 2023",
        [
            "Căn cứ Luật Tổ chức chính quyền địa phương ngày 19 tháng 6 năm 2015;",
            "Căn cứ Nghị định số 30/2020/NĐ-CP của Chính phủ về công tác văn thư;",
            "Xét đề nghị của Giám đốc Sở Thông tin và Truyền thông.",
            "Điều 1. Phê duyệt kế hoạch chuyển đổi số của tỉnh năm 2023.",
            "Điều 2. Sở Nội vụ hướng dẫn việc số hóa tài liệu lưu trữ.",
            "Điều 3. Quyết định này có hiệu lực kể từ ngày ký.",
        ],
        "CHỦ TỊCH",
    ),
    SampleDocument(
        "cong-van-7816.jpg",
        "VĂN PHÒNG CHÍNH PHỦ",
        "",
        "Số: 7816/VPCP-TTĐT",
        "Hà Nội, ngày 30 tháng 9 năm 2015",
        "",
        "V/v triển khai trục liên thông văn bản quốc gia",
        [
            "Kính gửi: Các Bộ, cơ quan ngang Bộ, cơ quan thuộc Chính phủ.",
            "Thực hiện chỉ đạo của Thủ tướng Chính phủ về gửi nhận văn bản điện tử,",
            "Văn phòng Chính phủ đề nghị các cơ quan kết nối hệ thống quản lý văn bản",
            "với trục liên thông văn bản quốc gia trước ngày 31 tháng 12 năm 2015.",
            "Văn bản điện tử gửi đi phải được ký số theo quy định.",
        ],
        "BỘ TRƯỞNG, CHỦ NHIỆM",
    ),
    SampleDocument(
        "bao-cao-215.tif",
        "BỘ NỘI VỤ",
        "CỤC VĂN THƯ VÀ LƯU TRỮ NHÀ NƯỚC",
        "Số: 215/BC-VTLTNN",
        "Hà Nội, ngày 05 tháng 12 năm 2024",
        "BÁO CÁO",
        "Tổng kết công tác văn thư, lưu trữ năm 2024",
        [
            "Năm 2024, công tác lưu trữ tài liệu điện tử tiếp tục được đẩy mạnh.",
            "Các cơ quan đã số hóa hồ sơ có thời hạn bảo quản vĩnh viễn.",
            "Việc tiêu hủy tài liệu hết giá trị được thực hiện đúng quy trình.",
            "Kho lưu trữ lịch sử đã tiếp nhận tài liệu nộp lưu của các đơn vị.",
        ],
        "CỤC TRƯỞNG",
    ),
]


def render_page(
    doc: SampleDocument,
    dpi: int = 200,
    seed: int = 0,
    fonts: tuple[Path, Path] | None = None,
) -> Image.Image:
    """One A4 page at ``dpi``, with a little scanner noise so OCR meets a scan, not a drawing.
    ``fonts`` is (regular, bold); the default is the first Vietnamese serif font found."""
    width, height = round(8.27 * dpi), round(11.69 * dpi)
    page = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(page)
    point = dpi / 72
    plain, heavy = fonts or (find_font(), find_font(bold=True))
    regular = ImageFont.truetype(str(plain), round(13 * point))
    small = ImageFont.truetype(str(plain), round(12 * point))
    bold = ImageFont.truetype(str(heavy), round(13 * point))
    header = ImageFont.truetype(str(heavy), round(11 * point))
    title = ImageFont.truetype(str(heavy), round(15 * point))
    margin, line = round(0.8 * dpi), round(20 * point)
    left_center, right_center = margin + round(1.4 * dpi), width - margin - round(2.0 * dpi)

    def centred(x: float, y: float, text: str, font: ImageFont.FreeTypeFont) -> None:
        if text:
            draw.text((x, y), text, font=font, fill="black", anchor="mt")

    y = margin
    centred(left_center, y, doc.issuer_parent, header)
    centred(right_center, y, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", header)
    centred(left_center, y + line, doc.issuer, header)
    centred(right_center, y + line, "Độc lập - Tự do - Hạnh phúc", header)
    centred(left_center, y + 3 * line, doc.number, regular)
    centred(right_center, y + 3 * line, doc.place_date, regular)
    if not doc.type_name:
        # A công văn: its V/v subject stands under the number, in the issuer's column.
        for n, part in enumerate(wrap_text(doc.subject, small, round(2.9 * dpi))):
            centred(left_center, y + 4 * line + n * round(0.9 * line), part, small)
    y += 6 * line
    if doc.type_name:
        centred(width / 2, y, doc.type_name, title)
        y += round(1.5 * line)
        centred(width / 2, y, doc.subject, bold)
    y += 3 * line
    for paragraph in doc.body:
        draw.text((margin, y), paragraph, font=regular, fill="black")
        y += round(1.5 * line)
    centred(right_center, y + 2 * line, doc.signer, bold)
    return _scanner_noise(page, seed)


def wrap_text(text: str, font: ImageFont.FreeTypeFont, width: int) -> list[str]:
    lines: list[str] = []
    for word in text.split():
        if lines and font.getlength(f"{lines[-1]} {word}") <= width:
            lines[-1] += f" {word}"
        else:
            lines.append(word)
    return lines


def _scanner_noise(page: Image.Image, seed: int) -> Image.Image:
    rng = random.Random(seed)
    draw = ImageDraw.Draw(page)
    for _ in range(page.width * page.height // 4000):
        x, y = rng.randrange(page.width), rng.randrange(page.height)
        draw.point((x, y), fill=(rng.randrange(120, 200),) * 3)
    return page.filter(ImageFilter.GaussianBlur(0.6))


def write_samples(out_dir: Path, dpi: int = 200) -> list[Path]:
    """Write the sample documents (PNG, JPEG, two-page TIFF); returns their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for seed, doc in enumerate(SAMPLES):
        target = out_dir / doc.file_name
        page = render_page(doc, dpi, seed)
        if target.suffix == ".tif":
            second = render_page(SAMPLES[0], dpi, seed + 100)
            page.save(
                target,
                dpi=(dpi, dpi),
                compression="tiff_lzw",
                save_all=True,
                append_images=[second],
            )
        elif target.suffix == ".jpg":
            page.save(target, dpi=(dpi, dpi), quality=90)
        else:
            page.save(target, dpi=(dpi, dpi))
        written.append(target)
    return written


if __name__ == "__main__":
    for path in write_samples(Path(sys.argv[1] if len(sys.argv) > 1 else "demo-scans")):
        print(path)
