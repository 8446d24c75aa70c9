"""Disposition that nobody can carry out alone (Circular 06/2025/TT-BNV), provable afterwards.

The procedure, as luutru runs it:
1. ``propose`` (an archivist): the records due for destruction (or transfer) on a date, minus
   every record under a legal hold, become a list; records to destroy are marked "Xem xét
   hủy" (being considered for destruction).
2. ``approve``: two different users with the approver role, neither the proposer, approve the
   list (the council's review and the head's decision).
3. ``execute`` (an archivist): refused until then, and refused again if a record has been held,
   or is permanent or not yet due, since. Each record is destroyed in a transaction of its own
   that marks it destroyed and appends a disposition entry to the log; its files' blobs are
   removed after that commit (those no living record shares), its manifest and seal are kept
   so earlier proofs still verify. A crash at any point leaves each record either untouched or
   destroyed: running ``execute`` again finishes the list. Last, the record of destruction
   (biên bản hủy tài liệu, a PDF/A) is generated and sealed as a record of its own.
4. ``cancel`` (an approver, with a reason): a list not yet carried out is dropped, e.g. one
   a hold put since blocks; its records go back to active and can be proposed again.
Every step is an event (``luutru audit``). The log (``archive.log``) gets an entry for each
record destroyed or transferred; proposing, approving and cancelling are events only, since
they change nothing a seal says and can be undone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from archive.errors import Refused, UsageError
from archive.log import DISPOSITION_FORMAT, EntryKind, LogWriter
from archive.manifest import canonical_json
from archive.models import (
    AccessLevel,
    Approval,
    DisposalItem,
    DisposalList,
    Event,
    FileRole,
    Record,
    RecordFile,
    RecordStatus,
    User,
)
from archive.repository import Archive, Description, IncomingFile, Placement, storage_faults
from archive.text import normalize
from retention.due import closed_year_of, due_records
from retention.holds import held_ids
from retention.schedule import Action, SeriesRule
from retention.vntime import today

if TYPE_CHECKING:
    from retention.destruction_record import DestroyedRecord

REQUIRED_APPROVALS = 2
DESTRUCTION_SERIES = "BB-HUY"


class ListStatus:
    PROPOSED = "proposed"
    APPROVED = "approved"
    EXECUTING = "executing"
    EXECUTED = "executed"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class ListView:
    id: int
    action: str
    status: str
    as_of: str
    proposed_by: str
    approvals: list[dict[str, str]]
    records: list[str]
    executed_by: str | None = None
    report_record_id: str | None = None
    cancelled_by: str | None = None
    cancelled_at: str | None = None
    cancel_reason: str | None = None

    @classmethod
    def of(cls, row: DisposalList) -> ListView:
        return cls(
            row.id,
            row.action,
            row.status,
            row.as_of.isoformat(),
            row.proposed_by,
            [{"user": a.user_name, "at": a.approved_at.isoformat()} for a in row.approvals],
            [item.record_id for item in row.items],
            row.executed_by,
            row.report_record_id,
            row.cancelled_by,
            row.cancelled_at.isoformat() if row.cancelled_at else None,
            row.cancel_reason,
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "list_id": self.id,
            "action": self.action,
            "status": self.status,
            "as_of": self.as_of,
            "proposed_by": self.proposed_by,
            "approvals": self.approvals,
            "records": self.records,
            "executed_by": self.executed_by,
            "report_record_id": self.report_record_id,
            "cancelled_by": self.cancelled_by,
            "cancelled_at": self.cancelled_at,
            "cancel_reason": self.cancel_reason,
        }


@dataclass
class Execution:
    list_id: int
    destroyed: list[str] = field(default_factory=list)
    blobs_removed: int = 0
    report_record_id: str | None = None


def _event(at: datetime, kind: str, by: str, detail: str, record_id: str | None = None) -> Event:
    return Event(at=at, kind=kind, record_id=record_id, outcome="pass", agent=by, detail=detail)


def propose(
    archive: Archive, schedule: dict[str, SeriesRule], action: Action, user: User, as_of: date
) -> ListView:
    """List what is due for ``action`` on ``as_of`` and not held; mark it for review."""
    if action is Action.REVIEW:
        raise UsageError("'review' is decided by the archivist record by record, not proposed")
    now_there = today()
    if as_of > now_there:
        # A list drawn up for a later date would mark records "Xem xét hủy" that are not
        # due, gather approvals, and then be refused by execute (due today or not at all).
        raise UsageError(
            f"--as-of {as_of} is after today ({now_there}): a list proposes only what is due "
            f"now; to see what falls due by then, run 'luutru retention due --as-of {as_of}'"
        )
    due = [
        d
        for d in due_records(archive, schedule, as_of, (RecordStatus.ACTIVE.value,))
        if d.action is action and not d.held
    ]
    if not due:
        raise Refused(f"no record is due for {action.value} on {as_of} (held ones excepted)")
    now = datetime.now(UTC)
    with storage_faults("proposing a disposal list"), archive.session() as session, session.begin():
        # A record proposed for transfer stays active until it is handed over: without this,
        # a second list could name it again while the first is open.
        listed = _on_open_lists(session)
        due = [d for d in due if d.record_id not in listed]
        if not due:
            raise Refused(
                f"every record due for {action.value} on {as_of} is on an open disposal list "
                "already ('luutru dispose show LIST'; cancel a list to propose its records anew)"
            )
        row = DisposalList(
            action=action.value,
            status=ListStatus.PROPOSED,
            as_of=as_of,
            proposed_by=user.name,
            proposed_at=now,
            items=[DisposalItem(record_id=d.record_id, done=False) for d in due],
        )
        session.add(row)
        session.flush()
        if action is Action.DESTROY:
            for record in session.scalars(
                select(Record).where(Record.id.in_([d.record_id for d in due]))
            ):
                record.status = RecordStatus.REVIEW_DESTROY.value
        session.add(
            _event(
                now,
                f"proposed for {action.value}",
                user.name,
                f"list {row.id}, {len(due)} record(s)",
            )
        )
        marked = "Xem xét hủy" if action is Action.DESTROY else "proposed for transfer"
        for d in due:
            detail = f"list {row.id}, due {d.due_date}"
            session.add(_event(now, marked, user.name, detail, d.record_id))
        return ListView.of(load_list(session, row.id))


def _on_open_lists(session: Session) -> set[str]:
    """Records not yet carried out on a list neither executed nor cancelled."""
    open_states = (ListStatus.PROPOSED, ListStatus.APPROVED, ListStatus.EXECUTING)
    return set(
        session.scalars(
            select(DisposalItem.record_id)
            .join(DisposalList, DisposalList.id == DisposalItem.list_id)
            .where(DisposalList.status.in_(open_states), DisposalItem.done.is_(False))
        )
    )


def load_list(session: Session, list_id: int) -> DisposalList:
    row = session.scalar(
        select(DisposalList)
        .where(DisposalList.id == list_id)
        .options(selectinload(DisposalList.items), selectinload(DisposalList.approvals))
    )
    if row is None:
        raise UsageError(f"no disposal list {list_id}")
    return row


def get_list(archive: Archive, list_id: int) -> ListView:
    with archive.faults(), archive.session() as session:
        return ListView.of(load_list(session, list_id))


def _cancelled(row: DisposalList) -> str:
    """' on 2026-12-05 by NAME (REASON)', as far as the list keeps it."""
    when = f" on {row.cancelled_at:%Y-%m-%d}" if row.cancelled_at else ""
    by = f" by {row.cancelled_by}" if row.cancelled_by else ""
    why = f" ({row.cancel_reason})" if row.cancel_reason else ""
    return f"{when}{by}{why}"


def cancel(archive: Archive, list_id: int, user: User, reason: str) -> ListView:
    """Cancel a list not yet carried out (``user``, an approver, authenticated by the
    caller): its records marked "Xem xét hủy" go back to active, free to be proposed again.
    A list once executed, or partly carried out, stays: what was destroyed or handed over
    cannot be undone, and a rerun of execute finishes it."""
    if not reason.strip():
        raise UsageError(f"say why list {list_id} is cancelled (--reason)")
    why = normalize(reason)
    now = datetime.now(UTC)
    with (
        storage_faults(f"cancelling list {list_id}"),
        archive.session() as session,
        session.begin(),
    ):
        row = load_list(session, list_id)
        if row.status == ListStatus.CANCELLED:
            raise Refused(f"list {list_id} was already cancelled{_cancelled(row)}")
        done = sum(1 for item in row.items if item.done)
        if row.status == ListStatus.EXECUTED:
            report = row.report_record_id
            report = f"; its record of destruction is {report}" if report else ""
            raise Refused(
                f"list {list_id} was carried out ({row.action}) by {row.executed_by}{report}: "
                "an executed list cannot be cancelled"
            )
        if done:
            again = "dispose execute" if row.action == Action.DESTROY.value else "transfer"
            raise Refused(
                f"list {list_id} is being carried out ({done} of {len(row.items)} record(s) "
                f"done) and cannot be cancelled: finish it with 'luutru {again} {list_id}' "
                "(once any hold on its records is released)"
            )
        row.status = ListStatus.CANCELLED
        row.cancelled_by, row.cancelled_at, row.cancel_reason = user.name, now, why
        ids = [item.record_id for item in row.items]
        released = list(
            session.scalars(
                select(Record).where(
                    Record.id.in_(ids), Record.status == RecordStatus.REVIEW_DESTROY.value
                )
            )
        )
        for record in released:
            record.status = RecordStatus.ACTIVE.value
        session.add(
            _event(now, "cancelled", user.name, f"list {list_id} ({row.action}) cancelled: {why}")
        )
        for record_id in ids:
            detail = f"list {list_id} cancelled: {why}; the record may be proposed again"
            session.add(_event(now, "removed from list", user.name, detail, record_id))
        return ListView.of(row)


def approve(archive: Archive, list_id: int, user: User) -> ListView:
    """An approval by ``user`` (an approver, authenticated by the caller)."""
    now = datetime.now(UTC)
    with storage_faults(f"approving list {list_id}"), archive.session() as session, session.begin():
        row = load_list(session, list_id)
        if row.status not in (ListStatus.PROPOSED, ListStatus.APPROVED):
            raise Refused(f"list {list_id} is {row.status}; it can no longer be approved")
        if user.name == row.proposed_by:
            raise Refused(f"{user.name} proposed list {list_id} and cannot also approve it")
        if any(a.user_name == user.name for a in row.approvals):
            raise Refused(f"{user.name} has already approved list {list_id}")
        row.approvals.append(Approval(user_name=user.name, approved_at=now))
        if len({a.user_name for a in row.approvals}) >= REQUIRED_APPROVALS:
            row.status = ListStatus.APPROVED
        session.add(
            _event(
                now,
                "approved",
                user.name,
                f"list {list_id} ({len(row.approvals)} of {REQUIRED_APPROVALS})",
            )
        )
        return ListView.of(row)


def check_approved(row: DisposalList) -> list[str]:
    if row.status == ListStatus.CANCELLED:
        raise Refused(
            f"list {row.id} was cancelled{_cancelled(row)}: nothing was done; its records "
            "can be proposed again ('luutru dispose propose')"
        )
    approvers = {a.user_name for a in row.approvals} - {row.proposed_by}
    if row.status not in (ListStatus.APPROVED, ListStatus.EXECUTING, ListStatus.EXECUTED):
        raise Refused(
            f"list {row.id} has {len(approvers)} of the {REQUIRED_APPROVALS} approvals it needs "
            "(two approvers, neither the proposer): nothing was done"
        )
    if len(approvers) < REQUIRED_APPROVALS:
        raise Refused(f"list {row.id} lacks its {REQUIRED_APPROVALS} distinct approvals")
    return sorted(approvers)


def refuse_if_held(session: Session, list_id: int, record_id: str) -> None:
    """Checked again for each record, in the transaction that disposes of it: a hold put
    while a long list is carried out stops it there."""
    if held_ids(session, [record_id]):
        raise Refused(
            f"record {record_id} was put under a legal hold while list {list_id} was carried "
            "out: it and the records after it were left as they are"
        )


def check_still_due(
    session: Session, row: DisposalList, schedule: dict[str, SeriesRule], today: date
) -> None:
    """Refuse the whole list if, since it was approved, a record was held, or its series'
    rule no longer makes it due (permanent, not yet due, another action)."""
    pending = [item.record_id for item in row.items if not item.done]
    held = held_ids(session, pending)
    if held:
        raise Refused(
            f"list {row.id}: record(s) {', '.join(sorted(held))} are under a legal hold; "
            "nothing was done"
        )
    for record in session.scalars(select(Record).where(Record.id.in_(pending))):
        rule = schedule.get(record.series_code or "")
        if rule is None or (rule.period.permanent and row.action == Action.DESTROY.value):
            raise Refused(
                f"record {record.id} is permanent (series {record.series_code}); nothing was done"
            )
        when = rule.due_date(closed_year_of(record))
        if rule.action.value != row.action or when is None or when > today:
            raise Refused(
                f"record {record.id} is not due for {row.action} on {today}; nothing was done"
            )


@dataclass(frozen=True)
class Agency:
    """Who the records of destruction are made by (``agency`` and ``place`` in luutru.toml)."""

    name: str = "CƠ QUAN LƯU TRỮ"
    place: str = ""


def execute(
    archive: Archive,
    schedule: dict[str, SeriesRule],
    list_id: int,
    user: User,
    agency: Agency,
    before_destroying: Callable[[list[str]], None] | None = None,
) -> Execution:
    """Carry out an approved destruction list (see the module's rules); safe to run again.
    ``before_destroying`` is given the records about to be destroyed, once the list is found
    approved and still due (the search index lets them go first: were the run to fail
    after, they are missing from search, never shown with their destroyed text)."""
    now_there = today()
    with storage_faults(f"executing list {list_id}"), archive.session() as session, session.begin():
        row = load_list(session, list_id)
        if row.action != Action.DESTROY.value:
            raise UsageError(f"list {list_id} is a transfer list: 'luutru transfer {list_id}'")
        approvers = check_approved(row)
        if row.status != ListStatus.EXECUTED:
            # Due today, whatever date the list was drawn up for: a list 'as of' a future
            # date must not destroy what is not due yet.
            check_still_due(session, row, schedule, now_there)
            row.status, row.executed_by = ListStatus.EXECUTING, user.name
            row.executed_at = row.executed_at or datetime.now(UTC)
        pending = [item.record_id for item in row.items if not item.done]
        everything = [item.record_id for item in row.items]
    done = Execution(list_id)
    if pending and before_destroying is not None:
        before_destroying(pending)
    for record_id in pending:
        _destroy_one(archive, list_id, record_id, user.name, approvers)
        done.destroyed.append(record_id)
    done.blobs_removed = _remove_blobs(archive, everything)
    done.report_record_id = _record_of_destruction(archive, list_id, agency, schedule)
    return done


def _destroy_one(
    archive: Archive, list_id: int, record_id: str, by: str, approvers: list[str]
) -> None:
    now = datetime.now(UTC)
    with (
        storage_faults(f"destroying record {record_id}"),
        archive.session() as session,
        session.begin(),
    ):
        writer = LogWriter(session)
        writer.lock()
        record = session.scalar(
            select(Record)
            .where(Record.id == record_id)
            .options(selectinload(Record.files), selectinload(Record.seal))
        )
        item = session.get(DisposalItem, (list_id, record_id))
        if record is None or item is None or item.done:
            return
        refuse_if_held(session, list_id, record_id)
        statement = canonical_json(
            {
                "format": DISPOSITION_FORMAT,
                "action": "destroy",
                "record_id": record_id,
                "list_id": list_id,
                "manifest_sha256": record.seal.manifest_sha256 if record.seal else None,
                "files": [
                    {"role": f.role, "sha256": f.sha256, "size": f.size} for f in record.files
                ],
                "series_code": record.series_code,
                "approved_by": approvers,
                "executed_by": by,
                "executed_at": now.isoformat(),
            }
        )
        writer.append(
            EntryKind.DISPOSITION, statement, archive.blobs.put_bytes(statement), record_id, now
        )
        writer.checkpoint(archive.signer(), now)
        record.status = RecordStatus.DESTROYED.value
        record.disposed_at, record.disposed_by, record.disposal_list_id = now, by, list_id
        item.done = True
        session.add(
            _event(
                now,
                "destroyed",
                by,
                f"list {list_id}, approved by {', '.join(approvers)}",
                record_id,
            )
        )


def _remove_blobs(archive: Archive, record_ids: list[str]) -> int:
    """Remove the files of destroyed records that no other living record shares (their
    manifests and seal statements stay: the proofs made before must still verify)."""
    with archive.faults(), archive.session() as session:
        destroyed = select(Record.id).where(Record.status == RecordStatus.DESTROYED.value)
        theirs = set(
            session.scalars(
                select(RecordFile.sha256).where(
                    RecordFile.record_id.in_(record_ids), RecordFile.record_id.in_(destroyed)
                )
            )
        )
        shared = set(
            session.scalars(
                select(RecordFile.sha256).where(
                    RecordFile.sha256.in_(theirs), RecordFile.record_id.not_in(destroyed)
                )
            )
        )
    removed = 0
    for sha256 in sorted(theirs - shared):
        if archive.blobs.exists(sha256):
            archive.blobs.discard(sha256)
            removed += 1
    return removed


def _record_of_destruction(
    archive: Archive, list_id: int, agency: Agency, schedule: dict[str, SeriesRule]
) -> str:
    """Generate the biên bản hủy tài liệu and seal it as a record (its PDF is deterministic,
    so a rerun finds the one already sealed); mark the list executed."""
    with archive.faults(), archive.session() as session:
        row = load_list(session, list_id)
        records = list(
            session.scalars(
                select(Record)
                .where(Record.id.in_([i.record_id for i in row.items]))
                .options(selectinload(Record.files))
            )
        )
    # Imported here: reportlab, which draws the biên bản, is 70 ms of every command's start-up.
    from retention import destruction_record

    data = destruction_record.DestructionRecordData(
        list_id=str(list_id),
        agency=agency.name,
        place=agency.place,
        proposed_by=row.proposed_by,
        proposed_at=row.proposed_at,
        approvals=tuple(
            destruction_record.Approval(a.user_name, "approver", a.approved_at)
            for a in row.approvals
        ),
        executed_by=row.executed_by or "",
        executed_at=row.executed_at or datetime.now(UTC),
        decision=f"Danh mục hủy số {list_id}, phê duyệt bởi "
        + ", ".join(a.user_name for a in row.approvals),
        records=tuple(_destroyed_of(r, schedule) for r in records),
    )
    pdf = destruction_record.render_destruction_record(data)
    issued = destruction_record.local_date(data.executed_at)
    sealed = archive.seal(
        [
            IncomingFile(
                FileRole.ORIGINAL, "application/pdf", f"bien-ban-huy-{list_id}.pdf", data=pdf
            )
        ],
        Description(
            title=f"Biên bản hủy tài liệu hết giá trị, danh mục số {list_id}",
            type_name="BIÊN BẢN",
            doc_type="BB",
            issuer=agency.name,
            # The date the biên bản itself gives (Vietnam time), not the UTC one.
            issued_date=issued,
            place=agency.place,
            subject=f"Về việc hủy {len(records)} tài liệu hết giá trị (danh mục số {list_id})",
            page_count=destruction_record.page_count(pdf),
        ),
        Placement(AccessLevel.INTERNAL, DESTRUCTION_SERIES, issued.year),
        f"bien-ban-huy-{list_id}.pdf",
    )
    with storage_faults(f"closing list {list_id}"), archive.session() as session, session.begin():
        closing = load_list(session, list_id)
        if closing.status != ListStatus.EXECUTED:
            closing.status, closing.report_record_id = ListStatus.EXECUTED, sealed.record_id
            detail = f"list {list_id}: record of destruction {sealed.record_id}"
            session.add(_event(datetime.now(UTC), "executed", closing.executed_by or "", detail))
    return sealed.record_id


def _destroyed_of(record: Record, schedule: dict[str, SeriesRule]) -> DestroyedRecord:
    from retention.destruction_record import DestroyedRecord

    rule = schedule.get(record.series_code or "")
    return DestroyedRecord(
        record_id=record.id,
        number=record.doc_number,
        type_name=record.type_name,
        issued_date=record.issued_date,
        subject=record.subject or record.title,
        series_code=record.series_code or "",
        series_title=rule.title if rule else "",
        retention=str(rule.period) if rule else "",
        closed_year=record.closed_year,
        files=tuple((f.role, f.sha256, f.size) for f in record.files),
    )
