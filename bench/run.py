"""Run the benchmarks and write bench/RESULTS.md.

    python -m bench.run            # full run (a few minutes on 2 cores)
    python -m bench.run --quick    # smaller inputs, about a minute
    python -m bench.run --only search

Every number is a ratio against a baseline run side by side on the same machine: raw
tesseract for OCR ingest, sha256sum for hashing, SQLite FTS5 for search.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pypdfium2 as pdfium
from PIL import Image

from archive.blobstore import LocalBlobStore, sha256_file
from archive.home import ArchiveHome
from archive.models import AccessLevel
from archive.repository import Archive
from bench import distributed, edxml_memory, integrity, kill_ingest, load, quality
from bench import search as search_bench
from ingest.contracts import IngestContext, IngestSettings
from ingest.pipeline import ingest_one
from ingest.sample_scans import SAMPLES, render_page
from ingest.tesseract_ocr import TesseractEngine

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "bench" / ".work"
RESULTS = ROOT / "bench" / "RESULTS.md"


@dataclass(frozen=True)
class Section:
    title: str
    columns: list[str]
    rows: list[list[str]]
    notes: str

    def markdown(self) -> str:
        lines = [f"## {self.title}", "", "| " + " | ".join(self.columns) + " |"]
        lines.append("|" + "---|" * len(self.columns))
        lines += ["| " + " | ".join(row) + " |" for row in self.rows]
        return "\n".join([*lines, "", self.notes, ""])


def _run_child(args: list[str]) -> tuple[float, int]:
    """Wall seconds and peak RSS (MiB) of a child process and what it waited for."""
    start = time.perf_counter()
    child = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    elapsed = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{args[0]} failed with status {status}")
    return elapsed, usage.ru_maxrss // 1024


OPENMP_SAMPLE_PAGES = 6


def _raw_parallel(one_page: str, parallel: int, files: list[str]) -> list[str]:
    """``one_page`` (a shell command on "$1") over ``files``, ``parallel`` at a time."""
    script = (
        f'one=$1; shift; printf "%s\\0" "$@" | xargs -0 -P {parallel} -n 1 bash -c "$one" tesseract'
    )
    return ["bash", "-c", script, "raw-parallel", one_page, *files]


def bench_ocr(pages: int, rounds: int) -> Section:
    """luutru against raw tesseract over the same pages at the same parallelism: one page at
    a time against --workers 1, two at a time against --workers 2. Each round runs every
    side once, raw then luutru, so both see the same state of the machine; the ratio is the
    median of the rounds' own ratios (runs on this 2-core machine vary by a tenth)."""
    scans, tilted = WORK / "scans", WORK / "scans-tilted"
    for folder in (scans, tilted):
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
    for n in range(pages):
        page = render_page(SAMPLES[n % len(SAMPLES)], dpi=200, seed=n)
        page.save(scans / f"page{n:03d}.png", dpi=(200, 200))
        # Fed a little askew, as most real scans are: luutru straightens them, raw does not.
        turn = (1.0 + n % 3 * 0.5) * (1 if n % 2 else -1)
        askew = page.rotate(turn, expand=True, fillcolor="white", resample=Image.Resampling.BICUBIC)
        askew.save(tilted / f"page{n:03d}.png", dpi=(200, 200))
    inputs = {folder: sorted(str(p) for p in folder.iterdir()) for folder in (scans, tilted)}
    files = inputs[scans]
    one = 'tesseract "$1" - -l vie+eng >/dev/null 2>&1'
    # tesseract's own threads, on a few pages only: it is the slow way, shown to say why not.
    sample = files[:OPENMP_SAMPLE_PAGES]
    threaded_s, threaded_mb = _run_child(_raw_parallel(one, 1, sample))
    # (parallel, folder): 1 and 2 at a time on the straight pages, 2 at a time on the tilted.
    runs = [(1, scans), (2, scans), (2, tilted)]
    raw: dict[tuple[int, Path], list[tuple[float, int]]] = {run: [] for run in runs}
    luutru: dict[tuple[int, Path], list[tuple[float, int]]] = {run: [] for run in runs}
    for _ in range(rounds):
        for parallel, folder in runs:
            os.environ["OMP_THREAD_LIMIT"] = "1"
            try:
                pages_at_once = _raw_parallel(one, parallel, inputs[folder])
                raw[parallel, folder].append(_run_child(pages_at_once))
            finally:
                del os.environ["OMP_THREAD_LIMIT"]
            home = WORK / f"ocr-home-{parallel}"
            shutil.rmtree(home, ignore_errors=True)
            Archive.initialise(ArchiveHome(home), force=True)  # a throwaway home
            cli = [sys.executable, "-m", "api.cli", "--home", str(home), "ingest", str(folder)]
            luutru[parallel, folder].append(
                _run_child([*cli, "--workers", str(parallel), "--json"])
            )
    rows = [
        [
            f"raw tesseract, its default OpenMP threads, page after page ({len(sample)} pages)",
            f"{threaded_s / len(sample):.2f}",
            "-",
            "-",
            "-",
            str(threaded_mb),
        ],
    ]
    for run in runs:
        parallel, folder = run
        kind = ", pages tilted 1-2°" if folder == tilted else ""
        ratios = [
            ours / theirs for (ours, _), (theirs, _) in zip(luutru[run], raw[run], strict=True)
        ]
        rows.append(
            [
                f"raw tesseract, OMP_THREAD_LIMIT=1, {parallel} at a time{kind}",
                f"{statistics.median(s for s, _ in raw[run]) / pages:.2f}",
                "-",
                "1.00",
                "-",
                str(max(mb for _, mb in raw[run])),
            ]
        )
        rows.append(
            [
                f"luutru ingest --workers {parallel}{kind}",
                f"{statistics.median(s for s, _ in luutru[run]) / pages:.2f}",
                f"raw, {parallel} at a time{kind}",
                f"{statistics.median(ratios):.2f}",
                f"{min(ratios):.2f}-{max(ratios):.2f}",
                str(max(mb for _, mb in luutru[run])),
            ]
        )
    return Section(
        f"Ingest throughput vs raw tesseract at equal parallelism ({pages} A4 pages, 200 dpi "
        f"PNG, median of {rounds} rounds)",
        ["run", "s/page", "compared with", "time ratio", "ratio, each round", "peak RSS MiB"],
        rows,
        "Each luutru row is compared with raw tesseract (text output, one thread each) over the "
        "same pages with as many pages at once as luutru has workers, in the same round. "
        "luutru's ratio is all it "
        "does besides OCR: the one read and staging of each input, clean-up (grey, denoise, "
        "upscale, orientation check, deskew), the words' boxes and the text layer from the same "
        "tesseract run, the PDF/A-2b archival copy, metadata, sealing (fsync, Ed25519, SQLite "
        "commit), indexing, and about 0.9 s of start-up once per run (Python imports, opening "
        "the archive and index, checking tesseract's languages), which is why the ratio falls "
        "as batches grow. tesseract's default OpenMP threads are slower on 2 cores than one "
        "thread, so luutru sets OMP_THREAD_LIMIT=1. --workers N runs N tesseracts at once and "
        "reads one input ahead, whose decoding and clean-up run while they work: with "
        "--workers 1 that Python work has the second core to itself, which is why it can be "
        "under raw tesseract's time (whose own PNG decoding luutru replaces by a raw grey "
        "TIFF); --workers 2 against 2 raw at a time is the like-for-like row.",
    )


