"""`luutru edit` and `luutru quarantine`: changing what is said about a record, and the inputs
that could not be archived."""

from __future__ import annotations

import getpass
from datetime import date
from typing import Annotated, Any

import typer
from rich.table import Table

from api.cli_common import (
    ClearanceOption,
    HomeOption,
    JsonOption,
    check_closed_year,
    check_series,
    err,
    opened,
    out,
    parse_access,
    print_json,
    run_with_progress,
    shown,
)
from api.errors import ExitCode
from api.services import IngestReport, Services
from archive.errors import SearchUnavailable
from archive.models import AccessLevel
from archive.revision import check_editable, revise_record
from retention import vntime
from search.indexer import index_records

TextOption = Annotated[str | None, typer.Option(metavar="TEXT", show_default=False)]


def edit(
    ctx: typer.Context,
    record_id: Annotated[
        str, typer.Argument(help="The record id, or its first 8+ characters.", metavar="RECORD_ID")
    ],
    reason: Annotated[
        str, typer.Option("--reason", metavar="TEXT", help="Why the record is changed (kept).")
    ],
    access: Annotated[str | None, typer.Option("--access", metavar="LEVEL")] = None,
    series: Annotated[str | None, typer.Option("--series", metavar="CODE")] = None,
    closed_year: Annotated[int | None, typer.Option("--closed-year", metavar="YYYY")] = None,
    title: TextOption = None,
    number: Annotated[
        str | None, typer.Option("--number", metavar="TEXT", help="Số/ký hiệu, e.g. 1482/QĐ-UBND.")
    ] = None,
    doc_type: Annotated[
        str | None, typer.Option("--doc-type", metavar="ABBR", help="Type abbreviation, e.g. QĐ.")
    ] = None,
    type_name: Annotated[
        str | None, typer.Option("--type-name", metavar="TEXT", help="Tên loại, e.g. QUYẾT ĐỊNH.")
    ] = None,
    issuer: Annotated[
        str | None, typer.Option("--issuer", metavar="TEXT", help="Cơ quan ban hành.")
    ] = None,
    issued: Annotated[
        str | None, typer.Option("--date", metavar="YYYY-MM-DD", help="Ngày ban hành.")
    ] = None,
    place: TextOption = None,
    subject: Annotated[
        str | None, typer.Option("--subject", metavar="TEXT", help="Trích yếu nội dung.")
    ] = None,
    by: Annotated[
        str | None,
        typer.Option("--by", metavar="NAME", help="Who makes the change. Default: your login."),
    ] = None,
    as_json: JsonOption = False,
    home: HomeOption = None,
) -> None:
    """Change a record's access level, series, closed year or description.

    The files never change. The record is sealed again with a manifest that names the one it
    replaces, and who changed what, when and why is kept ('luutru show' lists it)."""
    changes: dict[str, Any] = {
        "access": parse_access(access),
        "closed_year": check_closed_year(closed_year),
        "title": title,
        "doc_number": number,
        "doc_type": doc_type,
        "type_name": type_name,
        "issuer": issuer,
        "issued_date": _parse_date(issued),
        "place": place,
        "subject": subject,
    }
    with opened(ctx, home) as services:
        changes["series_code"] = check_series(services, series)
        wanted = {field: value for field, value in changes.items() if value is not None}
        if not wanted:
            raise typer.BadParameter("name at least one thing to change, e.g. --access secret")
        # Refused before the index is touched: a destroyed or transferred record must not
        # leave search (or come back to it) for an edit that is not made.
        full_id = check_editable(services.archive, record_id)
        if "access" in wanted:
            _leave_search(services, full_id)
        diffs = revise_record(services.archive, record_id, wanted, reason, by or getpass.getuser())
        record = services.archive.get(record_id, AccessLevel.SECRET)
        try:
            index_records(services.archive, services.index, [record.id])
        except SearchUnavailable as exc:
            err.print(
                f"[red]the record was changed and sealed, but the search index could not take "
                f"it ({shown(str(exc))}): run 'luutru reindex' now; until then search shows "
                "the old values[/]"
            )
            raise typer.Exit(ExitCode.SEARCH) from None
    rows = [{"field": d.field, "old": _text(d.old), "new": _text(d.new)} for d in diffs]
    if as_json:
        print_json({"record_id": record.id, "changes": rows})
        return
    table = Table(title=f"Record {record.id} changed and sealed again")
    for column in ("field", "old", "new"):
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*(shown(row[key] or "") for key in ("field", "old", "new")))
    out.print(table)


