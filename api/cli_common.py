"""What every `luutru` command shares: consoles, common options, error reporting, option
checks, and the ingest progress and report (used by `ingest` and `quarantine retry`)."""

from __future__ import annotations

import ctypes
import json
import platform
import re
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from api.errors import ExitCode, exit_code_for
from api.services import IngestReport, Services
from archive.errors import LuutruError
from archive.home import ArchiveHome
from archive.models import AccessLevel
from ingest.contracts import IngestResult, Status

# Control characters (but newline and tab) and the bidirectional overrides: what could make
# a terminal do or show something else than the text (an escape sequence in an OCR'd or
# edXML-supplied title, a right-to-left override in a file name).
_UNPRINTABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


# glibc's mallopt parameter for the number of heaps ("arenas") its threads allocate from.
_M_ARENA_MAX = -8


def limit_malloc_arenas(arenas: int = 2) -> None:
    """Let the process's threads share two heaps (glibc makes up to eight a core and gives
    little of them back): tantivy's writer threads took the peak memory of a 100k-record
    ``reindex`` from about 300 MB to 480-530 MB that way, for no speed (bench/RESULTS.md).
    Must run before threads start; does nothing where the C library is not glibc."""
    if platform.libc_ver()[0] != "glibc":
        return
    try:
        ctypes.CDLL(None).mallopt(_M_ARENA_MAX, arenas)
    except (OSError, AttributeError):
        return  # a C library without mallopt: its own allocator, left as it is


def printable(text: str) -> str:
    """``text`` safe to print: every character that drives the terminal shown as its
    escape (``\\x1b``), so what came from outside is seen, never obeyed."""
    return _UNPRINTABLE.sub(lambda m: ascii(m.group(0))[1:-1], text)


def shown(text: str) -> str:
    """``text`` from outside, for rich: printable, and its ``[…]`` not read as markup."""
    return escape(printable(text))


out = Console()
STATUS_COLOURS = {
    Status.SEALED: "green",
    Status.DUPLICATE: "yellow",
    Status.QUARANTINED: "red",
    Status.SKIPPED: "dim",
    Status.FAILED: "magenta",
    Status.DESTROYED: "red",
}
err = Console(stderr=True, soft_wrap=True)  # error lines stay whole for grep and logs

JsonOption = Annotated[
    bool, typer.Option("--json", help="Print JSON for scripts instead of tables.")
]
HomeOption = Annotated[
    Path | None,
    typer.Option(
        "--home",
        metavar="DIR",
        help="Archive home directory. Default: $LUUTRU_HOME, else ./luutru-data.",
        show_default=False,
    ),
]
LEVELS = ", ".join(level.value for level in AccessLevel)
ClearanceOption = Annotated[
    str,
    typer.Option(
        "--clearance",
        metavar="LEVEL",
        help="Show only records up to this access level. The command line runs as the archive's "
        "operator, so it sees everything unless told otherwise.",
    ),
]
FIRST_CLOSED_YEAR = 1900


def home_of(ctx: typer.Context, home: Path | None) -> ArchiveHome:
    """--home given after the command wins over one given before it."""
    return ArchiveHome.resolve(home) if home is not None else ctx.obj


def print_json(value: Any) -> None:
    # Vietnamese stays readable; what JSON leaves raw of the characters that drive a
    # terminal (C1 controls, bidi overrides) is written as a JSON escape, the same text.
    text = json.dumps(value, ensure_ascii=False)
    sys.stdout.write(_UNPRINTABLE.sub(lambda m: f"\\u{ord(m.group(0)):04x}", text) + "\n")
    sys.stdout.flush()


@contextmanager
def reported() -> Iterator[None]:
    """Turn a luutru error into one plain line on stderr and its exit code."""
    try:
        yield
    except LuutruError as exc:
        err.print(f"[bold red]error:[/] {shown(str(exc))}")
        raise typer.Exit(exit_code_for(exc)) from None


@contextmanager
def opened(
    ctx: typer.Context, home: Path | None, catch_up_index: bool = False
) -> Iterator[Services]:
    """The archive and index of the home; errors inside the ``with`` block are reported too.
    ``catch_up_index``: bring the index up to date with the archive first (``search``)."""
    with reported():
        archive_home = home_of(ctx, home)
        archive_home.require()
        with Services.open(archive_home, catch_up_index) as services:
            yield services


def parse_access(value: str | None, option: str = "--access") -> AccessLevel | None:
    """Access levels in any case: 'Public' is 'public'."""
    if value is None:
        return None
    try:
        return AccessLevel(value.strip().lower())
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not one of {LEVELS}", param_hint=option) from None


def check_series(services: Services, code: str | None) -> str | None:
    """A series code of the retention schedule, in any case; returns it as the schedule
    spells it."""
    if code is None:
        return None
    schedule = services.schedule()
    by_upper = {known.upper(): known for known in schedule}
    if code.strip().upper() in by_upper:
        return by_upper[code.strip().upper()]
    known = ", ".join(sorted(schedule))
    raise typer.BadParameter(
        f"{code!r} is not a series of the retention schedule (known: {known})",
        param_hint="--series",
    )


