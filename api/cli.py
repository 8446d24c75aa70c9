"""The `luutru` command line. Its commands, options and --json shapes are a contract: scripts
rely on them, so change them only by adding."""

from __future__ import annotations

import html
import os
import re
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from api.cli_common import (
    ClearanceOption,
    HomeOption,
    JsonOption,
    check_closed_year,
    check_series,
    err,
    home_of,
    opened,
    out,
    parse_access,
    print_json,
    reported,
    run_watching,
    run_with_progress,
    stop_on_signals,
)
from api.cli_records import edit, quarantine_app, review
from api.errors import ExitCode
from api.services import Housekeeping, IngestReport
from api.views import record_json
from archive.errors import AddressInUse
from archive.home import ArchiveHome
from archive.models import AccessLevel
from archive.repository import Archive
from archive.revision import history
from archive.verify import RecordVerification, loose_modes, verify_record
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
app.command()(edit)
app.command()(review)
app.add_typer(quarantine_app, name="quarantine")


@app.callback()
def main(ctx: typer.Context, home: HomeOption = None) -> None:
    ctx.obj = ArchiveHome.resolve(home)


@app.command()
def init(
    ctx: typer.Context,
    home: HomeOption = None,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Create the home even inside a Python package or a git work tree's tracked "
            "folders.",
        ),
    ] = False,
) -> None:
    """Create the archive home: database, blob store, search index and signing key.

    Safe to run again: what exists is kept, what is missing is created. A signing key is
    never replaced, and never created for an archive that already has records."""
    archive_home = home_of(ctx, home)
    with reported():
        report = Archive.initialise(archive_home, force=force)
        with opened(ctx, home):
            pass
    state = "created" if report.created_config else "already there, checked"
    out.print(f"Archive home {escape(str(report.home))}: {state}.")
    key_state = "new key" if report.created_key else "existing key"
    out.print(f"Signing key (Ed25519, {key_state}): id {report.key_id}")


@app.command()
def migrate(ctx: typer.Context, home: HomeOption = None) -> None:
    """Bring the archive's database schema to this luutru's version (back it up first)."""
    with reported():
        before, after = Archive.migrate(home_of(ctx, home))
    if before == after:
        out.print(f"The schema is already at revision {after}.")
    else:
        out.print(f"Schema migrated from revision {before} to {after}.")


@app.command()
def ingest(
    ctx: typer.Context,
    paths: Annotated[
        list[Path],
        typer.Argument(help="Scans, PDFs, or directories of them.", exists=True, metavar="PATH"),
    ],
    series: Annotated[
        str | None,
        typer.Option(
            "--series", metavar="CODE", help="Record series code of the retention schedule."
        ),
    ] = None,
    access: Annotated[
        str | None,
        typer.Option(
            "--access",
            metavar="LEVEL",
            help="Access level of the new records: public, internal (the default), "
            "confidential or secret.",
            show_default=False,
        ),
    ] = None,
    closed_year: Annotated[
        int | None,
        typer.Option("--closed-year", metavar="YYYY", help="Year the file (hồ sơ) was closed."),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            min=1,
            max=64,
            metavar="N",
            help="Parallel OCR jobs. Default: the number of cores (each tesseract uses one).",
            show_default=False,
        ),
    ] = None,
    watch: Annotated[
        bool,
        typer.Option(
            "--watch",
            help="Keep watching the one directory given (a scanner's output folder) and "
            "ingest each file once it has stopped changing, until Ctrl-C or SIGTERM.",
        ),
    ] = False,
    settle: Annotated[
        float,
        typer.Option(
            "--settle",
            min=0.1,
            metavar="SECONDS",
            help="With --watch: how long a file must stay unchanged before it is taken.",
        ),
    ] = 5.0,
    as_json: JsonOption = False,
    home: HomeOption = None,
) -> None:
    """Archive scans (PNG, JPEG, TIFF), PDFs and edXML packages: store, clean up, OCR in
    Vietnamese (a born-digital PDF keeps its own text), make the PDF/A-2b archival copy of
    scanned pages, read the metadata, seal and index.

    Exit status 0 when every input was sealed, was already archived or was skipped (scanner
    litter, hidden files, symbolic links inside folders), 1 when any input was quarantined
    (the reason is given; the input itself is left untouched). SIGINT or SIGTERM finish the
    inputs under way, report them and exit 130 (with --watch, a stop between files exits 0
    or 1 as above)."""
    level = parse_access(access)
    check_closed_year(closed_year)
    if watch and (len(paths) != 1 or not paths[0].is_dir()):
        raise typer.BadParameter("takes exactly one directory to watch", param_hint="--watch")
    with opened(ctx, home) as services:
        settings = services.ingest_settings(level, check_series(services, series), closed_year)
        jobs = workers or len(os.sched_getaffinity(0))
        report = IngestReport()
        if watch:
            with stop_on_signals() as stop:
                run_watching(
                    as_json,
                    lambda sink: services.watch(
                        paths[0], settings, stop, jobs, sink, report, settle
                    ),
                    report,
                )
            return
        inputs = collect_inputs(paths)
        with stop_on_signals() as stop:
            run_with_progress(
                len(inputs.files) + len(inputs.skipped),
                as_json,
                lambda sink: services.ingest(inputs, settings, jobs, sink, stop, report),
                report,
            )


