"""The real OCR engine for the ingest tests. A machine without tesseract or its Vietnamese
data fails these tests rather than skipping them: `make test` installs both."""

from __future__ import annotations

import pytest

from ingest.tesseract_ocr import TesseractEngine


@pytest.fixture(scope="module")
def engine() -> TesseractEngine:
    engine = TesseractEngine()
    engine.check("vie+eng")
    return engine
