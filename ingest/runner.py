"""Batch ingest: expand the inputs, run the pipeline on each, in parallel when asked.

Results come back to the caller's thread one by one (``on_result``), in completion order, so
the caller can index, print and show progress without locking. No more inputs are started
than there are workers and READ_AHEAD, so that when the run must stop (a fault of the
archive, the disk or the database; SIGINT or SIGTERM) nothing more is started, the inputs
already under way finish and are reported, and the caller learns exactly what was sealed. A
killed run loses nothing either: records committed before the kill stay, and running the
same command again skips them as duplicates and finishes the rest.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from pathlib import Path

from PIL import Image

from archive.errors import Interrupted, LuutruError
from archive.text import path_text
from ingest.contracts import (
    IngestContext,
    IngestResult,
    IngestStep,
    OcrEngine,
    RecognizedPage,
    Status,
)
from ingest.pipeline import PIPELINE, ingest_one
from ingest.workspace import Workspace

# What scanners and file managers leave beside scans; never a record.
LITTER_NAMES = frozenset({"thumbs.db", "ehthumbs.db", "desktop.ini", ".ds_store"})
LITTER_SUFFIXES = (".tmp",)
LITTER_PREFIXES = ("~$", "._")
# Inputs under way beyond the workers, whose Python steps fill the time tesseract runs.
READ_AHEAD = 1


def is_scanner_litter(name: str) -> bool:
    lowered = name.lower()
    return (
        lowered in LITTER_NAMES
        or lowered.endswith(LITTER_SUFFIXES)
        or lowered.startswith(LITTER_PREFIXES)
    )


@dataclass
class Inputs:
    """The files to ingest, and what was passed over without being read, with why."""

    files: list[Path] = field(default_factory=list)
    skipped: list[IngestResult] = field(default_factory=list)

    def skip(self, path: Path, reason: str) -> None:
        self.skipped.append(IngestResult(path_text(path), Status.SKIPPED, reason=reason))


def collect_inputs(paths: Iterable[Path]) -> Inputs:
    """Files as given, and the files under directories (sorted).

    Inside a directory nothing is followed: a symbolic link there could point anywhere (the
    archive's private key, /etc/shadow), so it is reported as skipped. A link given directly
    is the user's choice of one file: it is resolved once and must name a regular file. A
    link to a folder is skipped, its target named, rather than walked: a folder of records
    is given as itself, so that what a run reads is what was typed, never what a link
    happens to point to today.
    """
    inputs = Inputs()
    for given in paths:
        path = given.resolve() if given.is_symlink() else given
        if path.is_dir() and path != given:
            inputs.skip(
                given,
                f"a symbolic link to a folder ({path_text(path)}), not followed: "
                "give the folder itself",
            )
        elif path.is_dir():
            for found in _walk(path, inputs):
                inputs.files.append(found)
        elif is_scanner_litter(path.name):
            inputs.skip(path, "scanner litter")
        else:
            inputs.files.append(path)
    return inputs


def _walk(top: Path, inputs: Inputs) -> Iterator[Path]:
    for folder, dirs, files in os.walk(top, followlinks=False):
        base = Path(folder)
        for name in sorted(dirs):
            if (base / name).is_symlink():
                inputs.skip(base / name, "a symbolic link, not followed")
            elif name.startswith("."):
                inputs.skip(base / name, "a hidden folder, not searched")
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and not (base / d).is_symlink())
        for name in sorted(files):
            path = base / name
            if path.is_symlink():
                inputs.skip(path, "a symbolic link, not followed")
            elif is_scanner_litter(name):
                inputs.skip(path, "scanner litter")
            elif name.startswith("."):
                inputs.skip(path, "a hidden file")
            else:
                yield path


def run_ingest(
    inputs: list[Path],
    context: IngestContext,
    workers: int = 1,
    on_result: Callable[[IngestResult], None] | None = None,
    stop: threading.Event | None = None,
    steps: list[IngestStep] | None = None,
) -> list[IngestResult]:
    """Ingest ``inputs``; raise the first archive-level fault, or ``Interrupted`` when
    ``stop`` was set, only after every input already started has finished and been
    delivered. ``steps``: another ordered list than PIPELINE (``ingest.distributed``)."""
    if steps is None:  # distributed, the workers check their own tesseract
        context.ocr.check(context.settings.ocr_languages)
    stop = stop or threading.Event()
    results: list[IngestResult] = []
    inputs = _outside_home(inputs, context, results, on_result)
    passed_over = len(results)
    with Workspace.open(context.archive.home.root) as workspace:
        context = replace(context, workspace=workspace)
        _run_pool(inputs, context, workers, on_result, stop, results, steps or PIPELINE)
    done = len(results) - passed_over
    if stop.is_set() and done < len(inputs):
        raise Interrupted(
            f"stopped after {done} of {len(inputs)} input(s); the rest were not "
            "started. Run the same command again to finish: what was archived is skipped"
        )
    return results


def _outside_home(
    inputs: list[Path],
    context: IngestContext,
    results: list[IngestResult],
    on_result: Callable[[IngestResult], None] | None,
) -> list[Path]:
    """The inputs that are not the archive's own files, which are never ingested: its blobs
    would become records of themselves, its private key and database copies in quarantine.
    What lies inside the home is reported once, as one skipped input naming the home."""
    home = Path(os.path.realpath(context.archive.home.root))
    inside = [path for path in inputs if Path(os.path.realpath(path)).is_relative_to(home)]
    if not inside:
        return inputs
    skipped = IngestResult(
        path_text(context.archive.home.root),
        Status.SKIPPED,
        reason=f"the archive home itself ({len(inside)} file(s) in it): its blobs, keys and "
        "database are the archive, never an input",
    )
    results.append(skipped)
    if on_result is not None:
        on_result(skipped)
    passed = set(inside)
    return [path for path in inputs if path not in passed]


def _run_pool(
    inputs: list[Path],
    context: IngestContext,
    workers: int,
    on_result: Callable[[IngestResult], None] | None,
    stop: threading.Event,
    results: list[IngestResult],
    steps: list[IngestStep],
) -> None:
    """Run ``inputs``, ``workers`` pages in OCR at once, delivering each result as it comes;
    raise the first archive-level fault once every input started has finished."""
    fault: BaseException | None = None
    pending = iter(inputs)
    # ``workers`` pages are recognised at once, and one input more is under way: its reading
    # and clean-up, and the others' PDF/A and sealing, run while tesseract has every slot, so
    # that tesseract never waits for Python (it did, a tenth of a batch's time on 2 cores).
    context = replace(context, ocr=OcrSlots(context.ocr, workers))
    in_flight = workers + READ_AHEAD
    with ThreadPoolExecutor(max_workers=in_flight, thread_name_prefix="ingest") as pool:
        running: set[Future[IngestResult]] = set()

        def start_more() -> None:
            while len(running) < in_flight and fault is None and not stop.is_set():
                source = next(pending, None)
                if source is None:
                    return
                running.add(pool.submit(ingest_one, source, context, steps))

        start_more()
        while running:
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                running.discard(future)
                try:
                    result = future.result()
                    results.append(result)
                    if on_result is not None:
                        on_result(result)
                except (LuutruError, OSError) as exc:
                    fault = fault or exc
                except KeyboardInterrupt:
                    stop.set()
            start_more()
    if fault is not None:
        raise fault


class OcrSlots:
    """``engine``, recognising at most ``slots`` pages at once (OCR and orientation alike):
    tesseract's processes, what --workers counts, are the CPU and memory a run takes."""

    def __init__(self, engine: OcrEngine, slots: int) -> None:
        self.name = engine.name
        self._engine = engine
        self._slots = threading.BoundedSemaphore(slots)

    def check(self, languages: str) -> None:
        self._engine.check(languages)

    def recognize(
        self, page: Image.Image, languages: str, dpi: float = 300.0, work_dir: Path | None = None
    ) -> RecognizedPage:
        with self._slots:
            return self._engine.recognize(page, languages, dpi, work_dir=work_dir)

    def orientation(self, page: Image.Image, work_dir: Path | None = None) -> int | None:
        with self._slots:
            return self._engine.orientation(page, work_dir=work_dir)
