"""Ingest steps that work page by page, between reading a scan and recognising its text.

Each wraps ``item.pages`` (a lazy iterator), so pages stream through the steps one at a time,
in the order PIPELINE lists them. The image functions live in ``ingest.cleanup``; every step
leaves a page alone when it does not need the step.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

from archive.errors import ResourceExhausted
from ingest import cleanup
from ingest.contracts import IngestContext, Page, WorkItem

# Circular 05/2025/TT-BNV, digitization: at least 200 dpi, colour of at least 24 bits.
STANDARD_MIN_DPI = 200
COLOUR_MODES = frozenset({"RGB", "RGBA", "CMYK", "YCbCr", "LAB", "HSV"})


class _PageStep:
    name = "page-step"

    def able_to_run(self, item: WorkItem) -> bool:
        return item.outcome is None and item.pages is not None

    def run(self, item: WorkItem, context: IngestContext) -> None:
        assert item.pages is not None
        item.pages = self._each(item.pages, context)

    def _each(self, pages: Iterator[Page], context: IngestContext) -> Iterator[Page]:
        for page in pages:
            # A page with its own text (born digital) needs no clean-up for OCR.
            if page.image is None:
                yield page
                continue
            try:
                cleaned = self.process(page, context)
            except MemoryError:
                raise ResourceExhausted(f"{page.where}: out of memory in {self.name}") from None
            yield cleaned

    def process(self, page: Page, context: IngestContext) -> Page:
        raise NotImplementedError

    def cleanup(self, item: WorkItem) -> None:
        return None


class CheckDigitization:
    """The standard's checks become warnings on the record, never rejections: an old scan is
    still the only copy of a document."""

    name = "check-digitization"

    def able_to_run(self, item: WorkItem) -> bool:
        return item.outcome is None and item.scan is not None

    def run(self, item: WorkItem, context: IngestContext) -> None:
        assert item.scan is not None
        dpi = cleanup.declared_dpi(item.scan)
        stated = cleanup.stated_dpi(item.scan)
        if dpi is None and stated is not None:
            item.warnings.append(
                f"the scan declares {stated:g} dpi, which no scanner makes; its resolution "
                "was estimated from an A4 page's width"
            )
        elif dpi is None:
            item.warnings.append(
                "the scan declares no resolution; the standard asks for at least "
                f"{STANDARD_MIN_DPI} dpi"
            )
        elif dpi < STANDARD_MIN_DPI:
            item.warnings.append(
                f"scanned at {dpi:.0f} dpi, under the standard's {STANDARD_MIN_DPI} dpi"
            )
        if item.scan.mode not in COLOUR_MODES:
            item.warnings.append(
                f"scanned in {_MODE_NAMES.get(item.scan.mode, item.scan.mode)}; the standard "
                "asks for colour of at least 24 bits"
            )

    def cleanup(self, item: WorkItem) -> None:
        return None


_MODE_NAMES = {"1": "black and white (1 bit)", "L": "grey (8 bits)", "P": "a palette (8 bits)"}


class Grayscale(_PageStep):
    name = "grayscale"

    def process(self, page: Page, context: IngestContext) -> Page:
        assert page.image is not None and page.visual is not None
        # Grey for OCR; the archival copy keeps the colours, turned upright the same way.
        return replace(
            page,
            image=cleanup.grayscale(page.image),
            visual=cleanup.upright_per_exif(page.visual),
        )


class Denoise(_PageStep):
    name = "denoise"

    def process(self, page: Page, context: IngestContext) -> Page:
        assert page.image is not None
        return replace(page, image=cleanup.denoise(page.image))


class Upscale(_PageStep):
    name = "upscale"

    def process(self, page: Page, context: IngestContext) -> Page:
        if page.image is None or page.dpi >= cleanup.UPSCALE_BELOW_DPI:
            return page
        image = cleanup.upscale(page.image, page.dpi, context.settings.max_page_pixels)
        return replace(page, image=image, dpi=page.dpi * image.width / page.image.width)


class Orient(_PageStep):
    """Turn pages fed sideways or upside down upright (tesseract's orientation detection,
    asked only about pages that look turned)."""

    name = "orient"

    def process(self, page: Page, context: IngestContext) -> Page:
        assert page.image is not None
        if not cleanup.looks_turned(page.image):
            return page
        turn = context.ocr.orientation(page.image, work_dir=context.work_dir)
        if not turn:
            return page
        assert page.visual is not None
        # OSD's "Rotate: N" is clockwise; Pillow rotates counter-clockwise.
        return replace(
            page,
            image=page.image.rotate(-turn, expand=True),
            visual=page.visual.rotate(-turn, expand=True),
        )


class Deskew(_PageStep):
    name = "deskew"

    def process(self, page: Page, context: IngestContext) -> Page:
        assert page.image is not None and page.visual is not None
        angle = cleanup.skew_angle(page.image)
        if abs(angle) < cleanup.DESKEW_MIN_DEGREES:
            return page
        width, height = cleanup.rotated_size(page.image.size, angle)
        if width * height > context.settings.max_page_pixels or max(width, height) > (
            cleanup.TESSERACT_MAX_SIDE
        ):
            return page  # turned, a long strip would grow past what a page may be: read as is
        # The visual is straightened by the archival copy's drawing of it (``visual_tilt``):
        # resampling a colour page cost twice tesseract's time on that page here.
        return replace(page, image=cleanup.rotate_by(page.image, angle), visual_tilt=angle)
