"""PDF inputs: what may be archived, and its pages for OCR or with the text they carry.

A PDF is checked with pikepdf (qpdf) before any page is drawn: an encrypted one cannot be
read by the archive in fifty years, and JavaScript or launch actions have no place in a
record, so both are refused with that reason. A signed PDF is archived byte for byte like
every original (luutru never rewrites an original), so its signature stays verifiable.

Pages come from pdfium: a page that carries text (born digital) gives that text and its word
boxes, and is never OCR'd; a page without text (a scan) is drawn at 300 dpi for clean-up and
OCR, one page at a time.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pikepdf
import pypdfium2 as pdfium

from archive.text import normalize
from ingest.contracts import Page, RecognizedPage, Word

RENDER_DPI = 300
POINTS_PER_INCH = 72
# Fewer visible characters than this on a page: a scan (perhaps with a stamp's text), OCR it.
MIN_TEXT_CHARS = 40
_ACTIONS = {"/JavaScript": "JavaScript", "/Launch": "launch actions"}


@dataclass(frozen=True)
class PdfFacts:
    pages: int
    signed: bool


class PdfRefused(Exception):
    """The PDF must not be archived; the message says why, for the person who sent it."""


def inspect(source: Path | bytes) -> PdfFacts:
    """Open the PDF structurally and refuse what an archive must not keep."""
    try:
        with pikepdf.open(io.BytesIO(source) if isinstance(source, bytes) else source) as pdf:
            if pdf.is_encrypted:
                raise PdfRefused(
                    "the PDF is encrypted; ask the sender for a copy without a password or "
                    "restrictions"
                )
            active = _active_content(pdf)
            if active:
                raise PdfRefused(
                    f"the PDF carries {' and '.join(sorted(active))}; an archived record must "
                    "not run code: ask the sender for a copy without it"
                )
            return PdfFacts(len(pdf.pages), _signed(pdf))
    except pikepdf.PasswordError:
        raise PdfRefused(
            "the PDF is encrypted with a password; ask the sender for a copy without one"
        ) from None
    except pikepdf.PdfError as exc:
        raise PdfRefused(f"the PDF is damaged: {exc}") from None


def _active_content(pdf: pikepdf.Pdf) -> set[str]:
    found: set[str] = set()
    names = pdf.Root.get("/Names")
    if isinstance(names, pikepdf.Dictionary) and "/JavaScript" in names:
        found.add("JavaScript")
    for obj in pdf.objects:
        if not isinstance(obj, pikepdf.Dictionary):
            continue
        kind = obj.get("/S")
        if isinstance(kind, pikepdf.Name) and str(kind) in _ACTIONS:
            found.add(_ACTIONS[str(kind)])
        if "/JS" in obj:
            found.add("JavaScript")
    return found


def _signed(pdf: pikepdf.Pdf) -> bool:
    form = pdf.Root.get("/AcroForm")
    if not isinstance(form, pikepdf.Dictionary):
        return False
    flags = form.get("/SigFlags")
    if isinstance(flags, int) and flags & 1:
        return True
    fields = form.get("/Fields")
    return isinstance(fields, pikepdf.Array) and any(
        isinstance(f, pikepdf.Dictionary) and f.get("/FT") == pikepdf.Name("/Sig") for f in fields
    )


def page_pixels(document: pdfium.PdfDocument, index: int) -> int:
    width, height = document[index].get_size()
    scale = RENDER_DPI / POINTS_PER_INCH
    return int(round(width * scale) * round(height * scale))


def pages(document: pdfium.PdfDocument) -> Iterator[Page]:
    """Each page with its own text, or drawn at RENDER_DPI for OCR."""
    for index in range(len(document)):
        page = document[index]
        known = _text_of(page)
        if known is not None:
            yield Page(index + 1, None, RENDER_DPI, known)
        else:
            # In colour: the archival copy shows the scan as it is; OCR greys its own copy.
            image = page.render(scale=RENDER_DPI / POINTS_PER_INCH).to_pil()
            yield Page(index + 1, image, RENDER_DPI)


def _text_of(page: pdfium.PdfPage) -> RecognizedPage | None:
    """A born-digital page's words with their boxes, at RENDER_DPI pixels from the top left,
    as OCR would give them; None for a page without real text."""
    textpage = page.get_textpage()
    count = textpage.count_chars()
    text = textpage.get_text_range(0, count) if count else ""
    if sum(not c.isspace() for c in text) < MIN_TEXT_CHARS:
        return None
    scale = RENDER_DPI / POINTS_PER_INCH
    width, height = page.get_size()
    words: list[Word] = []
    line, chars = 1, ""
    boxes: list[tuple[float, float, float, float]] = []

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

    for index in range(count):
        char = textpage.get_text_range(index, 1)
        if char in ("\r", "\n"):
            flush()
            line += char == "\n"
        elif char.isspace():
            flush()
        else:
            chars += char
            boxes.append(textpage.get_charbox(index))
    flush()
    return RecognizedPage(
        normalize(text.replace("\r\n", "\n")),
        tuple(words),
        round(width * scale),
        round(height * scale),
    )
