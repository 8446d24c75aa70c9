"""Users, retention, holds, disposition, transfer and the audit trail. The --json shapes are a
contract (see the README). Every --as USER is proven by that user's API key, from
$LUUTRU_API_KEY or a prompt; without it, two-person control would mean nothing."""

from __future__ import annotations

import os
import sys
from datetime import UTC, date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from sqlalchemy import select

from api.cli_common import (
    HomeOption,
    JsonOption,
    check_series,
    opened,
    out,
    parse_access,
    print_json,
    shown,
)
from api.services import Services
from archive.errors import Refused, SearchUnavailable
from archive.fsutil import atomic_write_bytes
from archive.models import AccessLevel, Event, RecordChange, User
from archive.repository import operator_name
from archive.users import Role, add_user, authenticate, disable_user, users
from retention import holds as holding
from retention.disposition import Agency, ListView, approve, cancel, execute, get_list, propose
from retention.due import due_records
from retention.handover import transfer as hand_over
from retention.schedule import Action, load_schedule, schedule_text
from retention.vntime import today

API_KEY_ENV = "LUUTRU_API_KEY"
AsOption = Annotated[
    str,
    typer.Option(
        "--as", metavar="USER", help=f"Who does it; proven by their API key (${API_KEY_ENV})."
    ),
]


def _key_of(name: str) -> str | None:
    key = os.environ.get(API_KEY_ENV)
    if key:
        return key
    if sys.stdin.isatty():
        typed: str = typer.prompt(
            f"API key of {name}", hide_input=True, default="", show_default=False
        )
        return typed
    return None


def proven(services: Services, name: str, action: str) -> User:
    return authenticate(services.archive, name, _key_of(name), action)


def _as_of(value: str | None) -> date:
    if value is None:
        return today()  # in Vietnam, as the lists count it
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(
            f"{value!r} is not a date (YYYY-MM-DD)", param_hint="--as-of"
        ) from None


def _agency(services: Services) -> Agency:
    settings = services.archive.settings
    return Agency(settings.agency or Agency.name, settings.place)


# --- users ------------------------------------------------------------------------------

users_app = typer.Typer(
    help="People who use the archive, with roles and API keys.", no_args_is_help=True
)


@users_app.command("add")
def users_add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="One word, e.g. nguyen.van.a.")],
    role: Annotated[Role, typer.Option("--role", help="What they may do.")],
    clearance: Annotated[
        str, typer.Option("--clearance", metavar="LEVEL", help="What they may read.")
    ],
    as_json: JsonOption = False,
    home: HomeOption = None,
) -> None:
    """Add a user and print their API key, once: only its hash is kept."""
    level = parse_access(clearance, "--clearance") or AccessLevel.PUBLIC
    with opened(ctx, home) as services:
        user, api_key = add_user(services.archive, name, role, level, operator_name())
        _audit(services, "user added", f"{user.name} ({user.role}, {user.clearance})")
    if as_json:
        print_json(
            {"name": user.name, "role": user.role, "clearance": user.clearance, "api_key": api_key}
        )
        return
    out.print(f"User {shown(user.name)}: {user.role}, cleared for {user.clearance}.")
    out.print(f"API key (shown once; give it to them in person): {api_key}")


@users_app.command("list")
def users_list(ctx: typer.Context, as_json: JsonOption = False, home: HomeOption = None) -> None:
    """The users, their roles and clearances (never their keys)."""
    with opened(ctx, home) as services:
        found = users(services.archive)
    rows = [
        {
            "name": u.name,
            "role": u.role,
            "clearance": u.clearance,
            "disabled": u.disabled_at is not None,
        }
        for u in found
    ]
    if as_json:
        print_json({"users": rows})
        return
    table = Table(title="Users")
    for column in ("name", "role", "clearance", "disabled"):
        table.add_column(column)
    for u in found:
        table.add_row(shown(u.name), u.role, u.clearance, "yes" if u.disabled_at else "")
    out.print(table)


@users_app.command("disable")
def users_disable(
    ctx: typer.Context, name: Annotated[str, typer.Argument()], home: HomeOption = None
) -> None:
    """Stop a user's key from working (users are never deleted: the audit names them)."""
    with opened(ctx, home) as services:
        disable_user(services.archive, name)
        _audit(services, "user disabled", name)
    out.print(f"User {shown(name)} disabled.")


def _audit(services: Services, kind: str, detail: str, agent: str | None = None) -> None:
    with services.archive.session() as session, session.begin():
        session.add(
            Event(
                at=datetime.now(UTC),
                kind=kind,
                outcome="pass",
                agent=agent or operator_name(),
                detail=detail,
            )
        )


# --- retention --------------------------------------------------------------------------

retention_app = typer.Typer(help="Retention schedule and what falls due.", no_args_is_help=True)


