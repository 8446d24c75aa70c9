"""The `luutru` command line. Its commands, options and --json shapes are a contract: scripts
rely on them, so change them only by adding."""

from __future__ import annotations

import html
import json
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from api.errors import ExitCode, exit_code_for
from api.services import Services
from api.views import record_json
from archive.errors import LuutruError
from archive.home import ArchiveHome
from archive.models import AccessLevel
from archive.repository import Archive
from archive.verify import RecordVerification, verify_record
from ingest.contracts import IngestResult, IngestSettings, Status
from ingest.runner import collect_inputs
from search.contracts import SearchHit
from search.indexer import rebuild

app = typer.Typer(
    name="luutru",
    help="luutru: an offline electronic records archive (lưu trữ) for Vietnamese agencies.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)
out = Console()
err = Console(stderr=True)

JsonOption = Annotated[
    bool, typer.Option("--json", help="Print JSON for scripts instead of tables.")
]
ClearanceOption = Annotated[
    AccessLevel,
    typer.Option(
        "--clearance",
        metavar="LEVEL",
        help="Show only records up to this access level. The command line runs as the archive's "
        "operator, so it sees everything unless told otherwise.",
    ),
]


def _home(ctx: typer.Context) -> ArchiveHome:
    return ctx.obj  # type: ignore[no-any-return]


def _print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, ensure_ascii=False) + "\n")
    sys.stdout.flush()


@contextmanager
def _reported() -> Iterator[None]:
    """Turn a luutru error into one plain line on stderr and its exit code."""
    try:
        yield
    except LuutruError as exc:
        err.print(f"[bold red]error:[/] {escape(str(exc))}")
        raise typer.Exit(exit_code_for(exc)) from None


@contextmanager
def _services(ctx: typer.Context) -> Iterator[Services]:
    """The archive and index of --home; errors inside the ``with`` block are reported too."""
    with _reported():
        home = _home(ctx)
        home.require()
        with Services.open(home) as services:
            yield services


@app.callback()
def main(
    ctx: typer.Context,
    home: Annotated[
        Path | None,
        typer.Option(
            "--home",
            metavar="DIR",
            help="Archive home directory. Default: $LUUTRU_HOME, else ./luutru-data.",
            show_default=False,
        ),
    ] = None,
) -> None:
    ctx.obj = ArchiveHome.resolve(home)


@app.command()
def init(ctx: typer.Context) -> None:
    """Create the archive home: database, blob store, search index and signing key.

    Safe to run again: what exists is kept, what is missing is created."""
    with _reported():
        report = Archive.initialise(_home(ctx))
        with Services.open(_home(ctx)):
            pass
    state = "created" if report.created_config else "already there, checked"
    out.print(f"Archive home {escape(str(report.home))}: {state}.")
    key_state = "new key" if report.created_key else "existing key"
    out.print(f"Signing key (Ed25519, {key_state}): id {report.key_id}")


def _ingest_table(results: list[IngestResult]) -> Table:
    table = Table(title="Ingest")
    for column in ("file", "status", "record", "reason"):
        table.add_column(column, overflow="fold")
    colour = {Status.SEALED: "green", Status.DUPLICATE: "yellow", Status.QUARANTINED: "red"}
    for r in results:
        table.add_row(
            escape(r.path),
            f"[{colour[r.status]}]{r.status.value}[/]",
            r.record_id or "",
            escape(r.reason or ""),
        )
    return table