def check_closed_year(year: int | None) -> int | None:
    if year is not None and not FIRST_CLOSED_YEAR <= year <= date.today().year:
        raise typer.BadParameter(
            f"{year} is not a year a file can have been closed in "
            f"({FIRST_CLOSED_YEAR}–{date.today().year})",
            param_hint="--closed-year",
        )
    return year


@contextmanager
def stop_on_signals() -> Iterator[threading.Event]:
    """SIGINT/SIGTERM ask the run to stop after the inputs under way; a second one gives up
    waiting for them."""
    stop = threading.Event()

    def ask_to_stop(signum: int, _frame: object) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()
        err.print(f"[yellow]{signal.Signals(signum).name}: finishing the inputs under way…[/]")

    previous = {sig: signal.signal(sig, ask_to_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def run_with_progress(
    total: int,
    as_json: bool,
    run: Callable[[Callable[[IngestResult], None]], IngestReport],
    report: IngestReport,
) -> None:
    """Run an ingest, printing JSON lines or a progress bar, then the table and summary —
    also when the run stops early, so that what was archived is always shown."""
    failure: typer.Exit | None = None
    try:
        with reported():
            if as_json:
                run(lambda r: print_json(r.as_json()))
            else:
                with Progress(
                    TextColumn("[progress.description]{task.description}"),
                    BarColumn(),
                    MofNCompleteColumn(),
                    TextColumn("{task.fields[rate]}"),
                    TimeElapsedColumn(),
                    TextColumn("ETA"),
                    TimeRemainingColumn(),
                    console=err,
                ) as progress:
                    task = progress.add_task("Ingesting", total=total, rate="")
                    started = time.monotonic()
                    pages = 0

                    def advance(result: IngestResult) -> None:
                        nonlocal pages
                        pages += result.pages
                        minutes = max(time.monotonic() - started, 1.0) / 60
                        rate = f"{pages / minutes:.0f} pages/min" if pages else ""
                        progress.update(task, advance=1, rate=rate)

                    run(advance)
    except typer.Exit as exc:
        failure = exc
    if not as_json:
        out.print(_ingest_table(report.results))
    _finish(report, failure)


def run_watching(
    as_json: bool,
    run: Callable[[Callable[[IngestResult], None]], IngestReport],
    report: IngestReport,
) -> None:
    """A watch has no total for a progress bar: each input is told as it is done, in JSON or
    as a line, and the summary comes when the watch is stopped."""
    failure: typer.Exit | None = None
    if not as_json:
        err.print("[dim]Watching; each file is taken once it stops changing. Ctrl-C stops.[/]")
    try:
        with reported():
            run(lambda r: print_json(r.as_json()) if as_json else _print_line(r))
    except typer.Exit as exc:
        failure = exc
    _finish(report, failure)


def _print_line(result: IngestResult) -> None:
    note = result.reason or result.warning or ""
    out.print(
        f"[{STATUS_COLOURS[result.status]}]{result.status.value:<11}[/] {shown(result.path)}"
        f" {result.record_id or ''} {shown(note)}".rstrip()
    )


def _finish(report: IngestReport, failure: typer.Exit | None) -> None:
    _print_summary(report)
    if failure is not None:
        raise failure
    # A destroyed record's original is not archived: as for a rejected input, the run did
    # not archive everything it was given.
    if any(report.count(s) for s in (Status.QUARANTINED, Status.FAILED, Status.DESTROYED)):
        raise typer.Exit(ExitCode.INPUT_REJECTED)


def _ingest_table(results: list[IngestResult]) -> Table:
    table = Table(title="Ingest")
    for column in ("file", "status", "record", "reason or note"):
        table.add_column(column, overflow="fold")
    for r in results:
        table.add_row(
            shown(r.path),
            f"[{STATUS_COLOURS[r.status]}]{r.status.value}[/]",
            r.record_id or "",
            shown(r.reason or r.warning or ""),
        )
    return table


def _print_summary(report: IngestReport) -> None:
    counts = ", ".join(f"{report.count(status)} {status.value}" for status in Status)
    err.print(counts)
    warned = sum(1 for r in report.results if r.warning and r.status is Status.DUPLICATE)
    if warned:
        err.print(
            f"[yellow]{warned} duplicate(s) asked for other options than their record has; "
            "nothing was changed (see the notes; 'luutru edit' changes a record)[/]"
        )
    if destroyed := report.count(Status.DESTROYED):
        err.print(
            f"[red]{destroyed} input(s) are the originals of records destroyed under a disposal "
            "list: not archived again (see the notes)[/]"
        )
    noted = sum(1 for r in report.results if r.warning and r.status is Status.SEALED)
    if noted:
        err.print(
            f"[yellow]{noted} record(s) sealed with warnings (see the notes; 'luutru review' "
            "lists what to look at)[/]"
        )
    if report.index_problem and report.not_indexed:
        err.print(
            f"[yellow]{len(report.not_indexed)} sealed record(s) are not in the search index "
            f"yet ({shown(report.index_problem)}); the next ingest or 'luutru reindex' adds "
            "them[/]"
        )