@retention_app.command("schedule")
def retention_schedule(
    ctx: typer.Context,
    load: Annotated[
        Path | None,
        typer.Option(
            "--load", metavar="FILE.toml", help="Replace the archive's schedule by this one."
        ),
    ] = None,
    as_json: JsonOption = False,
    home: HomeOption = None,
) -> None:
    """The retention schedule: series, periods ('Vĩnh viễn' or N năm) and actions."""
    with opened(ctx, home) as services:
        if load is not None:
            rules = load_schedule(load)  # refused whole when any series is wrong
            atomic_write_bytes(
                services.archive.home.root / "schedule.toml", schedule_text(rules).encode()
            )
            _audit(services, "schedule loaded", f"{len(rules)} series from {load}")
        rules = services.schedule()
    if as_json:
        print_json({"series": [rule.as_json() for rule in rules.values()]})
        return
    table = Table(title="Retention schedule")
    for column in ("code", "title", "period", "action"):
        table.add_column(column, overflow="fold")
    for rule in rules.values():
        after = f" (after {rule.transfer_after})" if rule.transfer_after else ""
        table.add_row(rule.code, shown(rule.title), str(rule.period), rule.action.value + after)
    out.print(table)


@retention_app.command("due")
def retention_due(
    ctx: typer.Context,
    as_of: Annotated[
        str | None, typer.Option("--as-of", metavar="YYYY-MM-DD", help="Default: today.")
    ] = None,
    as_json: JsonOption = False,
    home: HomeOption = None,
) -> None:
    """Records whose retention ends by that date: due for review, transfer or destruction."""
    when = _as_of(as_of)
    with opened(ctx, home) as services:
        found = due_records(services.archive, services.schedule(), when)
    if as_json:
        print_json({"as_of": when.isoformat(), "due": [d.as_json() for d in found]})
        return
    table = Table(title=f"{len(found)} record(s) due by {when}")
    for column in ("record", "series", "action", "due", "held", "status"):
        table.add_column(column)
    for d in found:
        table.add_row(
            d.record_id,
            d.series,
            d.action.value,
            d.due_date.isoformat(),
            "HELD" if d.held else "",
            d.status,
        )
    out.print(table)


# --- holds ------------------------------------------------------------------------------

hold_app = typer.Typer(
    help="Legal holds: held records are never disposed of.", no_args_is_help=True
)


@hold_app.command("add")
def hold_add(
    ctx: typer.Context,
    record_id: Annotated[
        str | None, typer.Argument(help="A record to hold.", metavar="RECORD_ID")
    ] = None,
    series: Annotated[
        str | None, typer.Option("--series", metavar="CODE", help="Hold a whole series.")
    ] = None,
    query: Annotated[
        str | None, typer.Option("--query", metavar="Q", help="Hold what a search finds now.")
    ] = None,
    reason: Annotated[str, typer.Option("--reason", help="Why (a case, a request).")] = "",
    as_user: Annotated[
        str | None,
        typer.Option("--as", metavar="USER", help="Who puts it (legal, archivist, admin)."),
    ] = None,
    as_json: JsonOption = False,
    home: HomeOption = None,
) -> None:
    """Hold a record, a series, or the records a search matches, until released."""
    chosen = [value for value in (record_id, series, query) if value]
    if len(chosen) != 1:
        raise typer.BadParameter("give one of RECORD_ID, --series or --query")
    with opened(ctx, home, catch_up_index=query is not None) as services:
        by = proven(services, as_user, "hold").name if as_user else operator_name()
        if record_id:
            view = holding.add_hold(
                services.archive, holding.HoldKind.RECORD, record_id, reason, by
            )
        elif series:
            # As the schedule spells it: records are filed under that spelling.
            code = check_series(services, series) or series
            view = holding.add_hold(services.archive, holding.HoldKind.SERIES, code, reason, by)
        else:
            ids = services.all_matches(query or "")
            view = holding.add_hold(
                services.archive, holding.HoldKind.QUERY, query or "", reason, by, ids
            )
    if as_json:
        print_json(view.__dict__)
    else:
        out.print(
            f"Hold {view.id} on {view.kind} {shown(view.target)} ({view.records} record(s) named)."
        )


@hold_app.command("release")
def hold_release(
    ctx: typer.Context,
    hold_id: Annotated[int, typer.Argument(metavar="HOLD_ID")],
    as_user: Annotated[
        str,
        typer.Option(
            "--as",
            metavar="USER",
            help=f"Who releases it (legal, archivist, admin); proven by their API key "
            f"(${API_KEY_ENV}).",
        ),
    ],
    reason: Annotated[
        str, typer.Option("--reason", metavar="TEXT", help="Why (the case closed, an order).")
    ],
    as_json: JsonOption = False,
    home: HomeOption = None,
) -> None:
    """Release a hold (kept in the list as released, with who and why): as putting one, it
    takes a user whose role may hold, proven by their key."""
    with opened(ctx, home) as services:
        by = proven(services, as_user, "hold").name
        view = holding.release_hold(services.archive, hold_id, by, reason)
    if as_json:
        print_json(view.__dict__)
    else:
        out.print(f"Hold {hold_id} released by {shown(by)}: {shown(view.release_reason or '')}")


