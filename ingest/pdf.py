"""PDF inputs: what may be archived, and its pages for OCR or with the text they carry.

A PDF is checked with pikepdf (qpdf) before any page is drawn: an encrypted one cannot be
read by the archive in fifty years, and JavaScript or launch actions have no place in a
record, so both are refused with that reason, wherever they are written (``_active_content``
walks every object reachable from the trailer, direct or indirect). A signed PDF is archived
byte for byte like every original (luutru never rewrites an original), so its signature stays
verifiable.

A damaged file (cut short in a copy, a scanner that died mid-write) is repaired by qpdf as it
opens it. A repair that recovered every object the file lists (a broken or missing
cross-reference table, no ``startxref``: common with scanner software) loses nothing, and the
file is read; pdfium, with its own parser, must then open it too. A repair that lost objects
(``pdf.objects`` holds None for each: its body is cut off or unreadable) is refused as damaged
or truncated, even if the lost object might be unused: qpdf drops a reference to a lost
object silently (the key vanishes from its dictionary), so what is lost cannot be told
reliably, and a page without its content stream or font still draws, blank or wrong, and would
be sealed as a record that is not what was sent. Unreadable objects also cannot be checked
for code. The reason gives what qpdf said about the damage.

Pages come from pdfium: a page whose visible text is real (born digital) gives that text and
its word boxes, and is never OCR'd; a page without visible text is a scan, drawn at 300 dpi
for clean-up and OCR, one page at a time. Text nobody can see is not the page's text: a
scanner's "searchable PDF" lays an invisible OCR layer (text render mode 3), often without
diacritics, over the page image, and text may hide under a page-wide image; such pages are
OCR'd like any scan, and get their archival copy.

pdfium is not thread-safe, and ingest reads PDFs from several worker threads: every pdfium
call (opening, a page's size, its text, drawing it, closing) goes through ``Document``, under
one process-wide lock, and every pdfium object is closed explicitly inside it, never left to
the garbage collector (which would close it from whatever thread collects it). Only pdfium is
serialised; OCR, the slow part, runs in parallel.
"""

from __future__ import annotations

import io
import re
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import pikepdf
import pypdfium2 as pdfium
from PIL import Image

from archive.errors import InputRejected, ResourceExhausted
from ingest.contracts import Page, page_label
from ingest.limits import PixelBudget
from ingest.pdf_text import page_text

RENDER_DPI = 300
POINTS_PER_INCH = 72
_ACTIONS = {"/JavaScript": "JavaScript", "/Launch": "launch actions"}
# Objects looked at for active content; a file with more is refused rather than half checked
# (a 2,000-page scan has some 10,000). Listing 1.9 million empty ones took 1.5 GB.
MAX_OBJECTS_CHECKED = 500_000
_CONTAINERS = (pikepdf.Dictionary, pikepdf.Array, pikepdf.Stream)
# qpdf names the file it read first ("…/blobs/.incoming-x1: unable to find…", "stream <…>:",
# "…/.incoming-x1 (object 2 0): loop detected"): the archive's own staging file, not the
# input's; the object is kept.
_SOURCE_PREFIX = re.compile(r"^(?:stream <[^>]*>|/\S*)(?: \((object \d+ \d+)\))?: ")


def _without_source(message: str) -> str:
    return _SOURCE_PREFIX.sub(lambda m: f"{m.group(1)}: " if m.group(1) else "", message)


# qpdf's warnings while repairing: "stream <…> (object 7 0, offset 800): unexpected EOF".
_WARNING_SOURCE = re.compile(r"^(?:stream <[^>]*>|/\S*)(?: \(([^)]*)\))?: ")
_OFFSET = re.compile(r", offset \d+(?=[):])")
# What every repair says first; it adds nothing to "damaged".
_REPAIR_NOISE = {"file is damaged", "Attempting to reconstruct cross-reference table"}


# One pdfium call at a time in this process (see the module's docstring).
PDFIUM_LOCK = threading.RLock()


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
        raise PdfRefused(f"the PDF is damaged: {_without_source(str(exc))}") from None


def _active_content(pdf: pikepdf.Pdf) -> set[str]:
    """What runs code, found in every dictionary of the file, direct or indirect: actions
    (/S /JavaScript, /S /Launch) in /OpenAction, /AA of the document, pages, annotations and
    form fields, annotations' /A, /Next chains, the /Names JavaScript tree; any /JS key.
    Unreferenced objects are looked at too: a file must not carry code even unused."""
    found: set[str] = set()
    names = pdf.Root.get("/Names")
    if isinstance(names, pikepdf.Dictionary) and "/JavaScript" in names:
        found.add("JavaScript")
    declared = pdf.trailer.get("/Size")
    if isinstance(declared, int) and declared > MAX_OBJECTS_CHECKED:
        raise _too_many_objects()  # said by its cross-reference table, before listing them
    objects = list(pdf.objects)
    _refuse_lost_objects(pdf, objects)
    seen: set[tuple[int, int]] = set()
    stack: list[pikepdf.Object] = [pdf.trailer, *objects]
    checked = 0
    while stack:
        obj = stack.pop()
        if obj.is_indirect:
            if obj.objgen in seen:
                continue
            seen.add(obj.objgen)
        checked += 1
        if checked > MAX_OBJECTS_CHECKED:
            raise _too_many_objects()
        if isinstance(obj, pikepdf.Array):
            stack.extend(item for item in obj if isinstance(item, _CONTAINERS))
            continue
        kind = obj.get("/S")
        if isinstance(kind, pikepdf.Name) and str(kind) in _ACTIONS:
            found.add(_ACTIONS[str(kind)])
        if "/JS" in obj:
            found.add("JavaScript")
        stack.extend(value for value in obj.values() if isinstance(value, _CONTAINERS))
    return found


