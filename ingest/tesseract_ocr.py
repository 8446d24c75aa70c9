"""The built-in OCR engine: tesseract through pytesseract, Vietnamese and English by default."""

from __future__ import annotations

import os

import pytesseract
from PIL import Image

from archive.errors import DependencyMissing, InputRejected
from archive.text import normalize

INSTALL_HINT = "install it with: apt-get install tesseract-ocr tesseract-ocr-vie"


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
        missing = [lang for lang in languages.split("+") if lang not in installed]
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


OCR_ENGINES: dict[str, type[TesseractEngine]] = {TesseractEngine.name: TesseractEngine}