@hold_app.command("list")
def hold_list(ctx: typer.Context, as_json: JsonOption = False, home: HomeOption = None) -> None:
    """Every hold, active and released."""
    with opened(ctx, home) as services:
        found = holding.holds(services.archive)
    if as_json:
        print_json({"holds": [h.__dict__ for h in found]})
        return
    table = Table(title="Holds")
    for column in ("id", "kind", "target", "reason", "by", "since", "released", "records"):
        table.add_column(column, overflow="fold")
    for h in found:
        table.add_row(str(h.id), h.kind, shown(h.target), shown(h.reason), shown(h.created_by),
                      h.created_at[:10], (h.released_at or "")[:10], str(h.records))  # fmt: skip
    out.print(table)


# --- disposition ------------------------------------------------------------------------

dispose_app = typer.Typer(
    help="Destroy or transfer records: proposed, approved twice, executed.", no_args_is_help=True
)


class Proposed(StrEnum):
    """What a list may propose: 'review' is the archivist's, record by record, never a list."""

    DESTROY = Action.DESTROY.value
    TRANSFER = Action.TRANSFER.value


@dispose_app.command("propose")
def dispose_propose(
    ctx: typer.Context,
    as_user: AsOption,
    action: Annotated[
        Proposed, typer.Option("--action", help="destroy or transfer.")
    ] = Proposed.DESTROY,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            metavar="YYYY-MM-DD",
            help="Due by this date: today (the default) or earlier, never later; what falls "
            "due later is 'luutru retention due --as-of DATE'.",
        ),
    ] = None,
    as_json: JsonOption = False,
    home: HomeOption = None,
) -> None:
    """List the records due for destruction (or transfer), minus held ones; those to destroy
    are marked 'Xem xét hủy'. Needs two approvals before it can be executed."""
    with opened(ctx, home) as services:
        user = proven(services, as_user, "propose")
        view = propose(
            services.archive, services.schedule(), Action(action.value), user, _as_of(as_of)
        )
    _print_list(view, as_json)


@dispose_app.command("approve")
def dispose_approve(
    ctx: typer.Context,
    list_id: Annotated[int, typer.Argument(metavar="LIST_ID")],
    as_user: AsOption,
    as_json: JsonOption = False,
    home: HomeOption = None,
) -> None:
    """Approve a list (an approver, not its proposer; two are needed)."""
    with opened(ctx, home) as services:
        user = proven(services, as_user, "approve")
        view = approve(services.archive, list_id, user)
    _print_list(view, as_json)


@dispose_app.command("cancel")
def dispose_cancel(
    ctx: typer.Context,
    list_id: Annotated[int, typer.Argument(metavar="LIST_ID")],
    as_user: AsOption,
    reason: Annotated[
        str,
        typer.Option("--reason", metavar="TEXT", help="Why (a hold put since, a mistake)."),
    ],
    as_json: JsonOption = False,
    home: HomeOption = None,
) -> None:
    """Cancel a list not yet carried out (an approver): its records lose 'Xem xét hủy' and
    can be proposed again. An executed list stays as it is."""
    with opened(ctx, home) as services:
        user = proven(services, as_user, "cancel")
        view = cancel(services.archive, list_id, user, reason)
    _print_list(view, as_json)


@dispose_app.command("execute")
def dispose_execute(
    ctx: typer.Context,
    list_id: Annotated[int, typer.Argument(metavar="LIST_ID")],
    as_user: AsOption,
    as_json: JsonOption = False,
    home: HomeOption = None,
) -> None:
    """Destroy the records of an approved list: their files go, a tombstone and a log entry
    stay, and the record of destruction (biên bản hủy tài liệu) is made and sealed. Run it
    again after a crash to finish."""
    with opened(ctx, home) as services:
        user = proven(services, as_user, "execute")
        done = execute(services.archive, services.schedule(), list_id, user, _agency(services),
                       before_destroying=lambda ids: _leave_search(services, ids))  # fmt: skip
        services.catch_up_quietly()  # the record of destruction joins it
    if as_json:
        print_json(
            {
                "list_id": list_id,
                "destroyed": done.destroyed,
                "blobs_removed": done.blobs_removed,
                "report_record_id": done.report_record_id,
            }
        )
        return
    out.print(f"List {list_id}: {len(done.destroyed)} record(s) destroyed, "
              f"{done.blobs_removed} file(s) removed.")  # fmt: skip
    out.print(f"Record of destruction: {done.report_record_id}")


