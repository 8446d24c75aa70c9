"""pdfium is not thread-safe, and ingest reads PDFs on several worker threads: no two pdfium
calls may ever run at once. Unserialised, two workers crashed the process ("double free or
corruption", SIGSEGV) in about one run of six here, or spun for ever; so the first test
watches every pdfium call instead of waiting for a crash, and the second runs the real
command on several PDFs, repeatedly, with two workers.

Both run in a child process: a crash must fail the test, not end the test run."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from PIL import Image, ImageDraw
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

from ingest.sample_scans import find_font
from tests.conftest import run_cli

# Replaces every pdfium function by one that notes when another thread is inside pdfium too,
# then ingests the PDFs with two workers (a fast stand-in for tesseract: only pdfium is
# watched here, and OCR may run in parallel).
CHILD = r"""
import ctypes, json, sys, tempfile, threading
from pathlib import Path
import pypdfium2.raw as pdfium_c

inside, overlaps, guard = set(), [], threading.Lock()

def watched(name, function):
    def call(*args, **kwargs):
        me = threading.get_ident()
        with guard:
            if inside - {me}:
                overlaps.append(name)
            inside.add(me)
        try:
            return function(*args, **kwargs)
        finally:
            with guard:
                inside.discard(me)
    return call

for name in dir(pdfium_c):
    if name.startswith("FPDF") and isinstance(getattr(pdfium_c, name), ctypes._CFuncPtr):
        setattr(pdfium_c, name, watched(name, getattr(pdfium_c, name)))

from archive.home import ArchiveHome
from archive.models import AccessLevel
from archive.repository import Archive
from ingest.contracts import IngestContext, IngestSettings, RecognizedPage
from ingest.runner import run_ingest

class FastOcr:
    name = "fast"
    def check(self, languages): return None
    def orientation(self, page, work_dir=None): return None
    def recognize(self, page, languages, dpi=300.0, work_dir=None):
        return RecognizedPage("QUYẾT ĐỊNH")

files = sorted(Path(sys.argv[1]).glob("*.pdf"))
statuses = []
for round in range(2):
    home = ArchiveHome(Path(tempfile.mkdtemp()) / "home")
    Archive.initialise(home)
    with Archive.open(home) as archive:
        context = IngestContext(archive, FastOcr(), IngestSettings(AccessLevel.PUBLIC))
        statuses += [r.status.value for r in run_ingest(files, context, 2)]
print(json.dumps({"overlaps": len(overlaps), "calls": sorted(set(overlaps))[:5],
                  "statuses": statuses}))
"""


def _pdfs(folder: Path, typed: int = 8, scanned: int = 4) -> list[Path]:
    """Born-digital PDFs (text extraction) and scanned ones (drawing), a few pages each."""
    folder.mkdir()
    pdfmetrics.registerFont(TTFont("Serif", str(find_font())))
    for n in range(typed):
        page = canvas.Canvas(str(folder / f"typed-{n}.pdf"), pagesize=A4)
        for p in range(3):
            page.setFont("Serif", 11)
            for line in range(30):
                page.drawString(50, 800 - 18 * line, f"Văn bản {n} trang {p} dòng {line}: Căn cứ")
            page.showPage()
        page.save()
    for n in range(scanned):
        image = Image.new("L", (620, 877), 255)
        ImageDraw.Draw(image).text((60, 60 + n), f"QUYET DINH {n}", fill=0)
        image.save(
            folder / f"scan-{n}.pdf", "PDF", resolution=75, save_all=True, append_images=[image]
        )
    return sorted(folder.iterdir())


def test_no_two_pdfium_calls_ever_run_at_once(tmp_path: Path) -> None:
    pdfs = _pdfs(tmp_path / "pdfs")
    child = subprocess.run(
        [sys.executable, "-c", CHILD, str(tmp_path / "pdfs")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert child.returncode == 0, child.stderr[-2000:]
    report = json.loads(child.stdout.splitlines()[-1])
    assert report["overlaps"] == 0, report["calls"]
    assert report["statuses"] == ["sealed"] * 2 * len(pdfs)


def test_ingest_with_two_workers_on_several_pdfs_neither_crashes_nor_hangs(
    tmp_path: Path,
) -> None:
    pdfs = _pdfs(tmp_path / "pdfs", typed=6, scanned=2)
    for trial in range(2):
        home = tmp_path / f"home-{trial}"
        assert run_cli("--home", str(home), "init").returncode == 0
        done = run_cli(
            "--home", str(home), "ingest", str(tmp_path / "pdfs"), "--workers", "2", "--json"
        )
        assert done.returncode == 0, done.stderr[-2000:]
        rows = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
        assert sorted(row["status"] for row in rows) == ["sealed"] * len(pdfs), rows
