"""Scans (PNG, JPEG, multi-page TIFF), as inputs or as an edXML package's attachments.

Rules, the same for both:
- every page is checked against the limits (``ingest.limits``) from the file's headers
  before any pixel is decoded; then every page is decoded once, so damage is found before
  any OCR time is spent; then the pages are decoded again one at a time, lazily, for
  clean-up and OCR, so a 2,000-page TIFF never sits in memory whole;
- damaged data is a reason to quarantine that names the page; Pillow reports it as any of
  ``DAMAGE`` (a truncated TIFF's directory surfaces as a KeyError, then a TypeError);
- running out of memory while decoding is the machine's limit (``ResourceExhausted``).
"""

from __future__ import annotations

import struct
import warnings
from collections.abc import Iterator
from typing import BinaryIO

from PIL import Image, ImageSequence, UnidentifiedImageError

from archive.errors import InputRejected, ResourceExhausted
from ingest import cleanup
from ingest.contracts import Page, page_label
from ingest.limits import PixelBudget

DAMAGE = (OSError, SyntaxError, ValueError, TypeError, KeyError, IndexError, EOFError)
DAMAGE_OR_STRUCT = (*DAMAGE, struct.error)

# Our own page limit is checked before Pillow decodes anything; its warning for pages over
# its default (~89 megapixels) would only reach the operator's terminal as noise.
warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)
# Pillow's other warnings are about data it reads past (a corrupt EXIF block): damage that
# matters is an error, and the rest is noise in a batch of thousands.
warnings.filterwarnings("ignore", category=UserWarning, module=r"PIL\.")


def open_scan(source: BinaryIO, budget: PixelBudget, origin: str = "") -> Image.Image:
    """The scan in ``source``, its pages counted and checked, every page decoded once."""
    prefix = f"{origin}: " if origin else ""
    try:
        scan = Image.open(source)
    except UnidentifiedImageError:
        # Pillow's message names the file it read, here the archive's staged copy.
        raise InputRejected(
            origin, f"{prefix}not a readable image: damaged, truncated, or not an image at all"
        ) from None
    except Image.DecompressionBombError as exc:
        raise InputRejected(origin, f"{prefix}a page is over the limit of pixels: {exc}") from None
    except DAMAGE_OR_STRUCT as exc:
        raise InputRejected(origin, f"{prefix}{_damaged(exc)}") from None
    try:
        _check_headers(scan, budget, origin)
        _decode_each(scan, origin)
        scan.seek(0)
    except BaseException:
        scan.close()
        raise
    return scan


def _check_headers(scan: Image.Image, budget: PixelBudget, origin: str) -> None:
    number = 0
    frames = ImageSequence.Iterator(scan)
    while True:
        try:
            frame = next(frames, None)
        except Image.DecompressionBombError as exc:
            where = page_label(number + 1, origin)
            raise InputRejected(where, f"{where} is over the limit of pixels: {exc}") from None
        except DAMAGE_OR_STRUCT as exc:
            where = page_label(number + 1, origin)
            raise InputRejected(where, f"{where}: {_damaged(exc)}") from None
        if frame is None:
            return
        number += 1
        budget.count_pages(1, origin)
        budget.add_page(number, *frame.size, origin)


def _decode_each(scan: Image.Image, origin: str) -> None:
    for number, frame in enumerate(ImageSequence.Iterator(scan), start=1):
        _load(frame, number, origin)


def _load(frame: Image.Image, number: int, origin: str) -> None:
    where = page_label(number, origin)
    try:
        frame.load()
    except MemoryError:
        raise ResourceExhausted(f"{where}: out of memory decoding the page") from None
    except DAMAGE_OR_STRUCT as exc:
        raise InputRejected(where, f"{where}: {_damaged(exc)}") from None


def _damaged(exc: BaseException) -> str:
    detail = str(exc) or type(exc).__name__
    return f"the image data is damaged ({detail})"


def pages(scan: Image.Image, origin: str = "") -> Iterator[Page]:
    """The scan's pages one at a time, each decoded only when it is asked for."""
    declared = cleanup.declared_dpi(scan)
    number = 0
    frames = ImageSequence.Iterator(scan)
    while True:
        try:
            frame = next(frames, None)
        except DAMAGE_OR_STRUCT as exc:  # checked before, so only if the file is not the same
            where = page_label(number + 1, origin)
            raise InputRejected(where, f"{where}: {_damaged(exc)}") from None
        if frame is None:
            return
        number += 1
        _load(frame, number, origin)
        yield Page(number, frame, cleanup.effective_dpi(frame, declared), origin=origin)
