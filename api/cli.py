"""The `luutru` command line. Its commands, options and --json shapes are a contract: scripts
rely on them, so change them only by adding."""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.panel import Panel
from rich.table import Table

from api.cli_common import (
    ClearanceOption,
    HomeOption,
    JsonOption,
    check_closed_year,
    check_series,
    home_of,
    limit_malloc_arenas,
    opened,
    out,
    parse_access,
    print_json,
    reported,
    run_watching,
    run_with_progress,
    shown,
    stop_on_signals,
)
from api.cli_integrity import evidence, keys_app, log_app, verify, warn_unencrypted
from api.cli_records import edit, quarantine_app, review
from api.cli_retention import (
    audit,
    dispose_app,
    hold_app,
    retention_app,
    transfer,
    users_app,
)
from api.cli_search import reindex, search
from api.cli_worker import worker
from api.services import IngestReport
from api.views import provenance_json, record_json
from archive.errors import AddressInUse
from archive.home import ArchiveHome
from archive.models import AccessLevel
from archive.repository import Archive
from archive.revision import history
from ingest.runner import collect_inputs

app = typer.Typer(
    name="luutru",
    help="luutru: an offline electronic records archive (lưu trữ) for Vietnamese agencies.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)
app.command()(edit)
app.command()(review)
app.command()(verify)
app.command()(evidence)
app.command()(search)
app.command()(reindex)
app.add_typer(quarantine_app, name="quarantine")
app.add_typer(keys_app, name="keys")
app.add_typer(log_app, name="log")
app.add_typer(users_app, name="users")
app.add_typer(retention_app, name="retention")
app.add_typer(hold_app, name="hold")
app.add_typer(dispose_app, name="dispose")
app.command()(transfer)
app.command()(audit)
app.command()(worker)


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
    out.print(f"Archive home {shown(str(report.home))}: {state}.")
    key_state = "new key" if report.created_key else "existing key"
    out.print(f"Signing key (Ed25519, {key_state}): id {report.key_id}")
    out.print(
        f"Key fingerprint: {report.fingerprint}\n"
        "  Write it down outside the archive (on paper, in the agency's register): "
        "'luutru verify --trusted-key FINGERPRINT' checks the seals against it."
    )
    if report.logged_entries:
        out.print(f"Entered {report.logged_entries} earlier record(s) in the log.")
    if report.key_encrypted is False:
        warn_unencrypted()


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
    distributed: Annotated[
        bool,
        typer.Option(
            "--distributed",
            help="Leave clean-up, OCR and the PDF/A copies to 'luutru worker' processes "
            "through the message broker (broker_url); this process only reads, checks and "
            "seals. --workers is then how many inputs are handed out at once.",
        ),
    ] = False,
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
    if watch and distributed:
        raise typer.BadParameter("--watch runs on this machine", param_hint="--distributed")
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
                lambda sink: services.ingest(
                    inputs, settings, jobs, sink, stop, report, distributed
                ),
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
            **record_json(record, record.files, record.seal, services.archive.text_of(record)),
            "changes": history(services.archive, record.id),
            **provenance_json(services.archive.history(record.id)),
        }
    if as_json:
        print_json(view)
        return
    table = Table(title=f"Record {view['record_id']}", show_header=False)
    table.add_column("field", style="bold")
    table.add_column("value", overflow="fold")
    for key in ("title", "series_code", "access", "closed_year", "source_name", "ingested_at"):
        table.add_row(key, shown(str(view[key] if view[key] is not None else "")))
    table.add_row("status", _status_line(view))
    for key, value in view["metadata"].items():
        table.add_row(key, shown(str(value if value is not None else "")))
    if view["seal"]:
        table.add_row("seal", f"{view['seal']['algorithm']} key {view['seal']['key_id']}")
    if pages := _pages_line(view["pages"]):
        table.add_row("OCR confidence", pages)
    for warning in view["warnings"]:
        table.add_row("[yellow]warning[/]", shown(str(warning)))
    out.print(table)
    files = Table(title="Files")
    for column in ("role", "media type", "size", "sha256"):
        files.add_column(column)
    for f in view["files"]:
        files.add_row(f["role"], f["media_type"], str(f["size"]), f["sha256"])
    out.print(files)
    _print_provenance(view)
    if view["changes"]:
        changes = Table(title="Changes")
        for column in ("when", "by", "field", "old", "new", "reason"):
            changes.add_column(column, overflow="fold")
        for c in view["changes"]:
            cells = (c["changed_at"], c["changed_by"], c["field"], c["old"], c["new"], c["reason"])
            changes.add_row(*(shown(str(v if v is not None else "")) for v in cells))
        out.print(changes)
    out.print(Panel(shown(view["text"]) or "(no text)", title="Text"))


