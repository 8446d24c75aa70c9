"""A scanner's folder, watched: a file is taken once it has stopped changing, once per
version; litter is passed over and said once. The CLI test runs `luutru ingest --watch` as a
real process against a file written slowly, as a scanner writes."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from archive.errors import UsageError
from ingest.sample_scans import SAMPLES, render_page
from ingest.watch import FolderWatch


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _watch(folder: Path, settle: float = 5.0) -> tuple[FolderWatch, Clock]:
    clock = Clock()
    return FolderWatch(folder, settle, clock), clock


def test_a_file_still_growing_is_not_taken(tmp_path: Path) -> None:
    watch, clock = _watch(tmp_path)
    scan = tmp_path / "scan.png"
    scan.write_bytes(b"half")
    assert watch.poll() == ([], [])
    clock.now = 3.0
    with scan.open("ab") as handle:
        handle.write(b" and the rest")
    assert watch.poll() == ([], [])
    clock.now = 7.0  # unchanged for 4 s: not yet
    assert watch.poll() == ([], [])
    clock.now = 8.0
    assert watch.poll()[0] == [scan]
    clock.now = 20.0
    assert watch.poll() == ([], []), "offered twice"


def test_a_changed_file_is_a_new_version_and_a_vanished_one_is_forgotten(tmp_path: Path) -> None:
    watch, clock = _watch(tmp_path, settle=1.0)
    scan, brief = tmp_path / "scan.png", tmp_path / "brief.png"
    scan.write_bytes(b"first")
    brief.write_bytes(b"gone soon")
    watch.poll()
    brief.unlink()
    clock.now = 2.0
    assert watch.poll()[0] == [scan]
    scan.write_bytes(b"second, longer")
    clock.now = 3.0
    watch.poll()
    clock.now = 4.5
    assert watch.poll()[0] == [scan]


def test_litter_and_hidden_files_are_said_once_never_offered(tmp_path: Path) -> None:
    watch, clock = _watch(tmp_path, settle=0.5)
    (tmp_path / "Thumbs.db").write_bytes(b"x")
    (tmp_path / ".scan.png.part").write_bytes(b"x")
    ready, skipped = watch.poll()
    assert ready == [] and sorted(Path(s.path).name for s in skipped) == [
        ".scan.png.part",
        "Thumbs.db",
    ]
    clock.now = 5.0
    assert watch.poll() == ([], [])


def test_a_watched_folder_that_goes_away_stops_the_watch_with_a_reason(tmp_path: Path) -> None:
    folder = tmp_path / "scanner"
    folder.mkdir()
    watch, _ = _watch(folder)
    assert watch.poll() == ([], [])
    folder.rmdir()  # deleted, or the share unmounted
    with pytest.raises(UsageError, match=r"the watched folder .*scanner is gone"):
        watch.poll()
    link = tmp_path / "link"
    link.symlink_to(tmp_path, target_is_directory=True)
    with pytest.raises(UsageError, match="is a symbolic link; watch the folder itself"):
        _watch(link)[0].poll()


def _lines(process: subprocess.Popen[str], count: int, timeout: float) -> list[dict]:
    assert process.stdout is not None
    lines: list[dict] = []
    deadline = time.monotonic() + timeout
    while len(lines) < count and time.monotonic() < deadline:
        line = process.stdout.readline()
        if line:
            lines.append(json.loads(line))
    return lines


def test_luutru_ingest_watch_takes_a_slowly_written_scan_once(tmp_path: Path) -> None:
    home, inbox = tmp_path / "home", tmp_path / "inbox"
    inbox.mkdir()
    luutru = [sys.executable, "-m", "api.cli", "--home", str(home)]
    subprocess.run([*luutru, "init"], check=True, capture_output=True)
    page = tmp_path / "page.png"
    render_page(SAMPLES[0], 200, 0).save(page, dpi=(200, 200))
    data = page.read_bytes()
    process = subprocess.Popen(
        [
            *luutru,
            "ingest",
            "--watch",
            str(inbox),
            "--settle",
            "3",  # six times the writer's pause: a loaded machine must not split a write
            "--json",
            "--access",
            "public",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        # A scanner writing over three seconds, a chunk every half second.
        target = inbox / "quyet-dinh.png"
        chunk = len(data) // 6 + 1
        with target.open("wb") as handle:
            for start in range(0, len(data), chunk):
                handle.write(data[start : start + chunk])
                handle.flush()
                time.sleep(0.5)
        (inbox / "Thumbs.db").write_bytes(b"scanner litter")
        (inbox / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
        results = {Path(r["path"]).name: r for r in _lines(process, 3, timeout=120)}
        time.sleep(4)  # the settle time passes again: nothing is offered twice
        process.send_signal(signal.SIGTERM)
        rest, errors = process.communicate(timeout=60)
    finally:
        process.kill()
    assert not rest.strip(), f"offered twice: {rest}"
    sealed = results["quyet-dinh.png"]
    assert sealed["status"] == "sealed"
    assert sealed["sha256"] == hashlib.sha256(data).hexdigest(), "taken before it was whole"
    assert results["Thumbs.db"]["status"] == "skipped"
    assert results["broken.png"]["status"] == "quarantined"
    assert "1 sealed" in errors and "1 quarantined" in errors
    assert process.returncode == 1, errors  # a quarantined input, as without --watch
    assert target.read_bytes() == data  # the original is left as the scanner wrote it
