"""The record of destruction (biên bản hủy tài liệu hết giá trị) as a PDF/A-2b file.

Legal basis and the rules this module keeps:

- Law on Archives 2024 (Luật Lưu trữ, 33/2024/QH15) and Circular 06/2025/TT-BNV: records whose
  retention has expired are destroyed only after a proposal listing them, the review of the
  council (Hội đồng xác định giá trị tài liệu) and the competent head's decision; the
  destruction itself is written down in a biên bản that is kept permanently. The workflow
  decides when; this module only writes the biên bản, from data it is handed.
- Nothing is destroyed by one person alone: the data must name two distinct approvers, and
  lists at least one record, each once.
- Layout after Decree 30/2020/NĐ-CP (Phụ lục I): agency top left, national name and motto top
  right, place and date under them, the type name and subject centred, the body justified,
  page numbers centred in the top margin from page 2. The decree asks for Times New Roman,
  so it is preferred, then its metric twin Liberation Serif 2, then DejaVu and Noto Serif;
  any face used must carry the Vietnamese letters (Liberation 1.x does not).
- The list of destroyed records and the appendix of full SHA-256 values are attached in
  landscape (the decree allows it for tables), their headers repeated on every page. Once the
  bytes are gone, those hashes are what shows which bytes were destroyed.
- Kept permanently, so PDF/A-2b (ISO 19005-2): every font embedded, XMP with the PDF/A
  identification, an sRGB output intent, no transparency. A character no embedded font has
  would need the .notdef glyph, which PDF/A forbids; it is written as ``[U+XXXX]``.
- Deterministic: the same data gives the same bytes. Dates come from the data (the time of
  execution), the document ID from the content, never from the clock.

``agency`` may hold the parent body on lines before the agency itself (``"BỘ NỘI VỤ\\nCỤC VĂN
THƯ VÀ LƯU TRỮ NHÀ NƯỚC"``): the last line is set bold, as the decree draws an issuer.
"""

from __future__ import annotations

