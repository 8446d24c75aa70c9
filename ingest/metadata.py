"""Vietnamese administrative metadata read from the first page's words (Decree 30/2020/NĐ-CP
layout): issuer and number top left, national motto and place-date top right, type name and
subject centred below them.

Tesseract reads the two header columns as one line ("ỦY BAN NHÂN DÂN CỘNG HÒA XÃ HỘI …"), so
lines are split again where the words leave a wide gap, and each part is placed in its column
by where it stands. Matching is done on folded text (no diacritics, lower case) so that OCR
slips such as "ngàv" or "Ð" do not hide a field; what is kept is the text as written.

A field that cannot be read with confidence is left empty and named in ``unsure``: a wrong
number or date is worse than none, because officials search by them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from statistics import median

from archive.text import fold, normalize
from ingest.agencies import NameBook, known_place, name_book
from ingest.contracts import RecognizedPage, Word

# Words this unsure (tesseract's 0-100) make a field unsure.
MIN_FIELD_CONFIDENCE = 55.0
# A notation is no dictionary word, so tesseract rates even a correct one low (53 for a clean
# "1482/QĐ-UBND"); its shape is checked instead, and only a very unsure one is refused.
MIN_NOTATION_CONFIDENCE = 30.0
# A gap this many times the line's height separates two columns, not two words.
COLUMN_GAP_HEIGHTS = 2.5

# Type names of Decree 30/2020 (Appendix III) with their abbreviations, keyed by folded name.
TYPE_NAMES: dict[str, tuple[str, str]] = {
    fold(name).upper(): (name, abbreviation)
    for name, abbreviation in [
        ("NGHỊ QUYẾT", "NQ"),
        ("QUYẾT ĐỊNH", "QĐ"),
        ("CHỈ THỊ", "CT"),
        ("QUY CHẾ", "QC"),
        ("QUY ĐỊNH", "QyĐ"),
        ("THÔNG CÁO", "TC"),
        ("THÔNG BÁO", "TB"),
        ("HƯỚNG DẪN", "HD"),
        ("CHƯƠNG TRÌNH", "CTr"),
        ("KẾ HOẠCH", "KH"),
        ("PHƯƠNG ÁN", "PA"),
        ("ĐỀ ÁN", "ĐA"),
        ("DỰ ÁN", "DA"),
        ("BÁO CÁO", "BC"),
        ("BIÊN BẢN", "BB"),
        ("TỜ TRÌNH", "TTr"),
        ("HỢP ĐỒNG", "HĐ"),
        ("CÔNG ĐIỆN", "CĐ"),
        ("BẢN GHI NHỚ", "BGN"),
        ("BẢN THỎA THUẬN", "BTT"),
        ("GIẤY ỦY QUYỀN", "GUQ"),
        ("GIẤY MỜI", "GM"),
        ("GIẤY GIỚI THIỆU", "GGT"),
        ("GIẤY NGHỈ PHÉP", "GNP"),
        ("PHIẾU GỬI", "PG"),
        ("PHIẾU CHUYỂN", "PC"),
        ("PHIẾU BÁO", "PB"),
        ("NGHỊ ĐỊNH", "NĐ"),
        ("THÔNG TƯ", "TT"),
        ("LUẬT", "L"),
    ]
}
_ABBREVIATIONS = {abbreviation.upper(): abbreviation for _, abbreviation in TYPE_NAMES.values()}
# OCR drops the bar of Đ ("QD-UBND"): a folded abbreviation that names one type only is put
# back as written ("QD" → "QĐ"); "HD" could be HD (hướng dẫn) or HĐ (hợp đồng) and is not.
_FOLDED_ABBREVIATIONS: dict[str, list[str]] = {}
for _, _abbreviation in TYPE_NAMES.values():
    _FOLDED_ABBREVIATIONS.setdefault(fold(_abbreviation).upper(), []).append(_abbreviation)
_NOTATION = re.compile(r"^\d+(?:/\d{4})?(?:/|-)[^\W\d_][\w.-]*(?:/[\w.-]+)*$")
_SUBJECT_LEAD = re.compile(r"^(v\s*/\s*v|ve viec)\b")
_BODY_LEADS = ("can cu", "kinh gui", "dieu ", "thuc hien", "xet ", "theo ", "nam ")
_RULE = re.compile(r"^[\W_]+$")
_NUMBER_LABEL = re.compile(r"^s[o6]\s*[:;.,]\s*\d|^s[o6]\d")


@dataclass
class DocumentMetadata:
    number: str = ""
    doc_type: str = ""
    type_name: str = ""
    issuer: str = ""
    place: str = ""
    issued_date: date | None = None
    subject: str = ""
    unsure: list[str] = field(default_factory=list)

    @property
    def title(self) -> str:
        """Type name and subject, as an official names a document ("Quyết định Về việc …")."""
        kind = self.type_name.capitalize() if self.type_name else ""
        if not kind and self.doc_type == "CV":
            kind = "Công văn"
        return " ".join(part for part in (kind, self.subject) if part)


Line = list[Word]


def lines_of(page: RecognizedPage) -> list[Line]:
    """The page's lines, top to bottom, each line's words left to right."""
    grouped: dict[tuple[int, int, int], Line] = {}
    for word in page.words:
        grouped.setdefault((word.block, word.paragraph, word.line), []).append(word)
    lines = [sorted(words, key=lambda w: w.left) for words in grouped.values()]
    lines.sort(key=lambda line: min(w.top for w in line))
    return lines


def _key(word: Word) -> str:
    return fold(word.text).lower().strip(".,:;")


def _text(words: Line) -> str:
    return normalize(" ".join(w.text for w in words))


def _sure(words: Line, threshold: float = MIN_FIELD_CONFIDENCE) -> bool:
    return bool(words) and min(w.confidence for w in words) >= threshold


def _left_column(line: Line, middle: float) -> Line:
    """The words of a header line that belong to the left (issuer) column.

    The right column starts with the national motto or the place-date, whose first words
    are fixed ("CỘNG HÒA …", "Độc lập …"); failing those, a column-wide gap or the page's
    middle decides.
    """
    keys = [_key(w) for w in line]
    for i in range(1, len(line)):
        if keys[i : i + 2] in (["cong", "hoa"], ["doc", "lap"]):
            return line[:i]
    height = median(w.height for w in line)
    for i in range(1, len(line)):
        gap = line[i].left - (line[i - 1].left + line[i - 1].width)
        if gap > COLUMN_GAP_HEIGHTS * height:
            return line[:i]
    if keys[:2] in (["cong", "hoa"], ["doc", "lap"]):
        return []
    return [w for w in line if w.left + w.width / 2 < middle] if middle else line


def extract(page: RecognizedPage, names: NameBook | None = None) -> DocumentMetadata:
    """The metadata of the document whose first page is ``page``; ``names`` are the known
    issuing bodies whose lost marks are put back (``ingest.agencies``)."""
    found = DocumentMetadata()
    lines = lines_of(page)
    middle = page.width / 2 if page.width else 0
    number_at = _read_number(lines, found)
    # The place-date stands in the header, never further down than just under the number:
    # the body is full of other dates ("Căn cứ Luật … ngày 19 tháng 6 năm 2015").
    header = lines[: number_at + 3] if number_at is not None else lines[:6]
    date_at = _read_place_date(header, middle, found)
    header_end = max((i for i in (number_at, date_at) if i is not None), default=None)
    if header_end is None:
        found.unsure.append("no header found (number, place and date)")
        return found
    if number_at is not None:
        _read_issuer(lines[:number_at], middle, found, names or name_book())
    _read_type_and_subject(lines[header_end + 1 : header_end + 6], middle, found)
    found.number = _restored_notation(found.number, found.type_name, found.issuer)
    return found


def _restored_notation(notation: str, type_name: str, issuer: str) -> str:
    """Put back the Đ that OCR dropped from a notation: from the type abbreviation ("QD" →
    "QĐ"), and from the issuer's abbreviation when it is the initials of the issuer's words
    ("BKHDT" under "BỘ KẾ HOẠCH VÀ ĐẦU TƯ" → "BKHĐT"; Decree 30/2020, Appendix I)."""
    expected = TYPE_NAMES.get(" ".join(fold(type_name).upper().split()), ("", ""))[1]
    initials = _initials_runs(issuer)
    parts = re.split(r"([/-])", notation)
    for i in range(2, len(parts), 2):
        candidates = _FOLDED_ABBREVIATIONS.get(fold(parts[i]).upper(), [])
        if expected in candidates:
            parts[i] = expected  # the type name printed on the page decides
        elif len(candidates) == 1:
            parts[i] = candidates[0]
        elif "D" in parts[i] and fold(parts[i]) == parts[i]:
            spelled = {run for run in initials if fold(run) == parts[i]}
            if len(spelled) == 1:
                parts[i] = spelled.pop()
    return "".join(parts)


def _initials_runs(issuer: str) -> set[str]:
    """The initials of every run of the issuer's words ("và" and dashes skipped), in capitals
    with Đ kept: "SỞ GIÁO DỤC VÀ ĐÀO TẠO" gives "SGDĐT", "GDĐT", "ĐT", …"""
    words = [w for w in normalize(issuer).upper().split() if w.strip(",-") and w != "VÀ"]
    letters = ["Đ" if w[0] == "Đ" else fold(w[0]) for w in words]
    return {
        "".join(letters[a:b]) for a in range(len(letters)) for b in range(a + 2, len(letters) + 1)
    }


def _number_span(line: Line) -> tuple[int, int] | None:
    """Where the notation after "Số:" stands in the line: (first, end) word indexes."""
    for i, word in enumerate(line):
        label = _NUMBER_LABEL.match(_key(word) + " ")
        if label is None and i + 1 < len(line) and re.fullmatch(r"s[o6]", _key(word)):
            label = _NUMBER_LABEL.match(_key(word) + ": " + _key(line[i + 1]))
        if label is None:
            continue
        glued = re.match(r"^s[o6][:;.,]?\d", fold(word.text).lower())  # "Số:1482/…"
        first = i if glued else i + 1
        end = first + 1
        # OCR may split "1482/QĐ-UBND" at its slash or hyphen.
        while end < len(line) and (
            line[end - 1].text.endswith(("/", "-")) or line[end].text.startswith(("/", "-"))
        ):
            end += 1
        return first, end
    return None


def _read_number(lines: list[Line], found: DocumentMetadata) -> int | None:
    for index, line in enumerate(lines[:12]):
        span = _number_span(line)
        if span is None:
            continue
        words = line[span[0] : span[1]]
        notation = "".join(_text(words).split())
        notation = re.sub(r"^s[oố6ô]\s*[:;.,]?", "", notation, flags=re.IGNORECASE)
        if not _NOTATION.match(notation) or not _sure(words, MIN_NOTATION_CONFIDENCE):
            found.unsure.append(f"number: read {notation!r}, not sure of it")
            return index
        found.number = notation
        found.doc_type = doc_type_of(notation)
        return index
    found.unsure.append("number: no 'Số:' line in the header")
    return None


def doc_type_of(notation: str) -> str:
    """'1482/QĐ-UBND' → 'QĐ'; '06/2025/TT-BNV' → 'TT'; '14514-CV/VPTW' → 'CV'; a công văn
    ('7816/VPCP-TTĐT', no type in its notation) → 'CV'."""
    parts = re.split(r"[/-]", notation)
    for part in parts[1:]:
        if part.upper() in _ABBREVIATIONS:
            return _ABBREVIATIONS[part.upper()]
    return "CV"


def _read_place_date(lines: list[Line], middle: float, found: DocumentMetadata) -> int | None:
    for index, line in enumerate(lines):
        keys = [_key(w) for w in line]
        for k in range(len(line) - 5):
            day, month, year = keys[k + 1], keys[k + 3], keys[k + 5]
            if not (
                re.fullmatch(r"ng.[yv]", keys[k])  # "ngàv": y and v look alike to OCR
                and line[k].left >= 0.8 * middle  # in the right column
                and re.fullmatch(r"th.ng", keys[k + 2])
                and re.fullmatch(r"n.m", keys[k + 4])
                and day.isdigit()
                and month.isdigit()
                and year.isdigit()
            ):
                continue
            span = _number_span(line)
            start = span[1] if span else 0
            place = line[start:k]
            if not span and place:
                place = line[len(_left_column(line, 0)) : k] or place
            try:
                when = date(int(year), int(month), int(day))
            except ValueError:
                found.unsure.append(f"date: {_text(line[k : k + 6])!r} is no date")
                return index
            if not _sure(line[k : k + 6]):
                found.unsure.append(f"date: read {_text(line[k : k + 6])!r}, not sure of it")
                return index
            found.issued_date = when
            if place and _sure(place):
                found.place = known_place(_text(place).strip(" ,"))
            else:
                found.unsure.append("place: not read before the date")
            return index
    found.unsure.append("date: no 'ngày … tháng … năm …' in the header")
    return None


def _read_issuer(
    header: list[Line], middle: float, found: DocumentMetadata, names: NameBook
) -> None:
    left = [
        words
        for words in (_left_column(line, middle) for line in header)
        if words and not _RULE.match(_text(words))
    ]
    if not left:
        found.unsure.append("issuer: nothing above the number")
        return
    text = " ".join(_text(words) for words in left)
    if not all(_sure(words) for words in left):
        found.unsure.append(f"issuer: read {text!r}, not sure of it")
        return
    issuer = names.restore(names.unglue(text))
    lost = names.unmarked(issuer)
    if lost:
        found.unsure.append(
            f"issuer: read {issuer!r}, whose {', '.join(lost)} lost marks that could not be "
            "put back"
        )
        return
    found.issuer = issuer


def _centre(line: Line) -> float:
    return (min(w.left for w in line) + max(w.left + w.width for w in line)) / 2


def _read_letter_subject(following: list[Line], middle: float, found: DocumentMetadata) -> None:
    """A công văn's subject ("V/v …") stands under its number in the issuer's column, over
    one to three lines, until the column is empty or the body begins ("Kính gửi")."""
    subject: Line = []
    for line in following:
        left = _left_column(line, middle)
        folded = " ".join(fold(_text(left)).lower().split()) if left else ""
        if not left or (subject and folded.startswith(_BODY_LEADS)):
            break
        subject.extend(left)
    if not _sure(subject):
        found.unsure.append("subject: not sure of its words")
        return
    found.subject = _text(subject)


def _read_type_and_subject(following: list[Line], middle: float, found: DocumentMetadata) -> None:
    if not following:
        return
    first = " ".join(fold(_text(following[0])).lower().split())
    if _SUBJECT_LEAD.match(first) and _centre(following[0]) < 0.8 * middle:
        _read_letter_subject(following, middle, found)
        return
    key = " ".join(fold(_text(following[0])).upper().replace(".", " ").split())
    rest = following
    if key in TYPE_NAMES:
        found.type_name, abbreviation = TYPE_NAMES[key]
        found.doc_type = found.doc_type if found.doc_type != "CV" else abbreviation
        rest = following[1:]
    subject: Line = []
    for line in rest:
        folded = " ".join(fold(_text(line)).lower().split())
        if subject and folded.startswith(_BODY_LEADS):
            break
        if not subject and not (found.type_name or _SUBJECT_LEAD.match(folded)):
            break  # a công văn's subject starts "V/v"; anything else is already the body
        centre = (min(w.left for w in line) + max(w.left + w.width for w in line)) / 2
        if middle and abs(centre - middle) > 0.2 * middle:
            break  # the subject is centred; the body is not
        subject.extend(line)
        if len(subject) > 60:
            break
    if not subject:
        found.unsure.append("subject: no subject line under the header")
        return
    if not _sure(subject):
        found.unsure.append("subject: not sure of its words")
        return
    found.subject = _text(subject)
