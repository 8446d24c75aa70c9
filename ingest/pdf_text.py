"""The text of a born-digital PDF page, as a reader of the page sees it.

Rules:
- only visible characters count: text drawn in render mode 3 (invisible) or 7 (clip only),
  and text painted over by a later image that covers the page, is not what the page shows.
  A scanner's "searchable PDF" is exactly that, a page image with an invisible OCR layer
  (often without diacritics, sometimes saying something else entirely), so such a page is
  a scan and is OCR'd (``ingest.pdf``);
- a page with fewer than ``MIN_TEXT_CHARS`` visible characters (a scan, perhaps with a
  stamp's text) is OCR'd too;
- the words come with their boxes in pixels at the drawing scale, from the top left, as OCR
  gives them, so the same metadata reader works on both.
Called with ``ingest.pdf.PDFIUM_LOCK`` held; every pdfium object made here is closed here.
"""

from __future__ import annotations

import ctypes
import re
from typing import Any

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from archive.text import normalize
from ingest.contracts import RecognizedPage, Word

# Fewer visible characters than this on a page: a scan (perhaps with a stamp's text), OCR it.
MIN_TEXT_CHARS = 40
# An image over this share of the page hides the text drawn before it.
COVERING_SHARE = 0.9
_HIDDEN_MODES = frozenset(
    {pdfium_c.FPDF_TEXTRENDERMODE_INVISIBLE, pdfium_c.FPDF_TEXTRENDERMODE_CLIP}
)

Box = tuple[float, float, float, float]


def page_text(page: pdfium.PdfPage, scale: float) -> RecognizedPage | None:
    """The page's visible words and text, None for a page without enough of them."""
    textpage = page.get_textpage()
    try:
        return _visible_text(page, textpage, scale)
    finally:
        textpage.close()


def _visible_text(
    page: pdfium.PdfPage, textpage: pdfium.PdfTextPage, scale: float
) -> RecognizedPage | None:
    count = textpage.count_chars()
    if count <= 0:
        return None
    covered = _covered_text_objects(page)
    hidden: dict[int, bool] = {}
    whole = textpage.get_text_range(0, count)
    # One character per index, unless the page has characters outside the BMP (two UTF-16
    # units each), where each index is asked for on its own.
    chars = whole if len(whole) == count else None
    kept: list[tuple[str, int]] = []  # (character, index); index -1: an invisible one
    for index in range(count):
        obj = pdfium_c.FPDFText_GetTextObject(textpage.raw, index)
        char = chars[index] if chars is not None else textpage.get_text_range(index, 1)
        # No object: a space or line break pdfium put in; it goes with its neighbours.
        if obj and _hidden(obj, covered, hidden):
            kept.append((" ", -1))
        else:
            kept.append((char, index))
    if sum(i >= 0 and not c.isspace() for c, i in kept) < MIN_TEXT_CHARS:
        return None
    text = _tidy("".join(c for c, _ in kept)) if any(i < 0 for _, i in kept) else whole
    width, height = page.get_size()
    words = _words(textpage, kept, height, scale)
    return RecognizedPage(
        normalize(text.replace("\r\n", "\n")),
        tuple(words),
        round(width * scale),
        round(height * scale),
    )


def _address(obj: Any) -> int:
    return ctypes.cast(obj, ctypes.c_void_p).value or 0


def _hidden(obj: Any, covered: set[int], known: dict[int, bool]) -> bool:
    address = _address(obj)
    if address not in known:
        mode = pdfium_c.FPDFTextObj_GetTextRenderMode(obj)
        known[address] = address in covered or mode in _HIDDEN_MODES
    return known[address]


def _covered_text_objects(page: pdfium.PdfPage) -> set[int]:
    """The page's text objects that an image covering the page is drawn over."""
    left, bottom, right, top = page.get_mediabox()
    page_area = max(1.0, (right - left) * (top - bottom))
    before: list[int] = []
    covered: set[int] = set()
    for index in range(pdfium_c.FPDFPage_CountObjects(page.raw)):
        obj = pdfium_c.FPDFPage_GetObject(page.raw, index)
        kind = pdfium_c.FPDFPageObj_GetType(obj)
        if kind == pdfium_c.FPDF_PAGEOBJ_TEXT:
            before.append(_address(obj))
        elif kind == pdfium_c.FPDF_PAGEOBJ_IMAGE and (
            _area_within(obj, (left, bottom, right, top)) >= COVERING_SHARE * page_area
        ):
            covered.update(before)
    return covered


def _area_within(obj: Any, box: Box) -> float:
    """The area of ``obj``'s bounds inside ``box``."""
    left, bottom, right, top = (ctypes.c_float() for _ in range(4))
    if not pdfium_c.FPDFPageObj_GetBounds(obj, left, bottom, right, top):
        return 0.0
    width = min(right.value, box[2]) - max(left.value, box[0])
    height = min(top.value, box[3]) - max(bottom.value, box[1])
    return max(0.0, width) * max(0.0, height)


def _tidy(text: str) -> str:
    """Text with invisible runs taken out: no trailing spaces, no runs of empty lines."""
    lines = [" ".join(line.split()) for line in text.replace("\r\n", "\n").split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _words(
    textpage: pdfium.PdfTextPage, kept: list[tuple[str, int]], height: float, scale: float
) -> list[Word]:
    words: list[Word] = []
    line, chars = 1, ""
    boxes: list[Box] = []

    def flush() -> None:
        nonlocal chars, boxes
        if chars.strip():
            left = min(b[0] for b in boxes)
            right = max(b[2] for b in boxes)
            bottom = min(b[1] for b in boxes)
            top = max(b[3] for b in boxes)
            words.append(
                Word(
                    normalize(chars.strip()),
                    round(left * scale),
                    round((height - top) * scale),
                    max(1, round((right - left) * scale)),
                    max(1, round((top - bottom) * scale)),
                    100.0,
                    1,
                    1,
                    line,
                )
            )
        chars, boxes = "", []

    for char, index in kept:
        if char in ("\r", "\n"):
            flush()
            line += char == "\n"
        elif char.isspace():
            flush()
        else:
            chars += char
            boxes.append(textpage.get_charbox(index))
    flush()
    return words