import functools
import hashlib
import io
import subprocess
import threading
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from importlib import metadata as package_metadata
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import pikepdf
from pikepdf import Name
from PIL import ImageCms
from reportlab.lib import colors  # type: ignore[import-untyped]
from reportlab.lib.enums import TA_CENTER, TA_JUSTIFY, TA_RIGHT  # type: ignore[import-untyped]
from reportlab.lib.pagesizes import A4, landscape  # type: ignore[import-untyped]
from reportlab.lib.styles import ParagraphStyle  # type: ignore[import-untyped]
from reportlab.lib.units import mm  # type: ignore[import-untyped]
from reportlab.pdfbase import pdfmetrics  # type: ignore[import-untyped]
from reportlab.pdfbase.ttfonts import TTFont  # type: ignore[import-untyped]
from reportlab.pdfgen.canvas import Canvas  # type: ignore[import-untyped]
from reportlab.platypus import (  # type: ignore[import-untyped]
    BaseDocTemplate,
    Flowable,
    Frame,
    HRFlowable,
    NextPageTemplate,
    PageBreak,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from archive.errors import DependencyMissing, UsageError
from archive.text import normalize
from retention.vntime import local as _local  # aware times are shown in Vietnam time

PDFA_PART = "2"
PDFA_CONFORMANCE = "B"
# PDF/A-2 is based on PDF 1.7 (ISO 32000-1).
PDF_VERSION = "1.7"
SRGB_CONDITION = "sRGB IEC61966-2.1"
SHORT_HASH = 12
_RENDERING = threading.Lock()

_LAW = "Luật Lưu trữ số 33/2024/QH15 ngày 21 tháng 6 năm 2024"
_CIRCULAR = "Thông tư số 06/2025/TT-BNV của Bộ trưởng Bộ Nội vụ"
_ROLE_NAMES = {
    "original": ("gốc", "Bản gốc"),
    "archival": ("PDF/A", "Bản lưu trữ PDF/A"),
    "ocr-text": ("OCR", "Văn bản OCR"),
    "attachment": ("đính kèm", "Tệp đính kèm"),
}
# The archive's role names, as a Vietnamese document titles the people who sign it; any other
# role (a title the caller gives, "Chủ tịch Hội đồng …") is written as given.
_ROLE_TITLES = {
    "approver": "Người phê duyệt",
    "archivist": "Người làm công tác lưu trữ",
    "admin": "Người quản trị hệ thống",
    "legal": "Người phụ trách pháp chế",
}
# Every letter of the Vietnamese alphabet with every tone, in both cases: a face that lacks
# one would draw a box (or, in PDF/A, be invalid) for a common word.
_VIETNAMESE = (
    "aăâbcdđeêghiklmnoôơpqrstuưvxyàảãáạằẳẵắặầẩẫấậèẻẽéẹềểễếệìỉĩíịòỏõóọồổỗốộờởỡớợùủũúụừửữứựỳỷỹýỵ"
)
_VIETNAMESE += _VIETNAMESE.upper()


@dataclass(frozen=True)
class DestroyedRecord:
    record_id: str
    number: str
    type_name: str
    issued_date: date | None
    subject: str
    series_code: str
    series_title: str
    retention: str  # "10 năm"
    closed_year: int | None
    files: tuple[tuple[str, str, int], ...]  # (role, sha256, size)


@dataclass(frozen=True)
class Approval:
    name: str
    role: str
    approved_at: datetime


@dataclass(frozen=True)
class DestructionRecordData:
    list_id: str
    agency: str
    place: str
    proposed_by: str
    proposed_at: datetime
    approvals: tuple[Approval, ...]  # two distinct approvers
    executed_by: str
    executed_at: datetime
    decision: str  # "Quyết định số 12/QĐ-VP ngày …" or the approval text
    records: tuple[DestroyedRecord, ...]


@dataclass(frozen=True)
class PdfaMetadata:
    """What the XMP of a PDF/A file says; ``created`` is taken from the data, not the clock."""

    title: str
    created: datetime
    producer: str
    language: str = "vi"
    subject: str = ""
    creator: str = ""


def render_destruction_record(data: DestructionRecordData) -> bytes:
    """The biên bản as PDF/A-2b bytes; the same data gives the same bytes."""
    _check(data)
    # reportlab keeps process-wide state (its font registry, each font's subsets per
    # document); a biên bản is rare, so one rendering at a time costs nothing.
    with _RENDERING:
        fonts = _fonts()
        draft = _layout(data, fonts)
    return _as_pdfa(draft, _metadata(data))


# --- checks ---------------------------------------------------------------------------------


def _check(data: DestructionRecordData) -> None:
    if not data.records:
        raise UsageError("a record of destruction lists at least one destroyed record")
    repeated = sorted(i for i, n in Counter(r.record_id for r in data.records).items() if n > 1)
    if repeated:
        raise UsageError(f"records listed more than once: {', '.join(repeated)}")
    approvers = {" ".join(normalize(a.name).casefold().split()) for a in data.approvals}
    approvers.discard("")
    # Circular 06/2025/TT-BNV: no destruction on one person's word.
    if len(approvers) < 2:
        raise UsageError("a destruction needs the approval of two distinct people")


# --- fonts ----------------------------------------------------------------------------------

_FONT_ROOT = Path("/usr/share/fonts/truetype")
# (folder, file stem, suffixes of regular, bold, italic, bold italic), preferred first.
_DASHED = ("-Regular", "-Bold", "-Italic", "-BoldItalic")
_FAMILIES = (
    ("msttcorefonts", "Times_New_Roman", ("", "_Bold", "_Italic", "_Bold_Italic")),
    ("liberation2", "LiberationSerif", _DASHED),
    ("dejavu", "DejaVuSerif", ("", "-Bold", "-Italic", "-BoldItalic")),
    ("noto", "NotoSerif", _DASHED),
)
_FC_STYLES = ("Regular", "Bold", "Italic", "Bold Italic")
_FONT_NAMES = ("LuutruSerif", "LuutruSerif-Bold", "LuutruSerif-Italic", "LuutruSerif-BoldItalic")


@dataclass(frozen=True)
class _Fonts:
    regular: str
    bold: str
    italic: str
    bold_italic: str
    covered: frozenset[int]  # code points every face has a glyph for

    def plain(self, text: str) -> str:
        """``text`` with every character no face has written as ``[U+XXXX]``."""
        out = []
        for char in normalize(text):
            if unicodedata.category(char) in ("Cc", "Zl", "Zp"):
                out.append(" ")  # a line break inside a name or a cell
            elif ord(char) in self.covered:
                out.append(char)
            else:
                out.append(f"[U+{ord(char):04X}]")
        return "".join(out)

    def printable(self, text: str) -> str:
        """``plain(text)`` as Paragraph markup."""
        return escape(self.plain(text))


@functools.cache
def _fonts() -> _Fonts:
    """Register the embedded faces once per process (reportlab's registry is global)."""
    paths = _font_files()
    faces = [TTFont(name, str(path)) for name, path in zip(_FONT_NAMES, paths, strict=True)]
    for face in faces:
        pdfmetrics.registerFont(face)
    pdfmetrics.registerFontFamily(
        _FONT_NAMES[0],
        normal=_FONT_NAMES[0],
        bold=_FONT_NAMES[1],
        italic=_FONT_NAMES[2],
        boldItalic=_FONT_NAMES[3],
    )
    covered = frozenset.intersection(*(frozenset(f.face.charToGlyph) for f in faces))
    return _Fonts(*_FONT_NAMES, covered=covered)


def _font_files() -> tuple[Path, Path, Path, Path]:
    """Regular, bold, italic and bold italic faces of one family with Vietnamese glyphs."""
    for folder, stem, suffixes in _FAMILIES:
        paths = tuple(_FONT_ROOT / folder / f"{stem}{suffix}.ttf" for suffix in suffixes)
        if all(p.is_file() for p in paths[:2]) and _has_vietnamese(paths[0]):
            return _with_fallbacks(paths)
    found = tuple(_fc_match(style) for style in _FC_STYLES)
    if found[0] is None or not _has_vietnamese(found[0]):
        raise DependencyMissing(
            "no serif font with Vietnamese glyphs for the record of destruction; "
            "install fonts-liberation2 or fonts-dejavu-core"
        )
    return _with_fallbacks(found)


def _with_fallbacks(paths: Sequence[Path | None]) -> tuple[Path, Path, Path, Path]:
    # A family without italics still gives a valid document: italic falls back to upright.
    regular = paths[0]
    assert regular is not None
    bold = paths[1] if paths[1] is not None and paths[1].is_file() else regular
    italic = paths[2] if paths[2] is not None and paths[2].is_file() else regular
    bold_italic = paths[3] if paths[3] is not None and paths[3].is_file() else bold
    return regular, bold, italic, bold_italic


def _fc_match(style: str) -> Path | None:
    try:
        found = subprocess.run(
            ["fc-match", "-f", "%{file}", f"Times New Roman:lang=vi:style={style}"],
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return Path(found) if found.lower().endswith(".ttf") and Path(found).is_file() else None


def _has_vietnamese(path: Path) -> bool:
    try:
        cmap = TTFont("probe", str(path)).face.charToGlyph
    except Exception:  # noqa: BLE001 - any unreadable font is simply not a candidate
        return False
    return all(ord(c) in cmap for c in _VIETNAMESE)


# --- words and numbers ------------------------------------------------------------------------


def role_title(role: str) -> str:
    """The Vietnamese title of an archive role ('approver': 'Người phê duyệt'); any other
    text is a title already."""
    return _ROLE_TITLES.get(_one_line(role).casefold(), _one_line(role))


def local_date(moment: datetime) -> date:
    """The date a Vietnamese document gives ``moment``: the day in Vietnam, as its text says
    ("ngày 05 tháng 12 năm 2026"); the record's date and year are that one too."""
    return _local(moment).date()


def page_count(pdf: bytes) -> int:
    with pikepdf.open(io.BytesIO(pdf)) as document:
        return len(document.pages)


def _moment(moment: datetime) -> str:
    """'14:30 ngày 05/03/2026'; aware times in Vietnam time."""
    local = _local(moment)
    return f"{local:%H:%M} ngày {local:%d/%m/%Y}"


def _place_date(place: str, moment: datetime) -> str:
    """Decree 30/2020/NĐ-CP: a zero before days under 10 and months under 3."""
    day = _local(moment).date()
    month = f"{day.month:02d}" if day.month < 3 else str(day.month)
    when = f"ngày {day.day:02d} tháng {month} năm {day.year}"
    return f"{place}, {when}" if place.strip() else when[0].upper() + when[1:]


def _count(number: int) -> str:
    """Vietnamese digit grouping: 1.234.567."""
    return f"{number:,}".replace(",", ".")


def _role_name(role: str, full: bool) -> str:
    names = _ROLE_NAMES.get(role)
    return role if names is None else names[1 if full else 0]


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _agency_lines(agency: str) -> list[str]:
    """The parent bodies, then the agency itself (the last line)."""
    return [ln for ln in (_one_line(x) for x in agency.splitlines()) if ln] or [""]


# --- styles -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Styles:
    fonts: _Fonts
    body: ParagraphStyle
    basis: ParagraphStyle
    header: ParagraphStyle
    header_bold: ParagraphStyle
    motto: ParagraphStyle
    place_date: ParagraphStyle
    title: ParagraphStyle
    note: ParagraphStyle
    cell: ParagraphStyle
    cell_centre: ParagraphStyle
    cell_right: ParagraphStyle
    head: ParagraphStyle
    sign: ParagraphStyle
    sign_note: ParagraphStyle


def _style(name: str, font: str, size: float, **extra: Any) -> ParagraphStyle:
    return ParagraphStyle(name, fontName=font, fontSize=size, leading=round(size * 1.3, 1), **extra)


def _styles(fonts: _Fonts) -> _Styles:
    centre = {"alignment": TA_CENTER}
    # Decree 30/2020/NĐ-CP: body 13-14 pt, justified, the first line indented 1-1.27 cm, at
    # least 6 pt between paragraphs; heading caps 12-13 pt, the motto line 13-14 pt bold.
    return _Styles(
        fonts=fonts,
        body=_style(
            "body", fonts.regular, 13, alignment=TA_JUSTIFY, firstLineIndent=10 * mm, spaceAfter=6
        ),
        basis=_style(
            "basis", fonts.italic, 13, alignment=TA_JUSTIFY, firstLineIndent=10 * mm, spaceAfter=3
        ),
        header=_style("header", fonts.regular, 12, **centre),
        header_bold=_style("header_bold", fonts.bold, 12, **centre),
        motto=_style("motto", fonts.bold, 13, **centre),
        place_date=_style("place_date", fonts.italic, 13, **centre),
        title=_style("title", fonts.bold, 14, **centre),
        note=_style("note", fonts.italic, 11, **centre),
        cell=_style("cell", fonts.regular, 8),
        cell_centre=_style("cell_centre", fonts.regular, 8, **centre),
        cell_right=_style("cell_right", fonts.regular, 8, alignment=TA_RIGHT),
        head=_style("head", fonts.bold, 8, **centre),
        sign=_style("sign", fonts.bold, 12, **centre),
        sign_note=_style("sign_note", fonts.italic, 10, **centre),
    )


def _fitted(style: ParagraphStyle, texts: Iterable[str], width: float) -> ParagraphStyle:
    """``style`` at a size that sets the longest of ``texts`` (ids, hashes) on one line, so
    that none is broken and each can be found whole in the text."""
    longest = max((pdfmetrics.stringWidth(t, style.fontName, 1) for t in texts), default=0)
    size = style.fontSize if longest == 0 else min(style.fontSize, width / longest)
    return ParagraphStyle(f"{style.name}-fitted", parent=style, fontSize=size, leading=size * 1.3)


# --- the page -----------------------------------------------------------------------------------

_PORTRAIT = A4
_LANDSCAPE = landscape(A4)
# Decree 30/2020/NĐ-CP margins: top and bottom 20-25 mm, left (the binding) 30-35 mm, right
# 15-20 mm. A landscape page is bound along its top edge.
_PORTRAIT_MARGINS = (20 * mm, 20 * mm, 30 * mm, 15 * mm)  # top, bottom, left, right
_LANDSCAPE_MARGINS = (30 * mm, 15 * mm, 20 * mm, 20 * mm)


def _frame_width(size: tuple[float, float], margins: tuple[float, float, float, float]) -> float:
    return size[0] - margins[2] - margins[3]


def _template(name: str, size: tuple[float, float], margins: tuple[float, ...]) -> PageTemplate:
    top, bottom, left, right = margins
    frame = Frame(
        left,
        bottom,
        size[0] - left - right,
        size[1] - top - bottom,
        leftPadding=0,
        rightPadding=0,
        topPadding=0,
        bottomPadding=0,
        id=name,
    )
    return PageTemplate(id=name, frames=[frame], pagesize=size)


class _PagedCanvas(Canvas):  # type: ignore[misc]
    """Holds each page back until the last, so that every page can say 'Trang 3/12': a page
    missing from a permanent record must show."""

    def __init__(self, *args: Any, footer: str, font: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._footer = footer
        self._font = font
        self._held: list[dict[str, Any]] = []

    def showPage(self) -> None:
        self._held.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        total = len(self._held)
        for state in self._held:
            self.__dict__.update(state)
            self._draw_marks(total)
            super().showPage()
        super().save()

    def _draw_marks(self, total: int) -> None:
        width, height = self._pagesize
        number = self.getPageNumber()
        self.saveState()
        if number > 1:  # Decree 30: numbered from page 2, centred in the top margin
            self.setFont(self._font, 13)
            self.drawCentredString(width / 2, height - 12 * mm, str(number))
        self.setFont(self._font, 7.5)
        self.drawCentredString(width / 2, 8 * mm, f"{self._footer} · Trang {number}/{total}")
        self.restoreState()


def _layout(data: DestructionRecordData, fonts: _Fonts) -> bytes:
    """The document as reportlab draws it; ``_as_pdfa`` makes it PDF/A."""
    buffer = io.BytesIO()
    doc = BaseDocTemplate(
        buffer,
        pagesize=_PORTRAIT,
        # invariant: no clock time and no random document ID in the draft.
        invariant=1,
        # reportlab opens every page with its initial font; the default, Helvetica, is not
        # embedded, which PDF/A forbids.
        initialFontName=fonts.regular,
        pageCompression=1,
    )
    doc.addPageTemplates(
        [
            _template("portrait", _PORTRAIT, _PORTRAIT_MARGINS),
            _template("landscape", _LANDSCAPE, _LANDSCAPE_MARGINS),
        ]
    )
    footer = fonts.plain(f"Biên bản hủy tài liệu hết giá trị · Danh mục {_one_line(data.list_id)}")
    maker = functools.partial(_PagedCanvas, footer=footer, font=fonts.regular)
    doc.build(_story(data, _styles(fonts)), canvasmaker=maker)
    return buffer.getvalue()


def _story(data: DestructionRecordData, s: _Styles) -> list[Flowable]:
    return [
        *_heading(data, s),
        *_basis(data, s),
        *_body(data, s),
        _signatures(data, s),
        NextPageTemplate("landscape"),
        PageBreak(),
        *_records_list(data, s),
        PageBreak(),
        *_hash_appendix(data, s),
    ]


def _rule(width: str = "35%") -> HRFlowable:
    return HRFlowable(width=width, thickness=0.6, color=colors.black, spaceBefore=1, spaceAfter=3)


def _heading(data: DestructionRecordData, s: _Styles) -> list[Flowable]:
    """Agency top left, the national name and motto top right, then the title."""
    text = s.fonts.printable
    lines = _agency_lines(data.agency)
    left: list[Flowable] = [Paragraph(text(ln.upper()), s.header) for ln in lines[:-1]]
    left += [Paragraph(text(lines[-1].upper()), s.header_bold), _rule()]
    left.append(Paragraph(f"Danh mục: {text(data.list_id)}", s.header))
    right = [
        Paragraph("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", s.header_bold),
        Paragraph("Độc lập - Tự do - Hạnh phúc", s.motto),
        _rule("55%"),
        Paragraph(text(_place_date(_one_line(data.place), data.executed_at)), s.place_date),
    ]
    width = _frame_width(_PORTRAIT, _PORTRAIT_MARGINS)
    header = Table([[left, right]], colWidths=[width * 0.42, width * 0.58])
    header.setStyle(
        _table_style(
            s.fonts,
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("LEFTPADDING", (0, 0), (-1, -1), 0),
            ("RIGHTPADDING", (0, 0), (-1, -1), 0),
        )
    )
    return [
        header,
        Spacer(1, 10 * mm),
        Paragraph("BIÊN BẢN", s.title),
        Paragraph("Về việc hủy tài liệu hết giá trị", s.title),
        _rule("25%"),
        Spacer(1, 4 * mm),
    ]


def _basis(data: DestructionRecordData, s: _Styles) -> list[Flowable]:
    """The 'Căn cứ' lines: the law, the circular, then the decision approving destruction."""
    decision = _one_line(data.decision).rstrip(" ;.")
    grounds = [_LAW, _CIRCULAR] + ([s.fonts.printable(decision)] if decision else [])
    return [Paragraph(f"Căn cứ {ground};", s.basis) for ground in grounds]


def _body(data: DestructionRecordData, s: _Styles) -> list[Flowable]:
    """Who proposed, approved and executed the destruction, when, and what was destroyed."""
    text = s.fonts.printable
    files = [f for r in data.records for f in r.files]
    approvals = [
        f"- {text(_person(a.name, a.role))}: phê duyệt hồi {_moment(a.approved_at)}"
        for a in data.approvals
    ]
    lines = [
        f"Hôm nay, hồi {_moment(data.executed_at)}, tại {text(_agency_lines(data.agency)[-1])}, "
        f"việc hủy tài liệu hết giá trị theo Danh mục {text(data.list_id)} đã được thực hiện "
        "như sau:",
        f"1. Lập danh mục đề nghị hủy: {text(data.proposed_by)}, hồi {_moment(data.proposed_at)}.",
        "2. Phê duyệt:",
        *(f"{line}{';' if n < len(approvals) else '.'}" for n, line in enumerate(approvals, 1)),
        f"3. Thực hiện hủy: {text(data.executed_by)}, hồi {_moment(data.executed_at)}.",
        f"4. Tài liệu đã hủy: {_count(len(data.records))} tài liệu gồm {_count(len(files))} tệp, "
        f"tổng dung lượng {_count(sum(f[2] for f in files))} byte, kê tại Danh mục tài liệu hủy "
        "và Phụ lục mã SHA-256 kèm theo Biên bản này.",
        "5. Phương thức hủy: các tệp của tài liệu được xóa khỏi kho lưu trữ điện tử; mã SHA-256 "
        "của từng tệp được ghi tại Phụ lục để đối chiếu khi cần.",
        # Circular 06/2025/TT-BNV: the record of destruction is kept permanently.
        "Biên bản được lập thành văn bản điện tử định dạng PDF/A và được bảo quản vĩnh viễn.",
    ]
    return [Spacer(1, 3 * mm), *(Paragraph(line, s.body) for line in lines), Spacer(1, 6 * mm)]


def _person(name: str, role: str) -> str:
    title = role_title(role)
    if not title:
        return _one_line(name)
    # Running text: "Trần Văn An, người phê duyệt" (a title given as text keeps its case).
    known = _one_line(role).casefold() in _ROLE_TITLES
    return f"{_one_line(name)}, {title[0].lower() + title[1:] if known else title}"


def _signatures(data: DestructionRecordData, s: _Styles) -> Flowable:
    """One block for each person of the procedure, three to a row."""
    blocks = [("NGƯỜI LẬP DANH MỤC", data.proposed_by, "")]
    blocks += [
        (
            role_title(a.role).upper() or "NGƯỜI PHÊ DUYỆT",
            a.name,
            f"Đã phê duyệt hồi {_moment(a.approved_at)}",
        )
        for a in data.approvals
    ]
    done = f"Đã thực hiện hồi {_moment(data.executed_at)}"
    blocks.append(("NGƯỜI THỰC HIỆN", data.executed_by, done))
    # Two table rows for each three blocks, titles then names, so that names line up however
    # many lines a title takes; a pair is never split across pages.
    rows: list[list[Any]] = []
    spans: list[tuple[Any, ...]] = []
    for start in range(0, len(blocks), 3):
        group = blocks[start : start + 3]
        group += [("", "", "")] * (3 - len(group))
        spans.append(("NOSPLIT", (0, len(rows)), (-1, len(rows) + 1)))
        rows.append([_sign_title(title, s) if title else "" for title, _, _ in group])
        rows.append([_sign_name(name, note, s) if name else "" for _, name, note in group])
    width = _frame_width(_PORTRAIT, _PORTRAIT_MARGINS)
    table = Table(rows, colWidths=[width / 3] * 3)
    table.setStyle(_table_style(s.fonts, ("VALIGN", (0, 0), (-1, -1), "TOP"), *spans))
    return table


def _sign_title(title: str, s: _Styles) -> list[Flowable]:
    return [
        Paragraph(s.fonts.printable(_one_line(title)), s.sign),
        Paragraph("(Ký, ghi rõ họ tên)", s.sign_note),
    ]


def _sign_name(name: str, note: str, s: _Styles) -> list[Flowable]:
    return [
        Spacer(1, 18 * mm),
        Paragraph(s.fonts.printable(_one_line(name)), s.sign),
        Paragraph(s.fonts.printable(note), s.sign_note),
        Spacer(1, 6 * mm),
    ]


def _attachment_title(data: DestructionRecordData, s: _Styles, *title: str) -> list[Flowable]:
    day = _local(data.executed_at)
    return [
        *(Paragraph(t, s.title) for t in title),
        Paragraph(
            f"(Kèm theo Biên bản hủy tài liệu hết giá trị ngày {day:%d/%m/%Y}, "
            f"Danh mục {s.fonts.printable(data.list_id)})",
            s.note,
        ),
        Spacer(1, 5 * mm),
    ]


def _table_style(fonts: _Fonts, *commands: tuple[Any, ...]) -> TableStyle:
    # A table sets its cell font even when every cell is a Paragraph; left alone that is
    # Helvetica, which is not embedded and so not allowed in PDF/A.
    return TableStyle([("FONT", (0, 0), (-1, -1), fonts.regular, 8), *commands])


def _grid(rows: list[list[Any]], widths: Sequence[float], fonts: _Fonts) -> Table:
    """A table that repeats its header row on every page, and splits a row too tall for one."""
    table = Table(rows, colWidths=list(widths), repeatRows=1, splitInRow=1)
    table.setStyle(
        _table_style(
            fonts,
            ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("VALIGN", (0, 0), (-1, 0), "MIDDLE"),
            ("LEFTPADDING", (0, 0), (-1, -1), 3),
            ("RIGHTPADDING", (0, 0), (-1, -1), 3),
            ("TOPPADDING", (0, 0), (-1, -1), 2),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
        )
    )
    return table


def _widths(shares: Sequence[float]) -> list[float]:
    width = _frame_width(_LANDSCAPE, _LANDSCAPE_MARGINS)
    return [width * share / sum(shares) for share in shares]


_RECORD_HEADS = (
    "TT",
    "Mã tài liệu",
    "Số, ký hiệu",
    "Ngày",
    "Tên loại, trích yếu",
    "Nhóm hồ sơ",
    "Thời hạn bảo quản",
    "Năm kết thúc hồ sơ",
    "Tệp (SHA-256 rút gọn)",
)
_RECORD_SHARES = (22, 125, 70, 48, 195, 95, 42, 40, 92)
_CELL_PADDING = 6


def _records_list(data: DestructionRecordData, s: _Styles) -> list[Flowable]:
    text = s.fonts.printable
    widths = _widths(_RECORD_SHARES)
    id_style = _fitted(s.cell, (r.record_id for r in data.records), widths[1] - _CELL_PADDING)
    rows: list[list[Any]] = [[Paragraph(h, s.head) for h in _RECORD_HEADS]]
    for n, record in enumerate(data.records, 1):
        series = " – ".join(x for x in (record.series_code, record.series_title) if x)
        files = "<br/>".join(
            f"{text(_role_name(role, full=False))} {text(sha[:SHORT_HASH])}…"
            for role, sha, _size in record.files
        )
        rows.append(
            [
                Paragraph(str(n), s.cell_centre),
                Paragraph(text(record.record_id), id_style),
                Paragraph(text(record.number), s.cell),
                Paragraph(f"{record.issued_date:%d/%m/%Y}" if record.issued_date else "", s.cell),
                Paragraph(
                    f"<b>{text(record.type_name)}</b> {text(record.subject)}".strip(), s.cell
                ),
                Paragraph(text(series), s.cell),
                Paragraph(text(record.retention), s.cell),
                Paragraph("" if record.closed_year is None else str(record.closed_year), s.cell),
                Paragraph(files, s.cell),
            ]
        )
    return [
        *_attachment_title(data, s, "DANH MỤC TÀI LIỆU HỦY"),
        _grid(rows, widths, s.fonts),
        Spacer(1, 3 * mm),
        Paragraph(f"Tổng cộng: {_count(len(data.records))} tài liệu.", s.cell),
    ]


_HASH_HEADS = ("TT", "Mã tài liệu", "Tệp", "Kích thước (byte)", "Mã SHA-256")
_HASH_SHARES = (30, 160, 110, 90, 339)


def _hash_appendix(data: DestructionRecordData, s: _Styles) -> list[Flowable]:
    text = s.fonts.printable
    widths = _widths(_HASH_SHARES)
    files = [(r.record_id, f) for r in data.records for f in r.files]
    id_style = _fitted(s.cell, (r.record_id for r in data.records), widths[1] - _CELL_PADDING)
    hash_style = _fitted(s.cell, (f[1] for _, f in files), widths[4] - _CELL_PADDING)
    rows: list[list[Any]] = [[Paragraph(h, s.head) for h in _HASH_HEADS]]
    for n, (record_id, (role, sha, size)) in enumerate(files, 1):
        rows.append(
            [
                Paragraph(str(n), s.cell_centre),
                Paragraph(text(record_id), id_style),
                Paragraph(text(_role_name(role, full=True)), s.cell),
                Paragraph(_count(size), s.cell_right),
                Paragraph(text(sha), hash_style),
            ]
        )
    return [
        *_attachment_title(data, s, "PHỤ LỤC", "MÃ SHA-256 CỦA CÁC TỆP ĐÃ HỦY"),
        _grid(rows, widths, s.fonts),
        Spacer(1, 3 * mm),
        Paragraph(f"Tổng cộng: {_count(len(files))} tệp.", s.cell),
    ]


# --- PDF/A ---------------------------------------------------------------------------------------


def _software_version() -> str:
    try:
        return package_metadata.version("luutru")
    except package_metadata.PackageNotFoundError:
        return "unknown"


PRODUCER = f"luutru {_software_version()}"


def _metadata(data: DestructionRecordData) -> PdfaMetadata:
    list_id = _one_line(data.list_id)
    return PdfaMetadata(
        title=f"Biên bản hủy tài liệu hết giá trị – Danh mục {list_id}",
        # In Vietnam time, as the text dates it: the same day in the XMP as on the page.
        created=_local(data.executed_at),
        producer=PRODUCER,
        subject=f"{len(data.records)} tài liệu hết giá trị đã hủy theo Danh mục {list_id}",
        creator=" ".join(_agency_lines(data.agency)),
    )


def _as_pdfa(draft: bytes, metadata: PdfaMetadata) -> bytes:
    with pikepdf.open(io.BytesIO(draft)) as pdf:
        for page in pdf.pages:
            # reportlab gives every page an empty transition dictionary: no use in an archive.
            if Name.Trans in page.obj:
                del page.obj[Name.Trans]
        # reportlab's information dictionary ("(anonymous)", its fixed year 2000) goes; pikepdf
        # writes a new one from the XMP, so that the two agree as PDF/A requires.
        if Name.Info in pdf.trailer:
            del pdf.trailer[Name.Info]
        # reportlab's invariant mode gives every file the same ID; qpdf keeps an existing
        # first ID, so it goes too and both halves become a hash of this content.
        if Name.ID in pdf.trailer:
            del pdf.trailer[Name.ID]
        declare_pdfa(pdf, metadata)
        out = io.BytesIO()
        # deterministic_id: the document ID is a hash of the content, not of the clock.
        pdf.save(out, min_version=PDF_VERSION, fix_metadata_version=False, deterministic_id=True)
    return out.getvalue()


def declare_pdfa(pdf: pikepdf.Pdf, metadata: PdfaMetadata) -> None:
    """What PDF/A-2b asks of a whole file beyond its pages: the XMP identification and
    description, the language, and an sRGB output intent. The same steps as
    ``ingest/pdfa.py`` (which retention/ may not import); a candidate for ``archive/``."""
    pdf.Root.Lang = pikepdf.String(metadata.language)
    pdf.Root.OutputIntents = pikepdf.Array([srgb_output_intent(pdf)])
    pdf.Root.MarkInfo = pikepdf.Dictionary(Marked=False)
    stamp = metadata.created.replace(microsecond=0).isoformat()
    with pdf.open_metadata(set_pikepdf_as_editor=False) as xmp:
        xmp["pdfaid:part"] = PDFA_PART
        xmp["pdfaid:conformance"] = PDFA_CONFORMANCE
        xmp["dc:title"] = metadata.title
        if metadata.subject:
            xmp["dc:description"] = metadata.subject
        if metadata.creator:
            xmp["dc:creator"] = [metadata.creator]
        xmp["dc:language"] = [metadata.language]
        xmp["xmp:CreateDate"] = stamp
        xmp["xmp:ModifyDate"] = stamp
        xmp["xmp:MetadataDate"] = stamp
        xmp["xmp:CreatorTool"] = metadata.producer
        xmp["pdf:Producer"] = metadata.producer


def srgb_output_intent(pdf: pikepdf.Pdf) -> pikepdf.Dictionary:
    return pikepdf.Dictionary(
        Type=Name.OutputIntent,
        S=Name.GTS_PDFA1,
        OutputConditionIdentifier=pikepdf.String(SRGB_CONDITION),
        Info=pikepdf.String(SRGB_CONDITION),
        DestOutputProfile=pikepdf.Stream(pdf, srgb_profile(), N=3),
    )


# ICC.1 7.2.8: the profile header's creation time, bytes 24-35 (six big-endian uint16).
_ICC_CREATED = slice(24, 36)
_ICC_PINNED_TIME = b"".join(v.to_bytes(2, "big") for v in (2000, 1, 1, 0, 0, 0))


@functools.cache
def srgb_profile() -> bytes:
    """littleCMS's sRGB profile with its creation time pinned: lcms stamps the time it builds
    the profile, which would make two renderings of the same data differ."""
    profile = bytearray(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())
    profile[_ICC_CREATED] = _ICC_PINNED_TIME
    if any(profile[84:100]):
        # A profile ID (MD5 of the profile with flags, intent and ID zeroed, ICC.1 7.2.18)
        # covers the time; recomputed so that it stays true.
        scratch = bytearray(profile)
        scratch[44:48] = scratch[64:68] = bytes(4)
        scratch[84:100] = bytes(16)
        profile[84:100] = hashlib.md5(scratch, usedforsecurity=False).digest()
    return bytes(profile)