def _median_seconds(action: Callable[[], object], repeats: int = 3) -> float:
    timings = []
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        timings.append(time.perf_counter() - start)
    return statistics.median(timings)


def bench_rasterize(pages: int) -> Section:
    """Drawing scanned PDF pages for OCR: pypdfium2 (what luutru uses, in process) against
    Ghostscript (a child process), both at 300 dpi into 8-bit grey, same pages."""
    source = WORK / "scanned.pdf"
    frames = [render_page(SAMPLES[n % len(SAMPLES)], dpi=200, seed=n) for n in range(pages)]
    frames[0].save(source, "PDF", resolution=200, save_all=True, append_images=frames[1:])
    out = WORK / "gs-pages"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    gs = ["gs", "-q", "-dNOPAUSE", "-dBATCH", "-dSAFER", "-sDEVICE=pnggray", "-r300"]
    gs_s = _median_seconds(
        lambda: subprocess.run([*gs, f"-sOutputFile={out}/page-%03d.png", str(source)], check=True)
    )

    def pdfium_pages() -> None:
        document = pdfium.PdfDocument(source)
        for index in range(len(document)):
            bitmap = document[index].render(scale=300 / 72, grayscale=True)
            bitmap.to_pil().save(out / f"pdfium-{index:03d}.png")
        document.close()

    def pdfium_in_memory() -> None:
        document = pdfium.PdfDocument(source)
        for index in range(len(document)):
            document[index].render(scale=300 / 72).to_pil().load()
        document.close()

    pdfium_s = _median_seconds(pdfium_pages)
    memory_s = _median_seconds(pdfium_in_memory)
    rows = [
        ["Ghostscript 300 dpi grey, to PNG files", f"{gs_s / pages:.3f}", "1.00"],
        [
            "pypdfium2 300 dpi grey, to PNG files",
            f"{pdfium_s / pages:.3f}",
            f"{pdfium_s / gs_s:.2f}",
        ],
        [
            "pypdfium2 300 dpi colour, in memory (what ingest does)",
            f"{memory_s / pages:.3f}",
            f"{memory_s / gs_s:.2f}",
        ],
    ]
    return Section(
        f"Rasterizing scanned PDF pages: pypdfium2 vs Ghostscript ({pages} pages, median of 3)",
        ["run", "s/page", "time ratio"],
        rows,
        "The PDF holds 200 dpi page scans, as a scanner's PDF does. Both sides write PNG "
        "files for a like-for-like comparison, and there Pillow's PNG encoder makes pdfium "
        "the slower; ingest itself hands pdfium's bitmap to the clean-up steps without a "
        "file, which is less than half Ghostscript's time. luutru uses pypdfium2: in "
        "process, no file per page and no Ghostscript dependency at run time.",
    )


