"""The archive-wide audit behind ``luutru verify``: records, log, trust anchors and the
PREMIS-style events that say it was done.

- Records are checked by ``archive.verify.RecordChecker``; with no record named, the whole
  log is rebuilt (``archive.log.audit``) and records the log knows but the database lost are
  reported as vanished.
- Trust comes from outside the archive: ``TrustedKeys`` (fingerprints written down when the
  archive was made), an older checkpoint kept elsewhere (the log must be consistent with it:
  nothing it covered was changed or removed), and a witness's key (the newest checkpoint must
  carry its co-signature).
- Each checked record gets a "fixity check" event with its outcome; ``show`` lists them.
  A seal or checkpoint by a key that is not among the trusted keys given is a matter of
  trust, not of the record's bytes: it is reported (``untrusted``), fails the verification,
  and is kept in no record's history, since a mistyped fingerprint must not stay there as a
  failed check forever. Damage found on the same run still is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from archive import log, merkle
from archive.checkpoint import NoteError, NoteVerifier, open_checkpoint
from archive.errors import IntegrityError
from archive.log import EntryKind, LogAudit
from archive.models import Event, LogCheckpoint, Record, RecordFile, RecordStatus
from archive.repository import Archive, operator_name
from archive.signing import Keyring, TrustedKeys
from archive.verify import RecordChecker, RecordVerification, vanished


@dataclass
class AuditReport:
    records: list[RecordVerification] = field(default_factory=list)
    log: LogAudit | None = None
    vanished: list[str] = field(default_factory=list)
    # Problems of the log or of the outside anchors (kept checkpoint, witness).
    problems: list[str] = field(default_factory=list)
    pinned: bool = False
    keys_used: set[str] = field(default_factory=set)
    # Trust problems of the outside anchors (a kept checkpoint by an untrusted key).
    anchor_untrusted: list[str] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        """Nothing damaged (whatever the keys that signed it)."""
        log_ok = self.log is None or self.log.ok
        return (
            log_ok and not self.vanished and not self.problems and all(r.ok for r in self.records)
        )

    @property
    def trusted(self) -> bool:
        """Every seal and checkpoint is by a trusted key (trivially so when none is pinned)."""
        return not self.untrusted()

    @property
    def ok(self) -> bool:
        return self.intact and self.trusted

    @property
    def untrusted_records(self) -> list[str]:
        return sorted(r.record_id for r in self.records if not r.trusted)

    def untrusted(self) -> list[str]:
        """What is not signed by the trusted keys given, one line a key (not one a record:
        a wrong fingerprint would otherwise say so of every record and checkpoint)."""
        found: list[str] = []
        by_key: dict[str, int] = {}
        for r in self.records:
            if not r.trusted:
                by_key[r.key_id] = by_key.get(r.key_id, 0) + 1
        for key_id, count in sorted(by_key.items()):
            found.append(f"the seals of {count} record(s) are by key {key_id}")
        for key_id, count in sorted((self.log.untrusted_checkpoints if self.log else {}).items()):
            found.append(f"{count} checkpoint(s) of the log are by key {key_id}")
        return found + self.anchor_untrusted

    @property
    def damaged(self) -> list[str]:
        """Every record with a problem, vanished ones included."""
        return sorted({r.record_id for r in self.records if not r.ok} | set(self.vanished))

    def all_problems(self) -> list[str]:
        found = [*(self.log.problems if self.log else []), *self.problems]
        found += [f"record {rid} was sealed (the log says so) but is gone" for rid in self.vanished]
        return found


@dataclass(frozen=True)
class Anchors:
    """What the verifier brings from outside the archive."""

    trusted: TrustedKeys = field(default_factory=TrustedKeys)
    kept_checkpoints: Sequence[bytes] = ()
    witnesses: Sequence[NoteVerifier] = ()


def audit_archive(
    archive: Archive,
    record_ids: Sequence[str] | None = None,
    anchors: Anchors | None = None,
    check_sha512: bool = False,
    record_events: bool = True,
) -> AuditReport:
    anchors = anchors or Anchors()
    keyring = archive.keyring()
    report = AuditReport(pinned=anchors.trusted.pinned)
    with archive.faults(), archive.session() as session:
        if record_ids:
            facts = _log_facts_of(session, record_ids)
        else:
            facts = log.audit(session, archive.blobs, keyring, anchors.trusted)
            report.log = facts
        checker = RecordChecker(archive.blobs, keyring, anchors.trusted, facts, check_sha512,
                                lambda sha256: _shared_with_living(session, sha256))  # fmt: skip
        for record in archive.iter_records(list(record_ids) if record_ids else None):
            result = checker.verify(record)
            report.records.append(result)
            if result.key_id:
                report.keys_used.add(result.key_id)
        if not record_ids:
            report.vanished = vanished(facts, {r.record_id for r in report.records})
        problems, untrusted = _anchor_problems(session, anchors, keyring)
        report.problems += problems
        report.anchor_untrusted += untrusted
    if record_events:
        _record_events(archive, report)
    return report


def _log_facts_of(session: Session, record_ids: Sequence[str]) -> LogAudit:
    """What the log says of some records only (their newest manifests), without rebuilding
    the whole tree: for checking a few records quickly."""
    facts = LogAudit()
    for record_id in record_ids:
        for entry in log.entries_of(session, record_id):
            if entry.kind in (EntryKind.SEAL, EntryKind.REVISION):
                facts.newest_manifest[record_id] = entry.entry_sha256
                facts.manifests.add(entry.entry_sha256)
            elif entry.kind == EntryKind.DISPOSITION:
                facts.disposed.add(record_id)
    return facts


def _anchor_problems(
    session: Session, anchors: Anchors, keyring: Keyring
) -> tuple[list[str], list[str]]:
    """Damage, then trust problems, of the anchors brought from outside."""
    newest = log.latest_checkpoint(session)
    problems: list[str] = []
    untrusted: list[str] = []
    for kept in anchors.kept_checkpoints:
        damage, trust = _kept_checkpoint_problems(session, kept, newest, keyring, anchors.trusted)
        problems += damage
        untrusted += trust
    if anchors.witnesses:
        problems += _witness_problems(newest, anchors.witnesses)
    return problems, untrusted


def _kept_checkpoint_problems(
    session: Session,
    kept: bytes,
    newest: LogCheckpoint | None,
    keyring: Keyring,
    trusted: TrustedKeys,
) -> tuple[list[str], list[str]]:
    """An older checkpoint kept outside the archive: signed by one of its keys (trusted, when
    keys are pinned: else a trust problem, not damage), and the log now is an extension of
    the log then."""
    origin = log.head(session).origin
    untrusted: list[str] = []
    try:
        old, _ = open_checkpoint(kept, [k.note_verifier(origin) for k in keyring])
    except NoteError as exc:
        return [f"the kept checkpoint is not one this archive's keys signed: {exc}"], []
    if trusted.pinned:
        try:
            open_checkpoint(kept, [k.note_verifier(origin) for k in keyring if trusted.trusts(k)])
        except NoteError:
            untrusted.append("the kept checkpoint is by an archive key that is not trusted")
    if newest is None or newest.size < old.size:
        return [
            f"the log has fewer entries than the kept checkpoint of {old.size}: "
            "entries were removed"
        ], untrusted
    try:
        proof = log.consistency_proof(session, old.size, newest.size)
        merkle.verify_consistency(old.size, newest.size, old.root_hash, newest.root, proof)
    except (IntegrityError, ValueError) as exc:
        return [
            f"the log is not consistent with the kept checkpoint of {old.size} entries: "
            f"what it covered was changed or removed ({exc})"
        ], untrusted
    return [], untrusted


def _witness_problems(newest: LogCheckpoint | None, witnesses: Sequence[NoteVerifier]) -> list[str]:
    if newest is None:
        return ["the log has no checkpoint for a witness to have signed"]
    witnessed = newest.witnessed_note
    if witnessed is None:
        return [f"the newest checkpoint ({newest.size} entries) has no witness co-signature"]
    try:
        checkpoint, opened = open_checkpoint(witnessed.encode("utf-8"), list(witnesses))
    except NoteError as exc:
        return [f"the witness co-signature of the newest checkpoint does not verify: {exc}"]
    if checkpoint.size != newest.size or checkpoint.root_hash != newest.root:
        return ["the witnessed checkpoint is not the newest checkpoint"]
    return [] if opened.signatures else ["no witness signed the newest checkpoint"]


def _record_events(archive: Archive, report: AuditReport) -> None:
    now = datetime.now(UTC)
    agent = operator_name()
    rows: list[dict[str, object]] = [
        {
            "at": now,
            "kind": "fixity check",
            "record_id": result.record_id,
            # Damage only: trust is the verifier's, not the record's (see the module).
            "outcome": "pass" if result.ok else "fail",
            "agent": agent,
            "detail": "; ".join(result.problems) or _passed(result),
        }
        for result in report.records
    ]
    rows += [
        {
            "at": now,
            "kind": "fixity check",
            "record_id": record_id,
            "outcome": "fail",
            "agent": agent,
            "detail": "sealed (the log says so) but gone from the database",
        }
        for record_id in report.vanished
    ]
    if not rows:
        return
    with archive.faults(), archive.session() as session, session.begin():
        # One executemany: an ORM object a row cost more than checking a small record.
        session.execute(insert(Event), rows)


def _passed(result: RecordVerification) -> str:
    if result.destroyed:
        return "destroyed: its tombstone (seal, manifest, disposition) is intact"
    return f"{result.files_checked} file(s) intact"


def _shared_with_living(session: Session, sha256: str) -> bool:
    """Whether a record not destroyed has the blob too (a destruction keeps those)."""
    living = (
        select(RecordFile.id)
        .join(Record, Record.id == RecordFile.record_id)
        .where(RecordFile.sha256 == sha256, Record.status != RecordStatus.DESTROYED.value)
    )
    return session.scalar(living.limit(1)) is not None
