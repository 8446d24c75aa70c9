"""Page clean-up before OCR: pure functions from a page image to a better page image.

Each one does nothing to a page that does not need it, so a clean scan reaches tesseract as it
was. Measured here on Debian's tesseract 5 with the `vie` model (rendered A4 pages, 200 dpi):
- 10% salt-and-pepper noise: tesseract returns an empty page; a 3x3 median filter: 0% CER;
- a tilt of 8°: empty page; deskewed: 0% CER (tesseract copes with up to ~5° itself);
- a page turned 90° or 180°: ~90% CER; turned upright by tesseract's OSD: 0% CER (OSD costs
  half a second a page, so it is asked only about pages that ``looks_turned``);
- 60 dpi: 1.9% CER; resampled to 300 dpi: 0%.
The original file is never touched: these work on the decoded copy.
"""

from __future__ import annotations

import math

import numpy as np
from PIL import ExifTags, Image, ImageCms, ImageFilter, ImageOps

# A pixel this dark is ink (paper is near 255, print near 0, scanner grey in between).
SPECK_INK_BELOW = 128
# Share of specks above which a page is treated as salt-and-pepper noisy. Clean pages of
# text measured 0-0.05% (bench/quality.py pages at 200 and 300 dpi: the marks of small
# letters at 200 dpi are a pixel or two), light noise of one dark pixel in 300 about 0.3%.
NOISY_SPECK_SHARE = 0.0015
DESKEW_MAX_DEGREES = 10.0
# Below this a tilt is left alone: tesseract reads it, and every rotation resamples the page.
DESKEW_MIN_DEGREES = 0.3
UPSCALE_BELOW_DPI = 200
UPSCALE_TO_DPI = 300
# A 50 dpi scan (the coarsest worth reading) reaches 300 dpi; a page whose resolution reads
# as almost nothing (a strip a few pixels wide, taken for A4) is not blown up a thousand times.
MAX_UPSCALE = UPSCALE_TO_DPI / 50
# Under tesseract's 32,767 pixels a side, with room for deskew's rotation to grow it.
MAX_UPSCALED_SIDE = 30_000
TESSERACT_MAX_SIDE = 32_767
A4_WIDTH_INCHES = 8.27


# Declared resolutions outside this range are no scanner's (a PNG saying 100000 dpi, or 2):
# taken at their word they would draw a page of 1 pt, or upscale it 150 times.
PLAUSIBLE_DPI = (50.0, 4800.0)
PAPER_WHITE = (255, 255, 255)


def grayscale(page: Image.Image) -> Image.Image:
    """Upright per EXIF, on white, 8-bit grey: what every later step and tesseract expect."""
    return on_white(upright_per_exif(from_lab(page))).convert("L")


def from_lab(page: Image.Image) -> Image.Image:
    """A CIE L*a*b* scan (archival scanners make them) in sRGB, which Pillow's ``convert``
    cannot make of it; any other page as it is."""
    if page.mode != "LAB":
        return page
    lab, srgb = ImageCms.createProfile("LAB"), ImageCms.createProfile("sRGB")
    converted = ImageCms.profileToProfile(page, lab, srgb, outputMode="RGB")
    assert converted is not None  # None only when asked to convert in place
    return converted


def on_white(page: Image.Image) -> Image.Image:
    """A page with transparency composited onto white paper, as every viewer shows it:
    dropping the alpha channel instead turns black text on a transparent background into
    black on black."""
    if page.mode not in ("RGBA", "LA", "PA", "RGBa", "La") and "transparency" not in page.info:
        return page
    rgba = page.convert("RGBA")
    paper = Image.new("RGBA", page.size, (*PAPER_WHITE, 255))
    return Image.alpha_composite(paper, rgba).convert("RGB")


def upright_per_exif(page: Image.Image) -> Image.Image:
    # Pillow's exif_transpose copies a page that needs no turn: a full page copy per scan.
    if page.getexif().get(ExifTags.Base.Orientation, 1) == 1:
        return page
    return ImageOps.exif_transpose(page)


