"""The built-in OCR engine: tesseract through pytesseract, Vietnamese and English by default."""

from __future__ import annotations

import os
import re

import pytesseract
from PIL import Image

from archive.errors import DependencyMissing, InputRejected
from archive.text import normalize

INSTALL_HINT = "install it with: apt-get install tesseract-ocr tesseract-ocr-vie tesseract-ocr-osd"
# OSD reads a page shrunk to this: its answer is as sure as at full size (measured on the
# sample pages: confidence 8-12 at 1200 px against 13-22 at full size, wrong at 800 px).
OSD_LONGEST_SIDE = 1200
# Below this tesseract's orientation guess is noise (blank or nearly blank pages score < 1).
OSD_MIN_CONFIDENCE = 2.0
_ROTATE = re.compile(r"^Rotate:\s*(\d+)", re.MULTILINE)
_CONFIDENCE = re.compile(r"^Orientation confidence:\s*([\d.]+)", re.MULTILINE)


class TesseractEngine:
    name = "tesseract"

    def __init__(self, page_segmentation_mode: int = 3) -> None:
        # psm 3: fully automatic layout, right for administrative pages with two header columns.
        self._config = f"--psm {page_segmentation_mode}"
        # tesseract's OpenMP threads cost more than they give on a page this size: one thread
        # was 4x faster here (bench/RESULTS.md), and parallel pages use --workers instead.
        # pytesseract passes the environment through; an explicit setting is respected.
        os.environ.setdefault("OMP_THREAD_LIMIT", "1")

    def check(self, languages: str) -> None:
        try:
            installed = set(pytesseract.get_languages(config=""))
        except (pytesseract.TesseractNotFoundError, OSError) as exc:
            raise DependencyMissing(f"tesseract is not installed; {INSTALL_HINT}") from exc
        # osd: the orientation step's model (Debian's tesseract-ocr-osd).
        missing = [lang for lang in [*languages.split("+"), "osd"] if lang not in installed]
        if missing:
            raise DependencyMissing(
                f"tesseract has no language data for {', '.join(missing)}; {INSTALL_HINT}"
            )

    def recognize(self, page: Image.Image, languages: str) -> str:
        try:
            text = pytesseract.image_to_string(page, lang=languages, config=self._config)
        except pytesseract.TesseractError as exc:
            raise InputRejected("page", f"tesseract failed on this page: {exc.message}") from exc
        return normalize(text).strip()

    def orientation(self, page: Image.Image) -> int | None:
        scale = OSD_LONGEST_SIDE / max(page.size)
        if scale < 1:
            page = page.resize((round(page.width * scale), round(page.height * scale)))
        try:
            report = pytesseract.image_to_osd(page, config="--psm 0")
        except pytesseract.TesseractError:
            return None  # "too few characters": nothing to turn by
        rotate, confidence = _ROTATE.search(report), _CONFIDENCE.search(report)
        if rotate is None or confidence is None:
            return None
        if float(confidence.group(1)) < OSD_MIN_CONFIDENCE:
            return None
        return int(rotate.group(1)) % 360


OCR_ENGINES: dict[str, type[TesseractEngine]] = {TesseractEngine.name: TesseractEngine}
