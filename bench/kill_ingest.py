"""kill -9 during ingest, again and again, then run it to the end: is every input sealed
exactly once, with no half record in the database, the blobs or the index?

    python -m bench.kill_ingest         # 200 files, 20 kills (two or three minutes)

`bench.run` puts the table in RESULTS.md.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from archive.fsutil import STALE_AFTER_SECONDS
from archive.home import ArchiveHome
from archive.recovery import census
from archive.repository import Archive
from ingest.sample_scans import find_font

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "bench" / ".work" / "kill"
UNITS = ["Phòng Hành chính", "Văn phòng Sở", "Phòng Tài chính", "Phòng Tổ chức cán bộ"]


def _scans(folder: Path, count: int) -> dict[str, str]:
    """Small distinct scans (a quarter page each, so OCR is quick); name -> sha256."""
    font = ImageFont.truetype(str(find_font()), 36)
    hashes = {}
    for n in range(count):
        page = Image.new("L", (1100, 320), 255)
        draw = ImageDraw.Draw(page)
        draw.text((40, 40), f"Hồ sơ số {n + 1}/HS-{UNITS[n % len(UNITS)]}", font=font, fill=0)
        draw.text((40, 120), f"Tài liệu lưu trữ năm {2000 + n % 25}, hộp {n // 10 + 1}", font=font)
        draw.text((40, 200), "Đã số hóa theo Thông tư 06/2025/TT-BNV", font=font, fill=0)
        target = folder / f"hoso-{n:03d}.png"
        page.save(target, dpi=(200, 200))
        hashes[target.name] = hashlib.sha256(target.read_bytes()).hexdigest()
    return hashes


def _records(home: Path) -> list[str]:
    with sqlite3.connect(home / "luutru.db") as db:
        return [row[0] for row in db.execute("SELECT original_sha256 FROM records")]


def _ingest_command(home: Path, folder: Path) -> list[str]:
    cli = [sys.executable, "-m", "api.cli", "--home", str(home), "ingest", str(folder)]
    return [*cli, "--workers", "2", "--json", "--access", "public"]


def run(files: int = 200, kills: int = 20, seed: int = 9) -> str:
    shutil.rmtree(WORK, ignore_errors=True)
    folder, home = WORK / "scans", WORK / "home"
    folder.mkdir(parents=True)
    expected = _scans(folder, files)
    Archive.initialise(ArchiveHome(home), force=True)  # a throwaway home
    rng = random.Random(seed)
    landed_while_sealing = 0
    for _ in range(kills):
        before = len(_records(home))
        child = subprocess.Popen(
            _ingest_command(home, folder),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # its own process group: the kill takes tesseract too
        )
        time.sleep(rng.uniform(0.3, 8.0))
        os.killpg(child.pid, signal.SIGKILL)
        child.wait()
        after = len(_records(home))
        landed_while_sealing += after > before and after < files
    sealed_before_last = len(_records(home))
    # Temp files are only removed once they are a minute old (a younger one may belong to a
    # writer that has not locked it yet): the run to the end starts after that.
    time.sleep(STALE_AFTER_SECONDS + 1)
    last = subprocess.run(_ingest_command(home, folder), capture_output=True, text=True)
    statuses = [json.loads(line)["status"] for line in last.stdout.splitlines()]
    verify = subprocess.run(
        [sys.executable, "-m", "api.cli", "--home", str(home), "verify", "--json"],
        capture_output=True,
        text=True,
    )
    report = json.loads(verify.stdout)
    originals = _records(home)
    with Archive.open(ArchiveHome(home)) as archive:
        orphans = len(census(archive, older_than=0).orphans)
    temp_left = sum(1 for p in (home / "blobs").glob(".*") if p.is_file())
    once = sum(originals.count(sha) == 1 for sha in expected.values())
    missing = sum(sha not in originals for sha in expected.values())
    twice = len(originals) - len(set(originals))
    index_missing = sum("missing from the search index" in w for w in report["warnings"])
    row = (
        f"| {kills} | {files} | {sealed_before_last} | {once} | {twice} | {missing} | "
        f"{verify.returncode} | {index_missing} | {orphans} | {temp_left} |"
    )
    rerun = ", ".join(f"{statuses.count(s)} {s}" for s in sorted(set(statuses)))
    return "\n".join(
        [
            f"## Crash: kill -9 during ingest, then rerun ({files} files)",
            "",
            "| kills | files | sealed before the last run | sealed exactly once | sealed twice "
            "| missing | verify exit | missing from index | unreferenced blobs | temp files left |",
            "|---|---|---|---|---|---|---|---|---|---|",
            row,
            "",
            f"`luutru ingest --workers 2` on {files} small distinct scans, killed with SIGKILL "
            f"(its whole process group, tesseract included) {kills} times at random moments "
            f"0.3-8 s after start ({landed_while_sealing} kills fell while records were being "
            f"sealed), then run once more to the end ({rerun}). Every input is then looked up "
            "by its sha256 in the database; `luutru verify --json` re-hashes every file and "
            "checks every seal, and reports records missing from the index; unreferenced blobs "
            "are counted at any age (verify only warns about those over a day old; `verify "
            "--repair` removes them). The run to the end starts a minute after the last kill, "
            "when the killed runs' temp files are old enough to be removed by it.",
            "",
        ]
    )


if __name__ == "__main__":
    print(run())
