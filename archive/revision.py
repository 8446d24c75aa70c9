"""Changing a sealed record's description (``luutru edit``): who changed what, when and why.

A change never rewrites history: the record gets a new manifest, signed like the first, that
names the manifest it replaces (``previous_manifest_sha256``), carries the change's author,
time and reason, and becomes the record's seal; the new manifest is appended to the log (a
``revision`` entry, in the same transaction) so the current state is always provable; each
changed field is kept as a ``RecordChange`` row. Files are never changed, only what is said
about them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from archive.errors import RecordNotFound, Refused, UsageError
from archive.log import EntryKind, LogWriter
from archive.manifest import (
    SEALED_FIELDS,
    seal_statement,
    sealed_values,
    sign_manifest,
    verify_manifest,
)
from archive.models import AccessLevel, Hold, Record, RecordChange, RecordStatus
from archive.repository import Archive, storage_faults
from archive.text import normalize

# What is said about a record; what it is (language, pages, where it came from) stays.
EDITABLE_FIELDS = tuple(
    name for name in SEALED_FIELDS if name not in ("language", "page_count", "source_name")
)


@dataclass(frozen=True)
class FieldChange:
    field: str
    old: Any
    new: Any


def _as_text(value: Any) -> str | None:
    if value is None:
        return None
    return value.isoformat() if isinstance(value, date) else str(value)


def revise_record(
    archive: Archive, record_id: str, changes: dict[str, Any], reason: str, changed_by: str
) -> list[FieldChange]:
    """Apply ``changes`` (field -> new value) to the record, re-seal it, keep the history."""
    unknown = sorted(set(changes) - set(EDITABLE_FIELDS))
    if unknown:
        raise UsageError(f"cannot edit {', '.join(unknown)}")
    if not reason.strip():
        raise UsageError("say why the record is changed (--reason)")
    full_id = archive.resolve_id(record_id, AccessLevel.SECRET)
    values = {k: normalize(v) if isinstance(v, str) else v for k, v in changes.items()}
    access = values.get("access")
    if isinstance(access, AccessLevel):
        values["access"] = access.value
    with (
        storage_faults(f"editing record {full_id}"),
        archive.session() as session,
        session.begin(),
    ):
        log = LogWriter(session)
        log.lock()  # first: it serialises appends across processes
        record = session.scalar(
            select(Record).where(Record.id == full_id).options(selectinload(Record.seal))
        )
        if record is None or record.seal is None:
            raise RecordNotFound(f"no record {record_id!r}")
        # Checked again under the log's lock: a list carried out meanwhile wins.
        refuse_if_disposed(record)
        diffs = [
            FieldChange(name, getattr(record, name), new)
            for name, new in values.items()
            if getattr(record, name) != new
        ]
        if not diffs:
            raise UsageError(f"record {full_id} already has these values; nothing changed")
        if "series_code" in values and values["series_code"] != record.series_code:
            _refuse_leaving_a_held_series(session, full_id, record.series_code)
        seal = record.seal
        manifest = verify_manifest(
            archive.blobs.read_bytes(seal.manifest_sha256),
            seal.signature,
            archive.keyring().get(seal.key_id) or archive.verifier(),
        )
        for diff in diffs:
            setattr(record, diff.field, diff.new)
        now = datetime.now(UTC)
        manifest["description"] = {**manifest["description"], **sealed_values(record)}
        manifest["revision"] = int(manifest.get("revision", 0)) + 1
        manifest["previous_manifest_sha256"] = seal.manifest_sha256
        manifest["revised_at"] = now.isoformat()
        manifest["revised_by"] = normalize(changed_by)
        manifest["revision_reason"] = normalize(reason)
        signed = sign_manifest(manifest, archive.signer())
        seal.manifest_sha256 = archive.blobs.put_bytes(signed.body)
        seal.signature, seal.key_id = signed.signature, signed.key_id
        archive.blobs.put_bytes(
            seal_statement(
                seal.manifest_sha256, seal.signature, seal.key_id, seal.algorithm, seal.sealed_at
            )
        )
        log.append(EntryKind.REVISION, signed.body, seal.manifest_sha256, full_id, now)
        log.checkpoint(archive.signer(), now)
        for diff in diffs:
            session.add(
                RecordChange(
                    record_id=full_id,
                    field=diff.field,
                    old_value=_as_text(diff.old),
                    new_value=_as_text(diff.new),
                    reason=normalize(reason),
                    changed_by=normalize(changed_by),
                    changed_at=now,
                    manifest_sha256=seal.manifest_sha256,
                )
            )
    return diffs


def refuse_if_disposed(record: Record) -> None:
    """A destroyed record is a tombstone sealed as it was destroyed, and a transferred one
    was handed over as it stood: a new revision would re-seal the tombstone (and put it
    back into search), or make this archive say something else than the bag it sent."""
    if record.status not in (RecordStatus.DESTROYED.value, RecordStatus.TRANSFERRED.value):
        return
    when = f"{record.disposed_at:%Y-%m-%d %H:%M} UTC" if record.disposed_at else "(no date kept)"
    by = f" by {record.disposed_by}" if record.disposed_by else ""
    listed = (
        f"disposal list {record.disposal_list_id}"
        if record.disposal_list_id is not None
        else "a disposal list"
    )
    if record.status == RecordStatus.DESTROYED.value:
        raise Refused(
            f"record {record.id} was destroyed on {when}{by} under {listed}: a destroyed "
            f"record is not edited, its tombstone stays as sealed ('luutru show {record.id}', "
            f"'luutru dispose show {record.disposal_list_id or 'LIST_ID'}')"
        )
    raise Refused(
        f"record {record.id} was transferred to the historical archive on {when}{by} under "
        f"{listed}: it stays here as it was handed over and is not edited; a correction is "
        "for the archive that holds it now"
    )


def check_editable(archive: Archive, record_id: str) -> str:
    """The record's full id, once it is known to be editable (refused as
    ``refuse_if_disposed`` says): for a caller that must act before the edit, such as the
    search index letting a record go before its access level changes."""
    full_id = archive.resolve_id(record_id, AccessLevel.SECRET)
    with archive.faults(), archive.session() as session:
        record = session.get(Record, full_id)
        if record is None:
            raise RecordNotFound(f"no record {record_id!r}")
        refuse_if_disposed(record)
    return full_id


def history(archive: Archive, record_id: str) -> list[dict[str, Any]]:
    with archive.faults(), archive.session() as session:
        rows = session.scalars(
            select(RecordChange)
            .where(RecordChange.record_id == record_id)
            .order_by(RecordChange.id)
        )
        return [
            {
                "field": row.field,
                "old": row.old_value,
                "new": row.new_value,
                "reason": row.reason,
                "changed_by": row.changed_by,
                "changed_at": row.changed_at.isoformat(),
            }
            for row in rows
        ]


def _refuse_leaving_a_held_series(session: Session, record_id: str, series: str | None) -> None:
    """A series hold covers the records filed in the series: moved out of it, a record would
    escape the hold and could be disposed of."""
    held = session.scalar(
        select(Hold.id).where(
            Hold.released_at.is_(None), Hold.kind == "series", Hold.target == series
        )
    )
    if held is not None:
        raise Refused(
            f"record {record_id} is in series {series}, which hold {held} holds: its series "
            "cannot change until the hold is released"
        )
