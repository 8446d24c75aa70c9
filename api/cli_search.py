"""`search` and `reindex`. The --json shape of search is a contract: {"total", "hits",
"facets"}; see search/contracts.py."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from datetime import date
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from api.cli_common import (
    ClearanceOption,
    HomeOption,
    JsonOption,
    err,
    opened,
    out,
    parse_access,
    print_json,
    printable,
    shown,
)
from archive.models import AccessLevel
from search.contracts import SearchHit, SearchRequest, Sort
from search.query import Filters, parse_query

TABLE_SNIPPET_CHARS = 120
_BOLD = re.compile(r"</?b>")


def _snippet_text(snippet: str) -> Text:
    """Index snippets are HTML-escaped with <b> highlights; a table shows them as bold text."""
    text = Text()
    for i, part in enumerate(_BOLD.split(snippet)):
        text.append(printable(html.unescape(part)), style="bold yellow" if i % 2 else "")
    text.truncate(TABLE_SNIPPET_CHARS, overflow="ellipsis")
    return text


def _day(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(
            f"{value!r} is not a date (YYYY-MM-DD)", param_hint=option
        ) from None


def search(
    ctx: typer.Context,
    query: Annotated[
        str,
        typer.Argument(
            help='Words, with or without diacritics; "a phrase", -word, a OR b, word*, a '
            "document number as written (1482/QĐ-UBND), so: loai: coquan: nam: tu: den:.",
            metavar="QUERY",
        ),
    ] = "",
    doc_type: Annotated[
        str | None, typer.Option("--type", metavar="ABBR", help="Type, e.g. QĐ, CV, TB.")
    ] = None,
    issuer: Annotated[
        str | None, typer.Option("--issuer", metavar="NAME", help="Words of the issuer's name.")
    ] = None,
    date_from: Annotated[
        str | None, typer.Option("--from", metavar="YYYY-MM-DD", help="Issued on or after.")
    ] = None,
    date_to: Annotated[
        str | None, typer.Option("--to", metavar="YYYY-MM-DD", help="Issued on or before.")
    ] = None,
    series: Annotated[
        str | None, typer.Option("--series", metavar="CODE", help="Retention series.")
    ] = None,
    year: Annotated[
        int | None, typer.Option("--year", metavar="YYYY", help="Year of issue.")
    ] = None,
    sort: Annotated[
        Sort, typer.Option("--sort", help="relevance, newest or oldest first.")
    ] = Sort.RELEVANCE,
    limit: Annotated[
        int, typer.Option("--limit", min=1, max=1000, metavar="N", help="Most hits to list.")
    ] = 10,
    offset: Annotated[int, typer.Option("--offset", min=0, metavar="N", help="Hits to skip.")] = 0,
    clearance: ClearanceOption = "secret",
    as_json: JsonOption = False,
    home: HomeOption = None,
) -> None:
    """Search the archive: 'chinh phu' finds 'chính phủ' (exact spelling ranks first); a
    record's own number, title and subject rank above documents that only mention the words.
    Filters narrow it; facets count types, issuers and years of what was found."""
    level = parse_access(clearance, "--clearance") or AccessLevel.SECRET
    filters = Filters(
        doc_type=doc_type,
        issuer=issuer,
        date_from=_day(date_from, "--from"),
        date_to=_day(date_to, "--to"),
        series=series,
        year=year,
    )
    request = SearchRequest(parse_query(query), level, filters, sort, limit, offset)
    if request.query.empty and request.all_filters == Filters():
        raise typer.BadParameter("give words to search for, or a filter", param_hint="QUERY")
    chosen = request.all_filters  # the options and the query's own tu:/den:
    if chosen.date_from and chosen.date_to and chosen.date_from > chosen.date_to:
        # Not an error (the API answers it with no hits too), but 0 hits alone reads as
        # "nothing was found" rather than "nothing could be".
        err.print(
            f"[yellow]warning: the date range is empty: from {chosen.date_from} is after "
            f"to {chosen.date_to}; no record can match[/]"
        )
    with opened(ctx, home, catch_up_index=True) as services:
        if services.index_note:
            err.print(f"[dim]{shown(services.index_note)}[/]")
        results = services.search(request)
    if as_json:
        print_json(results.as_json())
        return
    table = Table(title=f"{results.total} record(s) for {shown(repr(query))}")
    columns: dict[str, Callable[[SearchHit], str | Text]] = {
        "record": lambda h: h.record_id,
        "number": lambda h: shown(h.number),
        "date": lambda h: h.date or "",
        "title": lambda h: shown(h.title),
        "snippet": lambda h: _snippet_text(h.snippet),
    }
    kept = {
        name: cell
        for name, cell in columns.items()
        if name not in ("number", "date") or any(cell(hit) for hit in results.hits)
    }
    for name in kept:
        table.add_column(name, overflow="fold")
    for hit in results.hits:
        table.add_row(*(cell(hit) for cell in kept.values()))
    out.print(table)
    for name, counts in results.facets.items():
        if counts:
            listed = ", ".join(f"{shown(c.value)} ({c.count})" for c in counts[:8])
            out.print(f"[dim]{name}:[/] {listed}")


def reindex(ctx: typer.Context, home: HomeOption = None) -> None:
    """Rebuild the search index from the archive alone (the index is a cache), beside the one
    in use, which keeps answering until the new one is complete. A killed rebuild resumes."""
    with opened(ctx, home) as services, Progress(
        TextColumn("Indexing"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
        console=err,
    ) as progress:  # fmt: skip
        task = progress.add_task("index", total=None)

        def advance(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        report = services.reindex(advance)
    out.print(f"Indexed {report.indexed} record(s).")
    for damaged in report.damaged:
        err.print(f"[yellow]warning: {shown(damaged)}[/]")
