"""The built-in OCR engine: tesseract through pytesseract, Vietnamese and English by default."""

from __future__ import annotations

import os
import re
import signal
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytesseract
from PIL import Image

from archive.errors import DependencyMissing, InputRejected, ResourceExhausted
from archive.text import normalize
from ingest.contracts import RecognizedPage, Word

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

    def __init__(self, page_segmentation_mode: int = 3, page_timeout_seconds: int = 0) -> None:
        self._timeout = page_timeout_seconds
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

    def recognize(
        self,
        page: Image.Image,
        languages: str,
        dpi: float = 300.0,
        work_dir: Path | None = None,
    ) -> RecognizedPage:
        # One run writes the words with their boxes and confidences (TSV) and the invisible
        # text layer (PDF, text only: the archival copy shows the scan's own image under it);
        # the text is rebuilt from the TSV layout, so a page is never recognised twice.
        with tempfile.TemporaryDirectory(prefix="ocr-", dir=work_dir) as work:
            # Uncompressed TIFF: tesseract only reads it back, and PNG's compression cost a
            # tenth of the page's OCR time.
            source, base = Path(work, "page.tif"), Path(work, "page")
            page.save(source, format="TIFF", dpi=(dpi, dpi), compression="raw")
            self._run(source, base, languages, dpi)
            tsv = base.with_suffix(".tsv").read_text(encoding="utf-8")
            text_layer = base.with_suffix(".pdf").read_bytes()
        words = tuple(_words(pytesseract.pytesseract.file_to_dict(tsv, "\t", -1)))
        return RecognizedPage(_text(words), words, page.width, page.height, text_layer)

    def _run(self, source: Path, base: Path, languages: str, dpi: float) -> None:
        config = (
            f"{self._config} --dpi {max(1, round(dpi))} -c tessedit_create_tsv=1 -c textonly_pdf=1"
        )
        try:
            pytesseract.pytesseract.run_tesseract(
                str(source), str(base), "pdf", languages, config, timeout=self._timeout
            )
        except pytesseract.TesseractError as exc:
            machine = _machine_fault(exc)
            if machine:
                raise ResourceExhausted(machine) from None
            raise InputRejected("page", f"tesseract failed on this page: {exc.message}") from exc
        except RuntimeError as exc:  # after TesseractError, which is one too
            # pytesseract kills tesseract and says "Tesseract process timeout".
            if "timeout" not in str(exc).lower():
                raise
            raise ResourceExhausted(
                f"OCR of a page took over {self._timeout} s and was stopped"
            ) from None

    def orientation(self, page: Image.Image, work_dir: Path | None = None) -> int | None:
        scale = OSD_LONGEST_SIDE / max(page.size)
        if scale < 1:
            # At least a pixel each way: a long thin strip must not shrink to nothing.
            page = page.resize(
                (max(1, round(page.width * scale)), max(1, round(page.height * scale)))
            )
        with tempfile.TemporaryDirectory(prefix="osd-", dir=work_dir) as work:
            source, base = Path(work, "page.tif"), Path(work, "page")
            page.save(source, format="TIFF", compression="raw")
            try:
                pytesseract.pytesseract.run_tesseract(
                    str(source), str(base), "osd", "osd", "--psm 0", timeout=self._timeout
                )
                report = base.with_suffix(".osd").read_text(encoding="utf-8")
            except (pytesseract.TesseractError, RuntimeError, OSError):
                # "Too few characters", or killed: nothing sure to turn by; OCR still runs.
                return None
        rotate, confidence = _ROTATE.search(report), _CONFIDENCE.search(report)
        if rotate is None or confidence is None:
            return None
        if float(confidence.group(1)) < OSD_MIN_CONFIDENCE:
            return None
        return int(rotate.group(1)) % 360


def _machine_fault(exc: pytesseract.TesseractError) -> str:
    """What the machine did to tesseract, or "" when tesseract refused the page itself.

    Killed by a signal (the out-of-memory killer's SIGKILL, a SIGSEGV), tesseract exits with
    no message of its own; so does one stopped from outside. Neither says anything about the
    page, and the page is tried again rather than blamed."""
    status = int(exc.status) if isinstance(exc.status, int) else 0
    if status < 0:
        try:
            name = signal.Signals(-status).name
        except ValueError:
            name = f"signal {-status}"
        hint = " (the out-of-memory killer?)" if -status == signal.SIGKILL else ""
        return f"tesseract was killed by {name}{hint}"
    if not str(exc.message or "").strip():
        return f"tesseract stopped with exit status {status} and said nothing"
    return ""


OCR_ENGINES: dict[str, type[TesseractEngine]] = {TesseractEngine.name: TesseractEngine}


def _words(data: dict[str, list[Any]]) -> Iterator[Word]:
    for i, raw in enumerate(data["text"]):
        text = normalize(str(raw)).strip()
        if not text or float(data["conf"][i]) < 0:
            continue
        yield Word(
            text,
            int(data["left"][i]),
            int(data["top"][i]),
            int(data["width"][i]),
            int(data["height"][i]),
            float(data["conf"][i]),
            int(data["block_num"][i]),
            int(data["par_num"][i]),
            int(data["line_num"][i]),
        )


def _text(words: tuple[Word, ...]) -> str:
    """Words joined as tesseract's text output joins them: a space between words, a newline
    between lines, a blank line between blocks and paragraphs."""
    lines: list[str] = []
    previous: tuple[int, int, int] | None = None
    for word in words:
        key = (word.block, word.paragraph, word.line)
        if previous is None:
            lines.append(word.text)
        elif key == previous:
            lines[-1] += " " + word.text
        else:
            if key[:2] != previous[:2]:
                lines.append("")
            lines.append(word.text)
        previous = key
    return "\n".join(lines)
