"""Work files (page images, OCR output, the archival copy before it is sealed) stay in the
archive home, owner-only, and what a killed run leaves there is removed by the next run."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from archive.fsutil import STALE_AFTER_SECONDS
from archive.models import AccessLevel
from archive.repository import Archive
from ingest.contracts import IngestContext, IngestSettings, Status
from ingest.pipeline import ingest_one
from ingest.runner import run_ingest
from ingest.sample_scans import SAMPLES, render_page
from ingest.tesseract_ocr import TesseractEngine
from ingest.workspace import RUN_PREFIX, WORK_DIR, Workspace


class WatchingOcr(TesseractEngine):
    """Real tesseract, noting the folder it is given for its work files."""

    def __init__(self) -> None:
        super().__init__()
        self.folders: list[Path | None] = []

    def recognize(self, page, languages, dpi=300.0, work_dir=None):  # type: ignore[no-untyped-def]
        self.folders.append(work_dir)
        return super().recognize(page, languages, dpi, work_dir)

    def orientation(self, page, work_dir=None):  # type: ignore[no-untyped-def]
        self.folders.append(work_dir)
        return super().orientation(page, work_dir)


def test_no_work_file_is_written_outside_the_archive_home(
    archive: Archive, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[str] = []
    real = tempfile.gettempdir

    def system_temp() -> str:  # every use of $TMPDIR goes through here
        asked.append("gettempdir")
        return real()

    monkeypatch.setattr(tempfile, "gettempdir", system_temp)
    scan = tmp_path / "sideways.png"
    render_page(SAMPLES[0], 200, 0).rotate(90, expand=True).save(scan, dpi=(200, 200))
    ocr = WatchingOcr()
    context = IngestContext(archive, ocr, IngestSettings(AccessLevel.PUBLIC))
    [result] = run_ingest([scan], context)
    assert result.status is Status.SEALED, result.reason
    record = archive.get(result.record_id or "", AccessLevel.PUBLIC)
    assert "archival" in [f.role for f in record.files]  # the copy was made, in the home
    work = archive.home.root / WORK_DIR
    assert len(ocr.folders) >= 2 and all(f is not None and f.parent == work for f in ocr.folders)
    assert asked == []
    assert stat.S_IMODE(work.stat().st_mode) & 0o077 == 0
    assert list(work.iterdir()) == []  # the run's folder went with the run


def test_an_input_ingested_on_its_own_gets_a_workspace_too(
    archive: Archive, sample_scans: list[Path]
) -> None:
    ocr = WatchingOcr()
    result = ingest_one(sample_scans[0], IngestContext(archive, ocr, IngestSettings()))
    assert result.status is Status.SEALED, result.reason
    assert ocr.folders and ocr.folders[0] is not None
    assert ocr.folders[0].is_relative_to(archive.home.root / WORK_DIR)
    assert not ocr.folders[0].exists()


HOLD = """
import sys, time
from pathlib import Path
from ingest.workspace import Workspace
workspace = Workspace.open(Path(sys.argv[1]))
(workspace.path / "page.tif").write_bytes(b"the content of a secret record")
print(workspace.path, flush=True)
time.sleep(600)
"""


def _holder(home: Path) -> tuple[subprocess.Popen[str], Path]:
    child = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(home)], stdout=subprocess.PIPE, text=True
    )
    assert child.stdout is not None
    return child, Path(child.stdout.readline().strip())


def _age(path: Path) -> None:
    old = time.time() - 2 * STALE_AFTER_SECONDS
    os.utime(path, (old, old))


def test_a_killed_runs_work_is_removed_by_the_next_run_and_a_live_ones_kept(
    archive: Archive,
) -> None:
    home = archive.home.root
    killed, killed_folder = _holder(home)
    live, live_folder = _holder(home)
    try:
        killed.send_signal(signal.SIGKILL)
        killed.wait(10)
        for folder in (killed_folder, live_folder):
            _age(folder)
        assert (killed_folder / "page.tif").exists()
        with Workspace.open(home) as workspace:
            assert not killed_folder.exists()
            assert (live_folder / "page.tif").exists()  # its run still holds it
            assert workspace.path.name.startswith(RUN_PREFIX)
    finally:
        live.kill()
        live.wait(10)
