"""What one input may cost the machine: pages, pixels a page, pixels of all pages together.

Checked from what a file says of its pages (image headers, PDF page boxes) before a single
pixel is decoded, since decoding is where a decompression bomb does its harm. Rules:
- an input (an edXML package with all its attachments is one input) holds at most
  ``max_pages`` pages;
- a page holds at most ``max_page_pixels``: the largest real sheets fit (A0 at 200 dpi, A1
  at 300, A3 at 600), a page of absurd size does not, whatever the file's size: issue 7's
  27 KB TIFF of three 12000 x 12000 pages (144 megapixels each, 1 GB and 15 s of OCR a page)
  is refused at its first page;
- all pages together hold at most ``max_input_pixels``, counted in A4 pages at 300 dpi
  (8.7 megapixels): the default is ``max_pages`` of them, so any hồ sơ of real pages up to
  the page limit passes (250 A4 pages at 300 dpi are 2.2 gigapixels, 2,000 of them 17.4),
  while pages that are each far larger than A4 run out of budget long before the page limit.
The budget is not tied to the file's size in bytes: a blank page compresses to almost
nothing, and a duplex scan is full of them. Each reason names the page, the measure and the
limit, in the units a person checks a scan by.
"""

from __future__ import annotations

from archive.errors import InputRejected
from ingest.contracts import A4_300DPI_PIXELS, IngestSettings, page_label

_BOMB = "a decompression bomb or a mis-set scanner"


class PixelBudget:
    """The pages of one input as they are announced, against ``IngestSettings``' limits."""

    def __init__(self, settings: IngestSettings) -> None:
        self.settings = settings
        self.pages = 0
        self.pixels = 0

    def count_pages(self, count: int, origin: str = "") -> None:
        """``count`` more pages (a PDF's page count, before any page is looked at)."""
        self.pages += count
        limit = self.settings.max_pages
        if self.pages > limit:
            what = f"{origin} brings the pages to" if origin else "it has"
            raise InputRejected(origin, f"{what} {self.pages:,} pages, over the limit of {limit:,}")

    def add_page(
        self, number: int, width: int, height: int, origin: str = "", drawn_at: int = 0
    ) -> None:
        """Page ``number`` (of ``origin``, when it is an attachment) is ``width`` x ``height``
        pixels as it will be decoded, or drawn at ``drawn_at`` dpi (a PDF's page)."""
        where = page_label(number, origin)
        pixels = width * height
        limit = self.settings.max_page_pixels
        if pixels > limit:
            drawn = f" drawn at {drawn_at} dpi" if drawn_at else ""
            why = "too large to draw for OCR" if drawn_at else _BOMB
            raise InputRejected(
                where,
                f"{where} is {width:,} x {height:,} pixels{drawn} ({_mega(pixels)}, "
                f"{_a4(pixels)}), over the limit of {_mega(limit)} a page: {why}",
            )
        self.pixels += pixels
        budget = self.settings.max_input_pixels
        if self.pixels > budget:
            raise InputRejected(
                where,
                f"by {where} its pages hold {_giga(self.pixels)} ({_a4(self.pixels)}), "
                f"over the limit of {_giga(budget)} ({_a4(budget)}) for one input",
            )


def _mega(pixels: int) -> str:
    return f"{pixels / 1e6:,.1f} megapixels"


def _giga(pixels: int) -> str:
    return f"{pixels / 1e9:,.1f} gigapixels" if pixels >= 1e9 else _mega(pixels)


def _a4(pixels: int) -> str:
    pages = pixels / A4_300DPI_PIXELS
    shown = f"{pages:,.1f}" if pages < 10 else f"{pages:,.0f}"
    return f"as much as {shown} A4 pages at 300 dpi"