def speck_share(page: Image.Image) -> float:
    """Share of pixels that are specks: dark pixels with at most one dark neighbour, which
    no letter has (a stroke's pixels touch several others), measured on the middle third of
    the page (scanner noise covers the whole sheet). Counting what a median filter changes
    instead could not tell light noise from the crisp corners of clean text."""
    band = page.crop((0, page.height // 3, page.width, 2 * page.height // 3))
    ink = np.pad(np.asarray(band) < SPECK_INK_BELOW, 1)
    neighbours = np.zeros(ink.shape, dtype=np.uint8)
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            if dy or dx:
                neighbours += np.roll(np.roll(ink, dy, axis=0), dx, axis=1)
    specks = ink & (neighbours <= 1)
    return float(specks[1:-1, 1:-1].mean())


def denoise(page: Image.Image) -> Image.Image:
    """A median filter, only on pages noisy enough to need it (it thins strokes a little)."""
    if speck_share(page) < NOISY_SPECK_SHARE:
        return page
    cleaned = page.filter(ImageFilter.MedianFilter(3))
    # Dense noise survives one pass as pairs of specks; a second pass removes them.
    if speck_share(cleaned) >= NOISY_SPECK_SHARE:
        cleaned = cleaned.filter(ImageFilter.MedianFilter(3))
    return cleaned


def stated_dpi(image: Image.Image) -> float | None:
    """The resolution the file states, whatever it is; None when it states none."""
    raw = image.info.get("dpi")
    try:
        value = float(raw[0]) if raw else 0.0
    except (TypeError, ValueError, IndexError):
        return None
    # PNG stores pixels per metre, so 200 dpi reads back as 199.9996: round to whole dpi.
    # Pillow reports 1 for files that say nothing (no unit); that is no resolution.
    return float(round(value)) if value > 1 else None


def declared_dpi(image: Image.Image) -> float | None:
    """The resolution the file states, if it states one a scanner could have made."""
    value = stated_dpi(image)
    low, high = PLAUSIBLE_DPI
    return value if value is not None and low <= value <= high else None


def effective_dpi(page: Image.Image, declared: float | None) -> float:
    """The scan's resolution: as the file declares it, else guessed from an A4 page width."""
    if declared and declared > 1:
        return declared
    return min(page.size) / A4_WIDTH_INCHES


def upscale(page: Image.Image, dpi: float, max_pixels: int | None = None) -> Image.Image:
    """Resample a scan under 200 dpi to 300 dpi: small glyphs lose their diacritics first.
    Never past ``max_pixels`` (the page limit), ``MAX_UPSCALE`` times or ``MAX_UPSCALED_SIDE``:
    a low resolution must not make a bomb, nor a page tesseract refuses."""
    if dpi >= UPSCALE_BELOW_DPI:
        return page
    factor = min(UPSCALE_TO_DPI / dpi, MAX_UPSCALE, MAX_UPSCALED_SIDE / max(page.size))
    if max_pixels is not None:
        factor = min(factor, (max_pixels / max(1, page.width * page.height)) ** 0.5)
    if factor <= 1:
        return page
    # Whole pixels down, so a capped page stays under the cap.
    size = (int(page.width * factor + 1e-9), int(page.height * factor + 1e-9))
    return page.resize(size, Image.Resampling.LANCZOS)


def skew_angle(page: Image.Image) -> float:
    """The tilt of the text lines in degrees (counter-clockwise positive), by the angle whose
    horizontal projection of ink is sharpest (lines and gaps best separated)."""
    small = _at_most(page, 1200)
    ink = np.asarray(small) < _otsu_threshold(small)
    rows_of_ink, columns_of_ink = np.nonzero(ink)
    if len(columns_of_ink) < 500:
        return 0.0  # a blank page has no lines to align
    # Whole-pixel centres: from a half-pixel one, every row lands on .5 at 0° and rounding
    # half to even merges pairs of rows, a false peak of sharpness that hid real tilts.
    xs = (columns_of_ink - small.width // 2).astype(np.float64)
    ys = (rows_of_ink - small.height // 2).astype(np.float64)

    def sharpness(degrees: float) -> float:
        theta = np.deg2rad(degrees)
        rows = np.floor(ys * np.cos(theta) + xs * np.sin(theta) + 0.5).astype(np.int64)
        counts = np.bincount(rows - rows.min())
        return float(np.sum(counts.astype(np.float64) ** 2))

    best = max(np.arange(-DESKEW_MAX_DEGREES, DESKEW_MAX_DEGREES + 0.01, 0.5), key=sharpness)
    fine = np.arange(best - 0.5, best + 0.51, 0.05)
    return float(max(fine, key=sharpness))


def deskew(page: Image.Image) -> Image.Image:
    angle = skew_angle(page)
    if abs(angle) < DESKEW_MIN_DEGREES:
        return page
    return rotate_by(page, angle)


def rotated_size(size: tuple[int, int], degrees: float) -> tuple[int, int]:
    """The size of a page of ``size`` turned by ``degrees`` with its corners kept."""
    theta = math.radians(abs(degrees))
    width, height = size
    return (
        math.ceil(width * math.cos(theta) + height * math.sin(theta)),
        math.ceil(height * math.cos(theta) + width * math.sin(theta)),
    )


def rotate_by(page: Image.Image, degrees: float) -> Image.Image:
    """Turn ``page`` clockwise by ``degrees`` (undoing a counter-clockwise tilt), filling the
    uncovered corners with the paper's colour."""
    if page.mode not in ("L", "RGB"):
        # Bicubic needs grey levels, and the paper's colour must mean the same in the result.
        page = page.convert("L" if page.mode in ("1", "I;16") else "RGB")
    return page.rotate(
        -degrees, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=_paper_of(page)
    )


def _paper_of(page: Image.Image) -> int | tuple[int, ...]:
    grey = _paper(page if page.mode == "L" else page.convert("L"))
    bands = len(page.getbands())
    return grey if bands == 1 else (grey,) * bands


def looks_turned(page: Image.Image) -> bool:
    """Whether the page may not be upright, cheaply, so that tesseract's orientation detection
    (half a second a page here, most of a page's OCR time) runs only when it may matter.

    Turned 90°, text lines run down the page: ink is better separated by columns than by
    rows. Upside down, each line's ink sits in the upper part of the line, because Vietnamese
    letters carry their marks above the letter body (upright, the body is the lower part).
    """
    small = _at_most(page, 1400)
    ink = np.asarray(small) < _otsu_threshold(small)
    if ink.sum() < 500:
        return False
    rows, columns = ink.sum(axis=1).astype(np.float64), ink.sum(axis=0).astype(np.float64)
    if np.sum(columns**2) / columns.size > np.sum(rows**2) / rows.size:
        return True
    return _line_ink_bias(rows) < 0.5


def _line_ink_bias(rows: np.ndarray) -> float:
    """Where, from 0 (top) to 1 (bottom), each text line's ink lies, weighted by ink."""
    # A row is part of a text line when it holds a tenth of the inkiest row's ink.
    busy = rows > max(2.0, 0.1 * float(rows.max(initial=0)))
    positions, weights = [], []
    start = None
    for y, on in enumerate([*busy, False]):
        if on and start is None:
            start = y
        elif not on and start is not None:
            band = rows[start:y]
            if len(band) >= 4:
                offsets = np.arange(len(band)) / (len(band) - 1)
                positions.append(float((band * offsets).sum() / band.sum()))
                weights.append(float(band.sum()))
            start = None
    return float(np.average(positions, weights=weights)) if positions else 0.5


def _otsu_threshold(page: Image.Image) -> int:
    histogram = np.bincount(np.asarray(page).ravel(), minlength=256).astype(np.float64)
    total = histogram.sum()
    levels = np.arange(256)
    weight_dark = np.cumsum(histogram)
    weight_light = total - weight_dark
    sum_dark = np.cumsum(histogram * levels)
    mean_dark = sum_dark / np.maximum(weight_dark, 1)
    mean_light = (sum_dark[-1] - sum_dark) / np.maximum(weight_light, 1)
    between = weight_dark * weight_light * (mean_dark - mean_light) ** 2
    return int(np.argmax(between))


def _paper(page: Image.Image) -> int:
    """The page's background grey, to fill the corners a rotation uncovers."""
    return int(np.percentile(np.asarray(_at_most(page, 400)), 90))


def _at_most(page: Image.Image, longest: int) -> Image.Image:
    """``page`` shrunk by a whole factor to ``longest`` pixels or fewer: a box average of
    whole pixel blocks, a tenth of the time of resampling to an exact size (the analyses
    above need the lines, not a size)."""
    factor = -(-max(page.size) // longest)
    return page if factor <= 1 else page.reduce(factor)
