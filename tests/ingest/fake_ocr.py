"""An OCR engine for fault injection, without tesseract: every language is installed and no
page is turned; a subclass says what recognising a page does."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from ingest.contracts import RecognizedPage


class FakeOcr:
    name = "fake"

    def check(self, languages: str) -> None:
        return None

    def orientation(self, page: Image.Image, work_dir: Path | None = None) -> int | None:
        return None

    def recognize(
        self, page: Image.Image, languages: str, dpi: float = 300.0, work_dir: Path | None = None
    ) -> RecognizedPage:
        raise NotImplementedError