def _refuse_lost_objects(pdf: pikepdf.Pdf, objects: Sequence[pikepdf.Object | None]) -> None:
    """Refuse a file whose repair lost objects (see the module's docstring)."""
    lost = sum(obj is None for obj in objects)
    if not lost:
        return
    said: list[str] = []
    for warning in pdf.get_warnings():
        text = _WARNING_SOURCE.sub(lambda m: f"{m.group(1)}: " if m.group(1) else "", warning)
        text = _OFFSET.sub("", text)  # where qpdf stopped reading, which tells no one anything
        if text not in _REPAIR_NOISE and text not in said:
            said.append(text)
    raise PdfRefused(
        f"the PDF is damaged or truncated: {lost} of its {len(objects)} objects cannot be read"
        + (f" (qpdf: {'; '.join(said[-2:])})" if said else "")
        + "; ask the sender for the whole file"
    )


def _too_many_objects() -> PdfRefused:
    return PdfRefused(
        f"the PDF holds over {MAX_OBJECTS_CHECKED:,} objects, too many to check it for "
        "JavaScript and launch actions"
    )


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


class Document:
    """A PDF opened with pdfium; every call holds ``PDFIUM_LOCK``."""

    def __init__(self, source: BinaryIO | bytes, origin: str = "") -> None:
        self.origin = origin
        with PDFIUM_LOCK:
            try:
                self._pdf: pdfium.PdfDocument | None = pdfium.PdfDocument(source)
            except pdfium.PdfiumError as exc:
                raise PdfRefused(
                    f"the PDF is damaged or truncated: pdfium cannot open it ({exc})"
                ) from None
            self.page_count = len(self._pdf)

    def check_pages(self, budget: PixelBudget) -> None:
        """Every page's size as it will be drawn, against the limits, before any is drawn."""
        budget.count_pages(self.page_count, self.origin)
        scale = RENDER_DPI / POINTS_PER_INCH
        for index in range(self.page_count):
            width, height = self._page_size(index)
            pixels = round(width * scale), round(height * scale)
            budget.add_page(index + 1, *pixels, self.origin, drawn_at=RENDER_DPI)

    def _page_size(self, index: int) -> tuple[float, float]:
        with PDFIUM_LOCK:
            page = self._open_page(index)
            try:
                width, height = page.get_size()
                return float(width), float(height)
            finally:
                page.close()

    def _open_page(self, index: int) -> pdfium.PdfPage:
        assert self._pdf is not None, "a closed document"
        try:
            return self._pdf[index]
        except pdfium.PdfiumError as exc:
            where = page_label(index + 1, self.origin)
            raise InputRejected(where, f"{where} of the PDF cannot be read: {exc}") from None

    def read_page(self, index: int) -> Page:
        """Page ``index`` with its own visible text, or drawn at RENDER_DPI for OCR."""
        with PDFIUM_LOCK:
            page = self._open_page(index)
            try:
                known = page_text(page, RENDER_DPI / POINTS_PER_INCH)
                if known is not None:
                    return Page(index + 1, None, RENDER_DPI, known, origin=self.origin)
                return Page(index + 1, self._draw(page, index), RENDER_DPI, origin=self.origin)
            finally:
                page.close()

    def _draw(self, page: pdfium.PdfPage, index: int) -> Image.Image:
        where = page_label(index + 1, self.origin)
        try:
            # In colour: the archival copy shows the scan as it is; OCR greys its own copy.
            bitmap = page.render(scale=RENDER_DPI / POINTS_PER_INCH)
        except MemoryError:
            raise ResourceExhausted(f"{where}: out of memory drawing the page") from None
        except pdfium.PdfiumError as exc:
            raise InputRejected(where, f"{where} of the PDF cannot be drawn: {exc}") from None
        try:
            image: Image.Image = bitmap.to_pil()  # a copy (BGR to RGB): outlives the bitmap
            return image
        finally:
            bitmap.close()

    def close(self) -> None:
        with PDFIUM_LOCK:
            if self._pdf is not None:
                self._pdf.close()
                self._pdf = None


def pages(document: Document) -> Iterator[Page]:
    """Each page with its own text, or drawn for OCR, one at a time."""
    for index in range(document.page_count):
        yield document.read_page(index)