def _leave_search(services: Services, record_ids: list[str]) -> None:
    try:
        services.index.remove(record_ids)
    except SearchUnavailable as exc:
        raise Refused(
            f"the search index cannot let the records go ({exc}), so none was destroyed; "
            "run 'luutru dispose execute' again"
        ) from None


@dispose_app.command("show")
def dispose_show(
    ctx: typer.Context,
    list_id: Annotated[int, typer.Argument(metavar="LIST_ID")],
    as_json: JsonOption = False,
    home: HomeOption = None,
) -> None:
    """A disposal list: its records, approvals and state."""
    with opened(ctx, home) as services:
        view = get_list(services.archive, list_id)
    _print_list(view, as_json)


def _print_list(view: ListView, as_json: bool) -> None:
    if as_json:
        print_json(view.as_json())
        return
    approvals = ", ".join(a["user"] for a in view.approvals) or "none yet"
    out.print(f"List {view.id} ({view.action}, as of {view.as_of}): {view.status}; proposed by "
              f"{shown(view.proposed_by)}; approved by {shown(approvals)}")  # fmt: skip
    if view.cancelled_by:
        when = (view.cancelled_at or "")[:10]
        why = shown(view.cancel_reason or "")
        out.print(
            f"Cancelled by {shown(view.cancelled_by)} on {when}: {why}; "
            "its records may be proposed again"
        )
    for record_id in view.records:
        out.print(f"  {record_id}")


def transfer(
    ctx: typer.Context,
    list_id: Annotated[int, typer.Argument(metavar="LIST_ID")],
    output: Annotated[
        Path, typer.Option("-o", "--output", metavar="DIR", help="Where the bags go.")
    ],
    as_user: AsOption,
    as_json: JsonOption = False,
    home: HomeOption = None,
) -> None:
    """Hand an approved transfer list to the historical archive as BagIt bags (originals,
    archival copies, manifests, evidence, metadata), validated after writing."""
    with opened(ctx, home) as services:
        user = proven(services, as_user, "execute")
        bags = hand_over(
            services.archive, services.schedule(), list_id, user, output, _agency(services)
        )
    if as_json:
        print_json({"list_id": list_id, "bags": [str(b) for b in bags]})
    else:
        out.print(
            f"List {list_id}: {len(bags)} bag(s) written to {shown(str(output))} and validated."
        )


def audit(
    ctx: typer.Context,
    record: Annotated[str | None, typer.Option("--record", metavar="RECORD_ID")] = None,
    as_json: JsonOption = False,
    home: HomeOption = None,
) -> None:
    """Every recorded action (ingest checks, edits, holds, proposals, approvals, destruction,
    transfer, users), newest first (the newest 1,000)."""
    with opened(ctx, home) as services:
        query = select(Event).order_by(Event.at.desc(), Event.id.desc()).limit(AUDIT_ROWS)
        changes = (
            select(RecordChange)
            .order_by(RecordChange.changed_at.desc(), RecordChange.id.desc())
            .limit(AUDIT_ROWS)
        )
        if record:
            full = services.archive.resolve_id(record, AccessLevel.SECRET)
            query = query.where(Event.record_id == full)
            changes = changes.where(RecordChange.record_id == full)
        with services.archive.session() as session:
            found = [(e.at, _event_row(e)) for e in session.scalars(query)]
            found += [(c.changed_at, _change_row(c)) for c in session.scalars(changes)]
    found.sort(key=lambda pair: pair[0], reverse=True)
    events = [row for _, row in found[:AUDIT_ROWS]]
    if as_json:
        print_json({"events": events})
        return
    table = Table(title="Audit")
    for column in ("when", "event", "record", "by", "detail"):
        table.add_column(column, overflow="fold")
    for row in events:
        table.add_row(row["at"][:19], row["kind"], row["record_id"] or "", shown(row["agent"]),
                      shown(row["detail"]))  # fmt: skip
    out.print(table)


AUDIT_ROWS = 1000


def _event_row(event: Event) -> dict[str, Any]:
    return {"at": event.at.isoformat(), "kind": event.kind, "record_id": event.record_id,
            "outcome": event.outcome, "agent": event.agent, "detail": event.detail}  # fmt: skip


def _change_row(change: RecordChange) -> dict[str, Any]:
    """An edit ('luutru edit'), as the audit tells events: one row per field changed."""
    detail = f"{change.field}: {change.old_value or '∅'} → {change.new_value or '∅'}"
    return {"at": change.changed_at.isoformat(), "kind": "edited", "record_id": change.record_id,
            "outcome": "done", "agent": change.changed_by,
            "detail": f"{detail} ({change.reason})"}  # fmt: skip