_worker_context: IngestContext | None = None


def _open_worker(home: str) -> None:
    """Each worker process opens the archive once, as a worker pool would."""
    global _worker_context
    archive = Archive.open(ArchiveHome(Path(home)))
    settings = IngestSettings(AccessLevel.PUBLIC)
    _worker_context = IngestContext(archive, TesseractEngine(), settings)


def _ingest_in_worker(source: Path) -> str:
    assert _worker_context is not None
    return ingest_one(source, _worker_context).status.value


def bench_pool(rounds: int, workers: int = 2) -> Section:
    """Threads (what luutru uses) against a process pool, in-process, on the OCR bench's
    pages: the Python part of ingest (clean-up, PDF/A, sealing) holds the GIL at times.
    Each round runs both pools; the ratio is the median of the rounds' own ratios."""
    files = sorted((WORK / "scans").iterdir())
    pools = {"threads": ThreadPoolExecutor, "processes": ProcessPoolExecutor}
    timings: dict[str, list[float]] = {name: [] for name in pools}
    for _ in range(rounds):
        for name, pool_type in pools.items():
            home = WORK / f"pool-home-{name}"
            shutil.rmtree(home, ignore_errors=True)
            Archive.initialise(ArchiveHome(home), force=True)  # a throwaway home
            start = time.perf_counter()
            with pool_type(workers, initializer=_open_worker, initargs=(str(home),)) as pool:
                statuses = list(pool.map(_ingest_in_worker, files))
            timings[name].append(time.perf_counter() - start)
            assert statuses == ["sealed"] * len(files), statuses
    rows = []
    for name in pools:
        ratios = [
            ours / threads for ours, threads in zip(timings[name], timings["threads"], strict=True)
        ]
        rows.append(
            [
                f"{workers} {name}",
                f"{statistics.median(timings[name]) / len(files):.2f}",
                f"{statistics.median(ratios):.2f}",
                f"{min(ratios):.2f}-{max(ratios):.2f}",
            ]
        )
    return Section(
        f"Ingest workers: threads vs processes ({len(files)} pages, {workers} at a time, "
        f"median of {rounds} rounds)",
        ["pool", "s/page", "time ratio", "ratio, each round"],
        rows,
        "The pipeline without indexing or start-up, through ingest_one, in this process: a "
        "pool of threads sharing one archive connection pool against a pool of processes "
        "each with its own. tesseract runs in its own process either way; what differs is "
        "whether the Python steps of two inputs can run at once. luutru keeps threads: a "
        "process pool is no faster, and it would add an archive connection and start-up per "
        "worker and pickling of every result.",
    )