def _status_line(view: dict[str, Any]) -> str:
    """The record's status; a disposed record says when, by whom and under which list (its
    files are gone: the Files table lists what was sealed)."""
    done = view["disposition"]
    if done is None:
        return str(view["status"])
    return (
        f"[bold red]{view['status']}[/] {done['at']} by {shown(str(done['by']))}, disposal list "
        f"{done['list_id']} (the files below are what was sealed, not what is kept)"
    )


def _pages_line(pages: list[dict[str, Any]]) -> str:
    """Each page's mean OCR word confidence (0-100), as the record keeps them."""
    values = [p.get("confidence") for p in pages]
    told = [f"{v:.0f}" if isinstance(v, int | float) else "-" for v in values]
    return ", ".join(f"p{n}: {v}" for n, v in enumerate(told, start=1))


def _print_provenance(view: dict[str, Any]) -> None:
    for check in view["signatures"]:
        colour = "green" if check["status"] == "valid" else "red"
        out.print(
            f"Signature [{colour}]{check['status']}[/]: {shown(check['signer'])}"
            f" ({shown(check.get('signing_time') or 'no signing time')})"
            + (f" — {shown(check['reason'])}" if check.get("reason") else "")
        )
    for entry in view["log"]:
        out.print(f"Log entry {entry['seq']} ({entry['kind']}), {entry['logged_at']}")
    if view["events"]:
        events = Table(title="Events")
        for column in ("when", "event", "outcome", "by", "detail"):
            events.add_column(column, overflow="fold")
        for e in view["events"]:
            events.add_row(e["at"], e["kind"], e["outcome"], shown(e["agent"]), shown(e["detail"]))
        out.print(events)


# How 'serve' runs uvicorn (bench/load.py runs its baseline app with the same).
UVICORN_SETTINGS: dict[str, Any] = {"log_level": "info"}


def _listening_socket(host: str, port: int) -> socket.socket:
    """Bind before starting the server, so a taken port is one clear error.

    Made as a TCP socket by name (IPPROTO_TCP) and with TCP_NODELAY, which connections
    accepted on it inherit: asyncio sets TCP_NODELAY only on sockets whose protocol says
    TCP, and without it each response (headers, then body) waits for the client's delayed
    acknowledgement, 40 ms on Linux."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
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
    """Run the read API and the search page (http://HOST:PORT/). It never changes a record
    (it writes only the audit of reads of non-public records), and refuses a database whose
    schema is not this luutru's ('luutru migrate')."""
    import uvicorn

    from api.app import create_app

    archive_home = home_of(ctx, home)
    with reported():
        application = create_app(archive_home)
        with opened(ctx, home):
            pass  # the database and schema are checked before the port is taken
        sock = _listening_socket(host, port)
    out.print(f"Serving {shown(str(archive_home.root))} on http://{host}:{port}/")
    server = uvicorn.Server(uvicorn.Config(application, **UVICORN_SETTINGS))
    server.run(sockets=[sock])


def run() -> None:
    limit_malloc_arenas()
    app(prog_name="luutru")


if __name__ == "__main__":
    run()
