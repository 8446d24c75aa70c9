"""Legal holds: while one is active, none of its records may be disposed of, whatever else
is said (a due date, a proposal, two approvals).

A hold names one record, a whole series (every record of it, present and future), or the
records a search matched when the hold was made (the caller searches; the ids are kept, so
the hold does not shrink when the index changes). Releasing a hold is itself recorded; holds
are never deleted.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from archive.errors import UsageError
from archive.models import AccessLevel, Event, Hold, HoldRecord, Record
from archive.repository import Archive, storage_faults
from archive.text import normalize


class HoldKind(StrEnum):
    RECORD = "record"
    SERIES = "series"
    QUERY = "query"


@dataclass(frozen=True)
class HoldView:
    id: int
    kind: str
    target: str
    reason: str
    created_by: str
    created_at: str
    released_at: str | None
    records: int
    released_by: str | None = None
    release_reason: str | None = None

    @classmethod
    def of(cls, hold: Hold) -> HoldView:
        return cls(
            hold.id,
            hold.kind,
            hold.target,
            hold.reason,
            hold.created_by,
            hold.created_at.isoformat(),
            hold.released_at.isoformat() if hold.released_at else None,
            len(hold.records),
            hold.released_by,
            hold.release_reason,
        )


def add_hold(
    archive: Archive,
    kind: HoldKind,
    target: str,
    reason: str,
    by: str,
    record_ids: Iterable[str] = (),
) -> HoldView:
    """Put a hold. ``record_ids``: the records a record hold (one) or query hold names."""
    if not reason.strip():
        raise UsageError("say why the records are held (--reason)")
    ids = sorted(set(record_ids))
    if kind is HoldKind.RECORD:
        ids = [archive.resolve_id(target, AccessLevel.SECRET)]
        target = ids[0]
    if kind is HoldKind.QUERY and not ids:
        raise UsageError(f"the query {target!r} matches no record; nothing to hold")
    now = datetime.now(UTC)
    hold = Hold(
        kind=kind.value,
        target=normalize(target),
        reason=normalize(reason),
        created_by=normalize(by),
        created_at=now,
        records=[HoldRecord(record_id=record_id) for record_id in ids],
    )
    with storage_faults("putting a hold"), archive.session() as session, session.begin():
        session.add(hold)
        session.flush()
        session.add(_event(now, "hold", by, f"hold {hold.id} on {kind.value} {target}: {reason}"))
        for record_id in ids:
            session.add(_event(now, "hold", by, f"held by hold {hold.id}: {reason}", record_id))
        return HoldView.of(hold)


def release_hold(archive: Archive, hold_id: int, by: str, reason: str) -> HoldView:
    """Release a hold: ``by`` (proven by the caller) and ``reason`` are kept in the hold and
    in the audit, as for putting it; a hold lifted without a why would end a case's
    protection with nothing to show for it."""
    if not reason.strip():
        raise UsageError(f"say why hold {hold_id} is released (--reason), e.g. the case closed")
    now = datetime.now(UTC)
    with storage_faults("releasing a hold"), archive.session() as session, session.begin():
        hold = session.get(Hold, hold_id, options=[selectinload(Hold.records)])
        if hold is None:
            raise UsageError(f"no hold {hold_id}; 'luutru hold list' shows them")
        if hold.released_at is not None:
            raise UsageError(
                f"hold {hold_id} was released on {hold.released_at:%Y-%m-%d} by "
                f"{hold.released_by}; nothing to do"
            )
        hold.released_at, hold.released_by = now, normalize(by)
        hold.release_reason = normalize(reason)
        detail = f"hold {hold_id} on {hold.kind} {hold.target} released: {hold.release_reason}"
        session.add(_event(now, "hold released", by, detail))
        for item in hold.records:
            session.add(
                _event(
                    now,
                    "hold released",
                    by,
                    f"hold {hold_id} released: {hold.release_reason}",
                    item.record_id,
                )
            )
        return HoldView.of(hold)


def holds(
    archive: Archive, active_only: bool = False, clearance: AccessLevel = AccessLevel.SECRET
) -> list[HoldView]:
    """The holds, as a reader of ``clearance`` may know them: a hold on records they may not
    see is not there for them (its target and reason would tell of the records), and a hold
    counts only the records they may see. A series hold names no record: always shown."""
    query = select(Hold).options(selectinload(Hold.records)).order_by(Hold.id)
    if active_only:
        query = query.where(Hold.released_at.is_(None))
    with archive.faults(), archive.session() as session:
        found = [(HoldView.of(h), [r.record_id for r in h.records]) for h in session.scalars(query)]
    if clearance is AccessLevel.SECRET:
        return [view for view, _ in found]
    visible = archive.visible(sorted({i for _, ids in found for i in ids}), clearance)
    shown = []
    for view, ids in found:
        seen = sum(1 for record_id in ids if record_id in visible)
        if seen or view.kind == HoldKind.SERIES.value:
            shown.append(replace(view, records=seen))
    return shown


def held_ids(session: Session, record_ids: Iterable[str] | None = None) -> set[str]:
    """Which records (of ``record_ids``, or of all) an active hold covers."""
    active = select(Hold.id).where(Hold.released_at.is_(None))
    series = select(Hold.target).where(Hold.released_at.is_(None), Hold.kind == "series")
    query = select(Record.id).where(
        or_(
            Record.id.in_(select(HoldRecord.record_id).where(HoldRecord.hold_id.in_(active))),
            Record.series_code.in_(series),
        )
    )
    if record_ids is not None:
        wanted = list(record_ids)
        found: set[str] = set()
        for start in range(0, len(wanted), 500):
            found |= set(session.scalars(query.where(Record.id.in_(wanted[start : start + 500]))))
        return found
    return set(session.scalars(query))


def _event(at: datetime, kind: str, by: str, detail: str, record_id: str | None = None) -> Event:
    return Event(at=at, kind=kind, record_id=record_id, outcome="pass", agent=by, detail=detail)
