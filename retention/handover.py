"""Transfer to the historical archive (nộp lưu vào Lưu trữ lịch sử): an approved transfer list
written out as BagIt bags (``retention.transfer``), one per record, with its originals,
archival copies, signed manifest, evidence bundle and metadata, each bag validated after
writing; then each record is marked transferred, with a log entry.

The same rules as destruction (``retention.disposition``): two approvals by approvers, not the
proposer; a record held since is refused; a rerun after a crash writes the bags still missing
(complete ones are kept) and marks what was not yet marked. A transferred record stays in this
archive: what the historical archive received is provable from both sides.
"""

from __future__ import annotations

import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from archive.errors import UsageError
from archive.evidence import write_evidence
from archive.log import TRANSFER_FORMAT, EntryKind, LogWriter
from archive.manifest import canonical_json
from archive.models import AccessLevel, DisposalItem, Event, Record, RecordStatus, User
from archive.repository import Archive, storage_faults
from retention.disposition import (
    Agency,
    ListStatus,
    check_approved,
    check_still_due,
    load_list,
    refuse_if_held,
)
from retention.schedule import Action, SeriesRule
from retention.transfer import TransferFile, TransferItem, write_bags
from retention.vntime import today


def transfer(
    archive: Archive,
    schedule: dict[str, SeriesRule],
    list_id: int,
    user: User,
    target: Path,
    agency: Agency,
) -> list[Path]:
    now_there = today()
    with (
        storage_faults(f"transferring list {list_id}"),
        archive.session() as session,
        session.begin(),
    ):
        row = load_list(session, list_id)
        if row.action != Action.TRANSFER.value:
            raise UsageError(f"list {list_id} is a destruction list: 'luutru dispose execute'")
        approvers = check_approved(row)
        if row.status != ListStatus.EXECUTED:
            check_still_due(session, row, schedule, now_there)  # due today (see disposition)
            row.status, row.executed_by = ListStatus.EXECUTING, user.name
            row.executed_at = row.executed_at or datetime.now(UTC)
        record_ids = [item.record_id for item in row.items]
    work = Path(tempfile.mkdtemp(prefix=".transfer-", dir=archive.home.root))
    try:
        items = [_item(archive, record_id, work) for record_id in record_ids]
        bags = write_bags(target, str(list_id), items, agency.name)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    for record_id, bag in zip(record_ids, bags, strict=True):
        _mark_transferred(archive, list_id, record_id, user.name, approvers, bag)
    with storage_faults(f"closing list {list_id}"), archive.session() as session, session.begin():
        closing = load_list(session, list_id)
        if closing.status != ListStatus.EXECUTED:
            closing.status = ListStatus.EXECUTED
            session.add(
                Event(
                    at=datetime.now(UTC),
                    kind="transferred",
                    agent=user.name,
                    outcome="pass",
                    detail=f"list {list_id}: {len(bags)} bag(s) in {target}",
                )
            )
    return bags


def _item(archive: Archive, record_id: str, work: Path) -> TransferItem:
    record = archive.get(record_id, AccessLevel.SECRET)
    seal = record.seal
    if seal is None:
        raise UsageError(f"record {record_id} has no seal")
    evidence = work / f"{record_id}.zip"
    write_evidence(archive, record_id, evidence)
    files = tuple(
        TransferFile(
            f.role, f.name or f.sha256, f.media_type, f.sha256, _copy_out(archive, f.sha256, work)
        )
        for f in record.files
    )
    metadata: dict[str, object] = {
        "record_id": record.id,
        "title": record.title,
        "number": record.doc_number,
        "doc_type": record.doc_type,
        "type_name": record.type_name,
        "issuer": record.issuer,
        "date": record.issued_date.isoformat() if record.issued_date else None,
        "place": record.place,
        "subject": record.subject,
        "series_code": record.series_code,
        "closed_year": record.closed_year,
        "access": record.access,
        "ingested_at": record.ingested_at.isoformat(),
    }
    return TransferItem(
        record_id,
        metadata,
        files,
        archive.blobs.read_bytes(seal.manifest_sha256),
        seal.signature,
        evidence,
    )


def _copy_out(archive: Archive, sha256: str, work: Path) -> Path:
    """The blob as a file the bag writer can read (it checks the sha256 again as it copies)."""
    target = work / "blobs" / sha256
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        with archive.blobs.open(sha256) as source, target.open("wb") as out:
            shutil.copyfileobj(source, out, 1 << 20)
    return target


def _mark_transferred(
    archive: Archive, list_id: int, record_id: str, by: str, approvers: list[str], bag: Path
) -> None:
    now = datetime.now(UTC)
    with (
        storage_faults(f"marking {record_id} transferred"),
        archive.session() as session,
        session.begin(),
    ):
        writer = LogWriter(session)
        writer.lock()
        item = session.get(DisposalItem, (list_id, record_id))
        record = session.scalar(
            select(Record).where(Record.id == record_id).options(selectinload(Record.seal))
        )
        if item is None or record is None or item.done:
            return
        refuse_if_held(session, list_id, record_id)
        statement = canonical_json(
            {
                "format": TRANSFER_FORMAT,
                "record_id": record_id,
                "list_id": list_id,
                "manifest_sha256": record.seal.manifest_sha256 if record.seal else None,
                "bag": bag.name,
                "approved_by": approvers,
                "executed_by": by,
                "executed_at": now.isoformat(),
            }
        )
        sha256 = archive.blobs.put_bytes(statement)
        writer.append(EntryKind.TRANSFER, statement, sha256, record_id, now)
        writer.checkpoint(archive.signer(), now)
        record.status = RecordStatus.TRANSFERRED.value
        record.disposed_at, record.disposed_by, record.disposal_list_id = now, by, list_id
        item.done = True
        session.add(
            Event(at=now, kind="transferred", record_id=record_id, outcome="pass", agent=by,
                  detail=f"list {list_id}, bag {bag}")
        )  # fmt: skip
