"""Real tesseract on a rendered Vietnamese page."""

import pytest
from PIL import Image

from archive.errors import DependencyMissing
from ingest.cleanup import grayscale
from ingest.sample_scans import SAMPLES, render_page
from ingest.tesseract_ocr import TesseractEngine

# Words of the rendered page, with their diacritics, that OCR must give back exactly.
EXPECTED_WORDS = [
    "QUYẾT ĐỊNH",
    "ỦY BAN NHÂN DÂN",
    "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
    "Độc lập - Tự do - Hạnh phúc",
    "1482/QĐ-UBND",
    "chuyển đổi số",
    "Chính phủ",
    "công tác văn thư",
    "tài liệu lưu trữ",
]


@pytest.fixture(scope="module")
def page_text() -> str:
    engine = TesseractEngine()
    engine.check("vie+eng")
    return engine.recognize(grayscale(render_page(SAMPLES[0], dpi=200)), "vie+eng").text


@pytest.mark.parametrize("words", EXPECTED_WORDS)
def test_ocr_returns_the_rendered_vietnamese_words(page_text: str, words: str) -> None:
    assert words in page_text


def test_ocr_text_is_nfc(page_text: str) -> None:
    import unicodedata

    assert unicodedata.is_normalized("NFC", page_text)


def test_blank_page_gives_empty_text() -> None:
    blank = TesseractEngine().recognize(Image.new("L", (800, 600), 255), "vie+eng")
    assert blank.text == "" and blank.words == () and blank.confidence is None


def test_missing_language_is_a_dependency_error_not_a_bad_file() -> None:
    with pytest.raises(DependencyMissing, match="tesseract-ocr-vie"):
        TesseractEngine().check("vie+xyz")