def _parse_date(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        issued = date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(
            f"{value!r} is not a date YYYY-MM-DD", param_hint="--date"
        ) from None
    # Old dates stay allowed (an archive may hold documents of the 19th century); a document
    # is never issued after today, as the agency counts days (Vietnam time).
    if issued > vntime.today():
        raise typer.BadParameter(
            f"{value} is after today ({vntime.today()}): no document is issued in the future",
            param_hint="--date",
        )
    return issued


def _leave_search(services: Services, record_id: str) -> None:
    """Out of the search index before the database gives the record another access level:
    were the change or its indexing to fail after, the record is missing from search until
    the index catches up, never shown (nor counted) for readers it is now closed to."""
    try:
        services.index.remove([record_id])
    except SearchUnavailable as exc:
        err.print(
            f"[red]the search index cannot take the change ({shown(str(exc))}), so the "
            "record was not changed; try again, or run 'luutru reindex' first[/]"
        )
        raise typer.Exit(ExitCode.SEARCH) from None


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return value.isoformat() if isinstance(value, date) else str(value)


quarantine_app = typer.Typer(
    help="Inputs that could not be archived: list them, or try them again.",
    no_args_is_help=True,
    rich_markup_mode=None,
)


@quarantine_app.command("list")
def quarantine_list(
    ctx: typer.Context, as_json: JsonOption = False, home: HomeOption = None
) -> None:
    """List quarantined inputs: where they came from, why, and when."""
    with opened(ctx, home) as services:
        shelf = services.archive.quarantine_shelf
        listed = [(entry, shelf.kept_copy(entry)) for entry in shelf.entries()]
    if as_json:
        print_json(
            {
                "entries": [
                    {
                        "id": entry.id,
                        "path": entry.source_path,
                        "reason": entry.reason,
                        "quarantined_at": entry.quarantined_at.isoformat(),
                        "sha256": entry.sha256 or None,
                        "size": entry.size,
                        "copy": str(copy) if copy else None,
                        "access": entry.access,
                        "series_code": entry.series_code,
                        "closed_year": entry.closed_year,
                    }
                    for entry, copy in listed
                ]
            }
        )
        return
    table = Table(title=f"{len(listed)} quarantined input(s)")
    for column in ("id", "file", "reason", "when", "copy kept"):
        table.add_column(column, overflow="fold")
    for entry, copy in listed:
        table.add_row(
            str(entry.id),
            shown(entry.source_path),
            shown(entry.reason),
            entry.quarantined_at.strftime("%Y-%m-%d %H:%M:%S"),
            "yes" if copy else "no",
        )
    out.print(table)


@quarantine_app.command("retry")
def quarantine_retry(
    ctx: typer.Context,
    entry_ids: Annotated[
        list[int] | None,
        typer.Argument(
            help="Entries to retry (ids from 'quarantine list'); all when none.", metavar="ID"
        ),
    ] = None,
    access: Annotated[str | None, typer.Option("--access", metavar="LEVEL")] = None,
    series: Annotated[str | None, typer.Option("--series", metavar="CODE")] = None,
    closed_year: Annotated[int | None, typer.Option("--closed-year", metavar="YYYY")] = None,
    as_json: JsonOption = False,
    home: HomeOption = None,
) -> None:
    """Run the ingest again on the kept copies, e.g. after installing a missing language pack.

    An input archived now leaves the quarantine; one refused again stays, with the new reason.
    Exit status as for ingest."""
    level = parse_access(access)
    check_closed_year(closed_year)
    with opened(ctx, home) as services:
        settings = services.ingest_settings(level, check_series(services, series), closed_year)
        entries = services.archive.quarantine_shelf.entries(entry_ids or None)
        report = IngestReport()
        run_with_progress(
            len(entries),
            as_json,
            lambda sink: services.retry_quarantined(entries, settings, sink, report),
            report,
        )


def review(
    ctx: typer.Context,
    clearance: ClearanceOption = "secret",
    as_json: JsonOption = False,
    home: HomeOption = None,
) -> None:
    """List records a person should look at: pages OCR was unsure of, metadata it could not
    read, scans under the digitization standard."""
    level = parse_access(clearance, "--clearance") or AccessLevel.SECRET
    with opened(ctx, home) as services:
        records = services.archive.records_to_review(level)
    unsure = {r.id: [p for p in r.pages or [] if p.get("flagged")] for r in records}
    if as_json:
        print_json(
            {
                "records": [
                    {
                        "record_id": r.id,
                        "title": r.title,
                        "pages": unsure[r.id],
                        "warnings": r.warnings or [],
                    }
                    for r in records
                ]
            }
        )
        return
    table = Table(title=f"{len(records)} record(s) to review")
    for column in ("record", "title", "unsure pages", "warnings"):
        table.add_column(column, overflow="fold")
    for r in records:
        pages = ", ".join(
            f"{p['number']} ({'no text' if p['confidence'] is None else p['confidence']})"
            for p in unsure[r.id]
        )
        warnings = shown("; ".join(r.warnings or []))
        table.add_row(r.id, shown(r.title), pages, warnings)
    out.print(table)