@app.command()
def show(
    ctx: typer.Context,
    record_id: Annotated[
        str,
        typer.Argument(
            help="The record id, or its first 8 or more characters.", metavar="RECORD_ID"
        ),
    ],
    clearance: ClearanceOption = "secret",
    as_json: JsonOption = False,
    home: HomeOption = None,
) -> None:
    """Show one record: its metadata, files, seal, changes and text."""
    level = parse_access(clearance, "--clearance") or AccessLevel.SECRET
    with opened(ctx, home) as services:
        record = services.archive.get(record_id, level)
        _ = record.access_level  # a damaged row is reported, not shown
        view = {
            **record_json(record, services.archive.text_of(record)),
            "changes": history(services.archive, record.id),
        }
    if as_json:
        print_json(view)
        return
    table = Table(title=f"Record {view['record_id']}", show_header=False)
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
    if view["changes"]:
        changes = Table(title="Changes")
        for column in ("when", "by", "field", "old", "new", "reason"):
            changes.add_column(column, overflow="fold")
        for c in view["changes"]:
            cells = (c["changed_at"], c["changed_by"], c["field"], c["old"], c["new"], c["reason"])
            changes.add_row(*(escape(str(v if v is not None else "")) for v in cells))
        out.print(changes)
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
    clearance: ClearanceOption = "secret",
    as_json: JsonOption = False,
    home: HomeOption = None,
) -> None:
    """Full-text search: 'chinh phu' finds 'chính phủ'; exact spelling ranks first."""
    level = parse_access(clearance, "--clearance") or AccessLevel.SECRET
    with opened(ctx, home) as services:
        results = services.index.search(query, level, limit=limit)
    if as_json:
        print_json(results.as_json())
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
        typer.Argument(
            help="Records to check (ids or 8+ character prefixes); all when none are given.",
            metavar="RECORD_ID",
        ),
    ] = None,
    repair: Annotated[
        bool,
        typer.Option(
            "--repair",
            help="Index records missing from the search index and remove blobs no record "
            "references that are over a day old. Records themselves are never changed.",
        ),
    ] = False,
    as_json: JsonOption = False,
    home: HomeOption = None,
) -> None:
    """Check the archive offline, like 'git fsck': each seal's signature and manifest, that the
    database says what the seal says, that every file still has its sha256; and warn about
    records missing from the search index, blobs no record references, and files others
    could read.

    Exit status 5 when any record fails; warnings alone leave it 0."""
    with opened(ctx, home) as services:
        archive = services.archive
        verifier = archive.verifier()
        ids = [archive.resolve_id(rid, AccessLevel.SECRET) for rid in record_ids or []]
        results: list[RecordVerification] = [
            verify_record(record, archive.blobs, verifier)
            for record in archive.iter_records(ids or None)
        ]
        # The index and the blob store are checked as a whole, so only when all records are.
        housekeeping = services.housekeeping(repair) if not record_ids else Housekeeping()
        loose = loose_modes(archive.home.root, archive.settings.group is not None)
        warnings = [*housekeeping.warnings(), *loose]
    if as_json:
        print_json(
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
                "warnings": warnings,
                "repaired": housekeeping.repaired,
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
    _report_housekeeping(housekeeping, loose, archive.home.root)
    if not all(r.ok for r in results):
        raise typer.Exit(ExitCode.INTEGRITY)


def _report_housekeeping(housekeeping: Housekeeping, loose: list[str], root: Path) -> None:
    for warning in housekeeping.warnings():
        err.print(f"[yellow]warning: {escape(warning)}[/]")
    if housekeeping.repaired:
        err.print("[green]repaired: the index caught up and unreferenced blobs were removed[/]")
    elif housekeeping.warnings():
        err.print("[yellow]'luutru verify --repair' repairs the index and removes the blobs[/]")
    if loose:
        err.print(
            "[yellow]warning: other users may read this archive; "
            f"'chmod -R go-rwx {escape(str(root))}' closes it:[/]"
        )
        for line in loose:
            err.print(f"[yellow]  {escape(line)}[/]")


@app.command()
def reindex(ctx: typer.Context, home: HomeOption = None) -> None:
    """Rebuild the search index from the archive (the index is only a cache)."""
    with opened(ctx, home) as services:
        count = rebuild(services.archive, services.index)
    out.print(f"Indexed {count} record(s).")


def _listening_socket(host: str, port: int) -> socket.socket:
    """Bind before starting the server, so a taken port is one clear error."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise AddressInUse(
            f"cannot listen on {host}:{port}: {exc.strerror}"
            + ("; another program uses that port, try --port" if exc.errno == 98 else "")
        ) from None
    return sock


@app.command()
def serve(
    ctx: typer.Context,
    host: Annotated[
        str, typer.Option("--host", metavar="HOST", help="Address to listen on.")
    ] = "127.0.0.1",
    port: Annotated[
        int, typer.Option("--port", min=1, max=65535, metavar="PORT", help="Port.")
    ] = 8000,
    home: HomeOption = None,
) -> None:
    """Run the read API and the search page (http://HOST:PORT/). It never writes to the
    archive, and refuses a database whose schema is not this luutru's ('luutru migrate')."""
    import uvicorn

    from api.app import create_app

    archive_home = home_of(ctx, home)
    with reported():
        application = create_app(archive_home)
        with opened(ctx, home):
            pass  # the database and schema are checked before the port is taken
        sock = _listening_socket(host, port)
    out.print(f"Serving {escape(str(archive_home.root))} on http://{host}:{port}/")
    server = uvicorn.Server(uvicorn.Config(application, log_level="info"))
    server.run(sockets=[sock])


def run() -> None:
    app(prog_name="luutru")


if __name__ == "__main__":
    run()
