"""Real tesseract on a rendered Vietnamese page."""

import shutil
from pathlib import Path

import pytesseract
import pytest
from PIL import Image

from archive.errors import DependencyMissing
from archive.models import AccessLevel
from archive.repository import Archive
from ingest.cleanup import grayscale
from ingest.contracts import IngestContext, IngestSettings, Status
from ingest.pipeline import ingest_one
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


def _tesseract_that(tmp_path: Path, behaviour: str) -> Path:
    """The real tesseract, except that a recognition run ``behaviour``s: "killed" by
    SIGKILL (as the out-of-memory killer does), or "silent" (exit 1, no message). Each run is
    counted in ``runs``."""
    real = shutil.which("tesseract")
    action = {"killed": "kill -9 $$", "silent": "exit 1"}[behaviour]
    script = tmp_path / "tesseract"
    script.write_text(
        "#!/bin/bash\n"
        f'case "$*" in *tessedit_create_tsv*) echo run >> {tmp_path}/runs; {action};; esac\n'
        f'exec {real} "$@"\n'
    )
    script.chmod(0o755)
    return script


@pytest.mark.parametrize(
    ("behaviour", "said"),
    [
        ("killed", "page 1: tesseract was killed by SIGKILL (the out-of-memory killer?), twice"),
        ("silent", "page 1: tesseract stopped with exit status 1 and said nothing, twice"),
    ],
)
def test_tesseract_killed_or_silent_is_the_machines_fault_tried_twice_then_failed(
    archive: Archive, sample_scans: list[Path], tmp_path: Path, monkeypatch, behaviour, said
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(
        pytesseract.pytesseract, "tesseract_cmd", str(_tesseract_that(tmp_path, behaviour))
    )
    context = IngestContext(archive, TesseractEngine(), IngestSettings(AccessLevel.PUBLIC))
    result = ingest_one(sample_scans[0], context)
    assert result.status is Status.FAILED, result
    assert result.reason == said
    assert (tmp_path / "runs").read_text().count("run") == 2
    assert archive.quarantined() == [] and archive.count_records() == 0