def bench_hash(mebibytes: int) -> Section:
    WORK.mkdir(parents=True, exist_ok=True)
    big = WORK / "big.bin"
    block = os.urandom(1 << 20)
    with big.open("wb") as out:
        for _ in range(mebibytes):
            out.write(block)
    expected = subprocess.run(["sha256sum", str(big)], capture_output=True, text=True, check=True)
    assert sha256_file(big)[0] == expected.stdout.split()[0]
    store_root = WORK / "blobs"

    def put() -> None:
        shutil.rmtree(store_root, ignore_errors=True)
        LocalBlobStore(store_root).put_file(big)

    baseline = _median_seconds(
        lambda: subprocess.run(["sha256sum", str(big)], check=True, capture_output=True)
    )
    rows = [["sha256sum", f"{mebibytes / baseline:.0f}", "1.00"]]
    for label, action in [
        ("luutru sha256_file (hash only)", lambda: sha256_file(big)),
        ("luutru blob store put_file (hash + copy + fsync)", put),
    ]:
        seconds = _median_seconds(action)
        rows.append([label, f"{mebibytes / seconds:.0f}", f"{seconds / baseline:.2f}"])
    big.unlink()
    shutil.rmtree(store_root, ignore_errors=True)
    return Section(
        f"Hashing {mebibytes} MiB vs sha256sum (median of 3, page cache warm)",
        ["run", "MiB/s", "time ratio"],
        rows,
        "The file is read once before timing, so all runs read from the page cache. Python's "
        "hashlib uses OpenSSL, which uses the CPU's SHA instructions; Debian's sha256sum does "
        "not, hence hashing faster than the baseline. put_file also writes the copy and waits "
        "for fsync, which is what ingest pays per original.",
    )


def _edxml_memory() -> Section:
    columns, rows, note = edxml_memory.table()
    return Section("edXML packages: peak memory of reading one", columns, rows, note)


def _distributed(pages: int) -> Section:
    columns, rows, note = distributed.table(pages)
    return Section(
        f"Distributed OCR through the broker vs the embedded path ({pages} A4 pages)",
        columns,
        rows,
        note,
    )


def _machine() -> str:
    tesseract = subprocess.run(["tesseract", "--version"], capture_output=True, text=True)
    return (
        f"{os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{tesseract.stdout.splitlines()[0] if tesseract.stdout else 'tesseract ?'}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller inputs")
    parser.add_argument(
        "--only",
        choices=[
            "ocr",
            "pool",
            "rasterize",
            "hash",
            "edxml",
            "search",
            "cer",
            "metadata",
            "crash",
            "log",
            "fixity",
            "load",
            "distributed",
        ],
    )
    options = parser.parse_args()
    sizes = (
        {"pages": 4, "rounds": 1, "pdf_pages": 4, "mib": 64}
        | {"cer_pages": 4, "crash_files": 20, "kills": 3}
        | {"log_entries": 20_000, "audit_entries": 5000, "seals": 200, "fixity_mib": 64}
        | {"load_records": 1000, "load_seconds": 5, "distributed_pages": 8}
        if options.quick
        else {"pages": 48, "rounds": 3, "pdf_pages": 20, "mib": 512}
        | {"cer_pages": 24, "crash_files": 200, "kills": 20}
        | {"log_entries": 1_000_000, "audit_entries": 100_000, "seals": 2000, "fixity_mib": 512}
        | {"load_records": 10_000, "load_seconds": 20, "distributed_pages": 48}
    )
    runs: dict[str, Callable[[], Section | str]] = {
        "ocr": lambda: bench_ocr(sizes["pages"], sizes["rounds"]),
        "pool": lambda: bench_pool(sizes["rounds"]),
        "rasterize": lambda: bench_rasterize(sizes["pdf_pages"]),
        "hash": lambda: bench_hash(sizes["mib"]),
        "edxml": _edxml_memory,
        "search": lambda: search_bench.run(
            search_bench.Sizes.quick() if options.quick else search_bench.Sizes(),
            search_bench.ALL_SECTIONS,
            search_bench.ENGINES,
            search_bench.BASELINES,
        ),
        "cer": lambda: quality.bench_cer(sizes["cer_pages"]),
        "metadata": quality.bench_metadata,
        "crash": lambda: kill_ingest.run(sizes["crash_files"], sizes["kills"]),
        "log": lambda: integrity.bench_log(
            sizes["log_entries"], sizes["audit_entries"], sizes["seals"], proofs=1000
        ),
        "fixity": lambda: integrity.bench_fixity(sizes["fixity_mib"]),
        "load": lambda: load.run(sizes["load_records"], sizes["load_seconds"], connections=20),
        "distributed": lambda: _distributed(sizes["distributed_pages"]),
    }
    sections = []
    for name, run in runs.items():
        if options.only in (None, name):
            print(f"running {name} …", flush=True)
            done = run()
            text = done if isinstance(done, str) else done.markdown()
            print(text, flush=True)
            sections.append(text)
    if options.quick or options.only:
        print(f"partial run: {RESULTS} left as it is (it holds full runs only)")
        return
    header = [
        "# Benchmark results",
        "",
        "Produced by `make bench` (`python -m bench.run` from the repository root) on "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {_machine()}.",
        "",
    ]
    RESULTS.write_text("\n".join([*header, *sections]), encoding="utf-8")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