@app.command()
def ingest(
    ctx: typer.Context,
    paths: Annotated[
        list[Path],
        typer.Argument(help="Scan files or directories of them.", exists=True, metavar="PATH"),
    ],
    series: Annotated[
        str | None,
        typer.Option("--series", metavar="CODE", help="Record series code (for retention)."),
    ] = None,
    access: Annotated[
        AccessLevel,
        typer.Option(
            "--access",
            metavar="LEVEL",
            help="Access level of the new records: public, internal, confidential or secret.",
        ),
    ] = AccessLevel.INTERNAL,
    closed_year: Annotated[
        int | None,
        typer.Option(
            "--closed-year",
            min=1800,
            max=9999,
            metavar="YYYY",
            help="Year the file (hồ sơ) was closed.",
        ),
    ] = None,
    workers: Annotated[
        int, typer.Option("--workers", min=1, max=64, metavar="N", help="Parallel OCR jobs.")
    ] = 1,
    as_json: JsonOption = False,
) -> None:
    """Archive scans (PNG, JPEG, TIFF): store, OCR in Vietnamese, seal and index them.

    Exit status 0 when every input was sealed or was already archived, 1 when any input was
    quarantined (the reason is given; the input itself is left untouched)."""
    settings = IngestSettings(access=access, series_code=series, closed_year=closed_year)
    inputs = collect_inputs(paths)
    with _services(ctx) as services:
        if as_json:
            results = services.ingest(inputs, settings, workers, lambda r: _print_json(r.as_json()))
        else:
            with Progress(
                TextColumn("[progress.description]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=err,
            ) as progress:
                task = progress.add_task("Ingesting", total=len(inputs))
                results = services.ingest(
                    inputs, settings, workers, lambda _r: progress.advance(task)
                )
            out.print(_ingest_table(results))
    if any(r.status is Status.QUARANTINED for r in results):
        raise typer.Exit(ExitCode.INPUT_REJECTED)


@app.command()
def show(
    ctx: typer.Context,
    record_id: Annotated[
        str, typer.Argument(help="The record id, as ingest printed it.", metavar="RECORD_ID")
    ],
    clearance: ClearanceOption = AccessLevel.SECRET,
    as_json: JsonOption = False,
) -> None:
    """Show one record: its metadata, files, seal and text."""
    with _services(ctx) as services:
        record = services.archive.get(record_id, clearance)
        view = record_json(record, services.archive.text_of(record))
    if as_json:
        _print_json(view)
        return
    table = Table(title=f"Record {record_id}", show_header=False)
    table.add_column("field", style="bold")
    table.add_column("value", overflow="fold")
    for key in ("title", "series_code", "access", "closed_year", "source_name", "ingested_at"):
        table.add_row(key, escape(str(view[key] if view[key] is not None else "")))
    for key, value in view["metadata"].items():
        table.add_row(key, escape(str(value if value is not None else "")))
    if view["seal"]:
        table.add_row("seal", f"{view['seal']['algorithm']} key {view['seal']['key_id']}")
    out.print(table)
    files = Table(title="Files")
    for column in ("role", "media type", "size", "sha256"):
        files.add_column(column)
    for f in view["files"]:
        files.add_row(f["role"], f["media_type"], str(f["size"]), f["sha256"])
    out.print(files)
    out.print(Panel(escape(view["text"]) or "(no text)", title="Text"))


_BOLD = re.compile(r"<b>(.*?)</b>")
TABLE_SNIPPET_CHARS = 120


def _snippet_text(snippet: str) -> Text:
    """Index snippets are HTML-escaped with <b> highlights; a table shows them as bold text."""
    text = Text()
    for i, part in enumerate(_BOLD.split(snippet)):
        text.append(html.unescape(part), style="bold yellow" if i % 2 else "")
    text.truncate(TABLE_SNIPPET_CHARS, overflow="ellipsis")
    return text


@app.command()
def search(
    ctx: typer.Context,
    query: Annotated[
        str, typer.Argument(help="Words to find, with or without diacritics.", metavar="QUERY")
    ],
    limit: Annotated[
        int, typer.Option("--limit", min=1, max=1000, metavar="N", help="Most hits to list.")
    ] = 10,
    clearance: ClearanceOption = AccessLevel.SECRET,
    as_json: JsonOption = False,
) -> None:
    """Full-text search: 'chinh phu' finds 'chính phủ'; exact spelling ranks first."""
    with _services(ctx) as services:
        results = services.index.search(query, clearance, limit=limit)
    if as_json:
        _print_json(results.as_json())
        return
    table = Table(title=f"{results.total} record(s) for {query!r}")
    # Number and date stay empty until metadata is extracted; empty columns only take room.
    columns: dict[str, Callable[[SearchHit], str | Text]] = {
        "record": lambda h: h.record_id,
        "title": lambda h: escape(h.title),
        "number": lambda h: escape(h.number),
        "date": lambda h: h.date or "",
        "score": lambda h: f"{h.score:.2f}",
        "snippet": lambda h: _snippet_text(h.snippet),
    }
    shown = {
        name: cell
        for name, cell in columns.items()
        if name not in ("number", "date") or any(cell(hit) for hit in results.hits)
    }
    for name in shown:
        table.add_column(name, overflow="fold")
    for hit in results.hits:
        table.add_row(*(cell(hit) for cell in shown.values()))
    out.print(table)


@app.command()
def verify(
    ctx: typer.Context,
    record_ids: Annotated[
        list[str] | None,
        typer.Argument(help="Records to check; all when none are given.", metavar="RECORD_ID"),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Check seals offline: signature, manifest, and that every file still has its sha256.

    Exit status 5 when any record fails."""
    with _services(ctx) as services:
        archive = services.archive
        verifier = archive.verifier()
        ids = record_ids or archive.record_ids()
        results: list[RecordVerification] = [
            verify_record(archive.get(rid, AccessLevel.SECRET), archive.blobs, verifier)
            for rid in ids
        ]
    if as_json:
        _print_json(
            {
                "ok": all(r.ok for r in results),
                "records": [
                    {
                        "record_id": r.record_id,
                        "ok": r.ok,
                        "files_checked": r.files_checked,
                        "problems": r.problems,
                    }
                    for r in results
                ],
            }
        )
    else:
        table = Table(title=f"Verification of {len(results)} record(s), key {verifier.key_id}")
        for column in ("record", "files", "result"):
            table.add_column(column, overflow="fold")
        for r in results:
            verdict = "[green]intact[/]" if r.ok else f"[red]{escape('; '.join(r.problems))}[/]"
            table.add_row(r.record_id, str(r.files_checked), verdict)
        out.print(table)
    if not all(r.ok for r in results):
        raise typer.Exit(ExitCode.INTEGRITY)


@app.command()
def reindex(ctx: typer.Context) -> None:
    """Rebuild the search index from the archive (the index is only a cache)."""
    with _services(ctx) as services:
        count = rebuild(services.archive, services.index)
    out.print(f"Indexed {count} record(s).")


@app.command()
def serve(
    ctx: typer.Context,
    host: Annotated[
        str, typer.Option("--host", metavar="HOST", help="Address to listen on.")
    ] = "127.0.0.1",
    port: Annotated[
        int, typer.Option("--port", min=1, max=65535, metavar="PORT", help="Port.")
    ] = 8000,
) -> None:
    """Run the read API and the search page (http://HOST:PORT/)."""
    import uvicorn

    from api.app import create_app

    with _reported():
        application = create_app(_home(ctx))
    out.print(f"Serving {escape(str(_home(ctx).root))} on http://{host}:{port}/")
    uvicorn.run(application, host=host, port=port, log_level="info")


def run() -> None:
    app(prog_name="luutru")


if __name__ == "__main__":
    run()
