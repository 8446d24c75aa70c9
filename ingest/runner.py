"""Batch ingest: expand the inputs, run the pipeline on each, in parallel when asked.

Results come back to the caller's thread one by one (``on_result``), in completion order, so
the caller can index, print and show progress without locking. A killed run loses nothing:
records committed before the kill stay, and running the same command again skips them as
duplicates and finishes the rest.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

from ingest.contracts import IngestContext, IngestResult
from ingest.pipeline import ingest_one


def collect_inputs(paths: Iterable[Path]) -> list[Path]:
    """Files as given, and the files under directories (sorted, hidden ones left out)."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(
                sorted(
                    p
                    for p in path.rglob("*")
                    if p.is_file()
                    and not any(part.startswith(".") for part in p.relative_to(path).parts)
                )
            )
        else:
            found.append(path)
    return found


def run_ingest(
    inputs: list[Path],
    context: IngestContext,
    workers: int = 1,
    on_result: Callable[[IngestResult], None] | None = None,
) -> list[IngestResult]:
    context.ocr.check(context.settings.ocr_languages)
    results: list[IngestResult] = []

    def deliver(result: IngestResult) -> None:
        results.append(result)
        if on_result is not None:
            on_result(result)

    if workers <= 1:
        for source in inputs:
            deliver(ingest_one(source, context))
        return results
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="ingest") as pool:
        futures = [pool.submit(ingest_one, source, context) for source in inputs]
        for future in as_completed(futures):
            deliver(future.result())
    return results
