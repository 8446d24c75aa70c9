"""What the blob store holds beyond the database: left-overs of killed runs, and records the
database lost (restored from an older backup, emptied by a failed copy).

A signed manifest in the blob store is evidence of a record. Rules:
- a blob is *referenced* when a record needs it (its files, its manifest and the manifests and
  seal statements of its history) or the log names it (every entry's bytes);
- an unreferenced manifest names a *lost record* when the database has no record of that id:
  it is damage to report, never an orphan to clean up; it and every file it names are kept;
- only the rest (what runs killed before their commit left) may be removed, and only once it is
  a day old (a younger one may belong to an ingest still running);
- a lost record whose seal statement (manifest hash, signature, key) is in the store too, and
  whose signature verifies under one of the archive's keys, is restored exactly as sealed
  (``restore_lost``): its row, files and seal; its manifests re-enter the log; each field a
  later revision changed is derived again from consecutive manifests. Nothing is guessed: a
  lost record without a verifiable statement is only reported.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select

from archive.errors import IntegrityError, StorageError
from archive.log import EntryKind, LogWriter
from archive.manifest import (
    SEALED_FIELDS,
    parse_seal_statement,
    seal_statement,
    verify_manifest,
)
from archive.models import Event, FileRole, LogEntry, Record, RecordChange, RecordFile, Seal
from archive.repository import Archive, operator_name, storage_faults

# Manifests and seal statements are small; a larger blob is a file, not worth parsing.
STATEMENT_MAX_BYTES = 1 << 20


@dataclass
class LostRecord:
    record_id: str
    manifests: list[str]  # oldest first
    newest: dict[str, Any]
    statement: dict[str, Any] | None  # the newest manifest's seal statement, if kept

    @property
    def restorable(self) -> bool:
        return self.statement is not None


@dataclass
class BlobCensus:
    referenced: set[str] = field(default_factory=set)
    # Removable: unreferenced, not needed by a lost record, older than the grace period.
    orphans: list[str] = field(default_factory=list)
    lost: dict[str, LostRecord] = field(default_factory=dict)
    # Records of the database with a signed revision in the store newer than the one the
    # database holds: an edit that did not commit, or a database restored from before it.
    # Its manifests are kept (they may be the only proof of the edit).
    ahead: dict[str, list[str]] = field(default_factory=dict)

    def protected(self) -> set[str]:
        kept: set[str] = {sha256 for shas in self.ahead.values() for sha256 in shas}
        for lost in self.lost.values():
            kept.update(lost.manifests)
            kept.update(f["sha256"] for f in lost.newest.get("files", []) if isinstance(f, dict))
        return kept


def _seal_statement_of(seal: Seal) -> bytes:
    return seal_statement(
        seal.manifest_sha256, seal.signature, seal.key_id, seal.algorithm, seal.sealed_at
    )


def referenced_blobs(archive: Archive) -> set[str]:
    """Every blob the database or the log needs."""
    with archive.faults(), archive.session() as session:
        referenced = set(session.scalars(select(RecordFile.sha256)))
        manifests = set(session.scalars(select(Seal.manifest_sha256)))
        manifests |= set(session.scalars(select(RecordChange.manifest_sha256)))
        referenced |= set(session.scalars(select(LogEntry.entry_sha256)))
        referenced |= {
            hashlib.sha256(_seal_statement_of(seal)).hexdigest()
            for seal in session.scalars(select(Seal))
        }
    pending = list(manifests)
    while pending:
        previous = _previous_of(archive, pending.pop())
        if previous is not None and previous not in manifests:
            manifests.add(previous)
            pending.append(previous)
    return referenced | manifests


def _previous_of(archive: Archive, manifest_sha256: str) -> str | None:
    try:
        previous = json.loads(archive.blobs.read_bytes(manifest_sha256)).get(
            "previous_manifest_sha256"
        )
    except (IntegrityError, ValueError, AttributeError):
        return None  # damage is the verifier's to report
    return previous if isinstance(previous, str) else None


def _small_json(archive: Archive, sha256: str) -> dict[str, Any] | None:
    try:
        with archive.blobs.open(sha256) as handle:
            head = handle.read(STATEMENT_MAX_BYTES + 1)
    except IntegrityError:
        return None
    if len(head) > STATEMENT_MAX_BYTES or not head.startswith(b"{"):
        return None
    try:
        value = json.loads(head)
    except (UnicodeDecodeError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def census(archive: Archive, older_than: float = 0.0) -> BlobCensus:
    """Sort the blob store into referenced, lost records, and removable orphans."""
    found = BlobCensus(referenced=referenced_blobs(archive))
    known = set(archive.record_ids())
    manifests: dict[str, dict[str, Any]] = {}
    statements: dict[str, dict[str, Any]] = {}
    statement_blobs: set[str] = set()
    loose: list[str] = []
    for sha256 in archive.blobs.iter_hashes():
        if sha256 in found.referenced:
            continue
        value = _small_json(archive, sha256)
        if value is not None and str(value.get("format", "")).startswith("luutru-manifest/"):
            manifests[sha256] = value
        elif value is not None and (statement := parse_seal_statement(value)) is not None:
            statements[statement["manifest_sha256"]] = statement
            statement_blobs.add(sha256)
        loose.append(sha256)
    found.lost = _lost_records(manifests, statements, known, _known_originals(archive))
    found.ahead = _newer_revisions(manifests, _current_manifests(archive))
    # Seal statements stay whatever they seal: they are what makes a lost record restorable.
    keep = found.protected() | statement_blobs
    cutoff = time.time() - older_than
    found.orphans = [
        sha256
        for sha256 in loose
        if sha256 not in keep and archive.blobs.modified_at(sha256) <= cutoff
    ]
    return found


def _current_manifests(archive: Archive) -> dict[str, str]:
    with archive.session() as session:
        rows = session.execute(select(Seal.manifest_sha256, Seal.record_id))
        return {manifest: record_id for manifest, record_id in rows}


def _newer_revisions(
    manifests: dict[str, dict[str, Any]], current: dict[str, str]
) -> dict[str, list[str]]:
    """Unreferenced manifests that revise, directly or through one another, the manifest a
    record of the database is sealed with now, by record id."""
    ahead: dict[str, set[str]] = {}
    for sha256 in manifests:
        chain, at = [sha256], manifests[sha256].get("previous_manifest_sha256")
        while at in manifests and at not in chain:
            chain.append(at)
            at = manifests[at].get("previous_manifest_sha256")
        record_id = current.get(at) if isinstance(at, str) else None
        if record_id is not None and manifests[sha256].get("record_id") == record_id:
            ahead.setdefault(record_id, set()).update(chain)
    return {record_id: sorted(shas) for record_id, shas in ahead.items()}


def _known_originals(archive: Archive) -> set[str]:
    with archive.session() as session:
        found = session.scalars(select(Record.original_sha256))
        return {sha256 for sha256 in found if sha256 is not None}


def _original_of(manifest: dict[str, Any]) -> str | None:
    files = manifest.get("files")
    for entry in files if isinstance(files, list) else []:
        if isinstance(entry, dict) and entry.get("role") == FileRole.ORIGINAL.value:
            sha256 = entry.get("sha256")
            return sha256 if isinstance(sha256, str) else None
    return None


def _lost_records(
    manifests: dict[str, dict[str, Any]],
    statements: dict[str, dict[str, Any]],
    known: set[str],
    known_originals: set[str],
) -> dict[str, LostRecord]:
    """Group unreferenced manifests of records the database lacks into their histories. A
    manifest of an original the database holds is not a lost record: it is what a seal that
    lost a race to another process left behind (an orphan)."""
    by_record: dict[str, list[str]] = {}
    for sha256, manifest in manifests.items():
        record_id = manifest.get("record_id")
        if not isinstance(record_id, str) or record_id in known:
            continue
        if _original_of(manifest) in known_originals:
            continue
        by_record.setdefault(record_id, []).append(sha256)
    lost = {}
    for record_id, shas in by_record.items():
        replaced = {manifests[s].get("previous_manifest_sha256") for s in shas}
        newest = next((s for s in shas if s not in replaced), shas[0])
        chain = [newest]
        while (previous := manifests[chain[-1]].get("previous_manifest_sha256")) in manifests:
            chain.append(previous)
        lost[record_id] = LostRecord(
            record_id, chain[::-1], manifests[newest], statements.get(newest)
        )
    return lost


def restore_lost(archive: Archive, lost: LostRecord) -> None:
    """Put a lost record back as it was sealed (see the module's rules)."""
    statement = lost.statement
    if statement is None:
        raise IntegrityError(f"record {lost.record_id}: no seal statement is kept; not restored")
    newest_sha = lost.manifests[-1]
    verifier = archive.keyring().get(statement["key_id"])
    if verifier is None:
        raise IntegrityError(f"record {lost.record_id}: sealed with an unpublished key")
    manifest = verify_manifest(
        archive.blobs.read_bytes(newest_sha), statement["signature"], verifier
    )
    chain = [(sha, archive.blobs.read_bytes(sha)) for sha in lost.manifests]
    record = _record_of(manifest, statement, newest_sha)
    with (
        storage_faults(f"restoring record {lost.record_id}"),
        archive.session() as session,
        session.begin(),
    ):
        writer = LogWriter(session)
        writer.lock()
        if session.get(Record, lost.record_id) is not None:
            return  # restored meanwhile
        session.add(record)
        session.add_all(
            _changes_of(lost.record_id, [json.loads(data) for _, data in chain], lost.manifests)
        )
        logged = set(session.scalars(select(LogEntry.entry_sha256)))
        for position, (sha, data) in enumerate(chain):
            if sha not in logged:
                kind = EntryKind.SEAL if position == 0 else EntryKind.REVISION
                writer.append(kind, data, sha, lost.record_id)
        writer.checkpoint(archive.signer())
        session.add(
            Event(
                at=datetime.now(UTC),
                kind="recovery",
                record_id=lost.record_id,
                outcome="pass",
                agent=operator_name(),
                detail="restored from its signed manifest and seal statement in the blob store",
            )
        )


def _record_of(manifest: dict[str, Any], statement: dict[str, Any], manifest_sha: str) -> Record:
    described = manifest.get("description", {})
    files = [f for f in manifest.get("files", []) if isinstance(f, dict)]
    original = next((f for f in files if f.get("role") == "original"), None)
    when = manifest.get("ingested_at") or manifest.get("sealed_at")
    values = {name: described.get(name) for name in SEALED_FIELDS if name in described}
    if isinstance(values.get("issued_date"), str):
        values["issued_date"] = date.fromisoformat(values["issued_date"])
    for text_field in (
        "title",
        "doc_number",
        "doc_type",
        "type_name",
        "issuer",
        "place",
        "subject",
    ):
        values[text_field] = values.get(text_field) or ""
    return Record(
        id=manifest["record_id"],
        original_sha256=original["sha256"] if original else None,
        **values,
        ingested_at=datetime.fromisoformat(when) if isinstance(when, str) else datetime.now(UTC),
        ingested_by=str(manifest.get("ingested_by", "")),
        signatures=manifest.get("signatures") or None,
        warnings=manifest.get("warnings") or None,
        files=[
            RecordFile(
                role=f["role"],
                media_type=f.get("media_type", ""),
                size=f["size"],
                sha256=f["sha256"],
                sha512=f.get("sha512"),
                name=f.get("name", ""),
            )
            for f in files
        ],
        seal=Seal(
            manifest_sha256=manifest_sha,
            signature=statement["signature"],
            key_id=statement["key_id"],
            algorithm=statement["algorithm"],
            sealed_at=datetime.fromisoformat(statement["sealed_at"]),
        ),
    )


def _changes_of(
    record_id: str, chain: list[dict[str, Any]], shas: list[str]
) -> Iterator[RecordChange]:
    """The field changes each revision made, read from consecutive manifests."""
    for before, after, sha in zip(chain, chain[1:], shas[1:], strict=False):
        old, new = before.get("description", {}), after.get("description", {})
        for name in SEALED_FIELDS:
            if old.get(name) != new.get(name):
                yield RecordChange(
                    record_id=record_id,
                    field=name,
                    old_value=None if old.get(name) is None else str(old.get(name)),
                    new_value=None if new.get(name) is None else str(new.get(name)),
                    reason=str(after.get("revision_reason", "")),
                    changed_by=str(after.get("revised_by", "")),
                    changed_at=datetime.fromisoformat(str(after.get("revised_at"))),
                    manifest_sha256=sha,
                )


def restore_all(archive: Archive, found: BlobCensus) -> tuple[list[str], list[str]]:
    """Restore every restorable lost record; return (restored, not restorable)."""
    restored, left = [], []
    for record_id, lost in sorted(found.lost.items()):
        if not lost.restorable:
            left.append(record_id)
            continue
        try:
            restore_lost(archive, lost)
        except (IntegrityError, StorageError):
            left.append(record_id)
            continue
        restored.append(record_id)
    return restored, left
