"""The archive: seal records, read them back, keep rejected inputs in quarantine.

Sealing order is what makes a killed ingest harmless: blobs first (each durable on its own),
then one database transaction with the record, its files and its seal. Until that commit the
record does not exist; blobs left behind by a crash are unreferenced and never shown.
"""

from __future__ import annotations

import functools
import getpass
import hashlib
import os
import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

from sqlalchemy import ColumnElement, Select, bindparam, func, or_, select
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session, joinedload, selectinload

from archive.blobstore import BlobStore, LocalBlobStore, StagedBlob
from archive.db import (
    current_revision,
    database_faults,
    describe_url,
    head_revision,
    make_engine,
    make_session_factory,
    require_current_schema,
    sqlite_file,
    upgrade_schema,
)
from archive.errors import (
    AmbiguousRecordId,
    DatabaseMissing,
    InputRejected,
    RecordNotFound,
    SigningKeyError,
    StorageError,
    UsageError,
)
from archive.fsutil import (
    apply_umask,
    make_directories,
    open_regular,
    remove_stale_temp_files,
)
from archive.home import ArchiveHome, Settings
from archive.log import EntryKind, LogWriter, append_existing
from archive.manifest import ManifestFile, build_manifest, seal_statement, sign_manifest
from archive.models import (
    AccessLevel,
    DisposalList,
    Event,
    FileRole,
    LogEntry,
    QuarantineEntry,
    Record,
    RecordFile,
    RecordStatus,
    Seal,
    access_level_of,
)
from archive.prepared import PreparedQuery, driver_cursor
from archive.quarantine import QuarantineShelf
from archive.signing import (
    Keyring,
    Signer,
    Verifier,
    check_key_pair,
    ensure_key_pair,
    passphrase_from_env,
    private_key_encrypted,
)
from archive.text import normalize, path_bytes_hex, path_text

# Record ids are the start of the original's sha256: short enough to type, and re-ingesting a
# file finds its record. The full sha256 is the key; when another original already has an id,
# the next, longer one is taken.
RECORD_ID_LENGTHS = (24, 32)
MIN_ID_PREFIX = 8
# A page read with a mean word confidence under this is listed by 'luutru review'.
FLAG_BELOW_CONFIDENCE = 70.0
_HEX = re.compile(r"^[0-9a-f]+$")
_Row = TypeVar("_Row")


@dataclass(frozen=True)
class IncomingFile:
    role: FileRole
    media_type: str
    name: str
    path: Path | None = None
    data: bytes | None = None
    # The hash the caller saw when it read the file; sealing refuses bytes that differ from it.
    expected_sha256: str | None = None
    # The bytes as read once at intake (``BlobStore.stage``): moved into the store, not copied.
    staged: StagedBlob | None = None


@dataclass(frozen=True)
class Description:
    """Descriptive metadata of a document (Circular 05/2025/TT-BNV, "A document")."""

    title: str = ""
    doc_number: str = ""
    doc_type: str = ""
    type_name: str = ""
    issuer: str = ""
    issued_date: date | None = None
    place: str = ""
    subject: str = ""
    language: str = "vi"
    page_count: int = 0
    # How sure OCR was of each page; not sealed (it describes the reading, not the document).
    page_confidences: tuple[float | None, ...] = ()

    def as_manifest(self) -> dict[str, Any]:
        values = asdict(self)
        del values["page_confidences"]
        values["issued_date"] = self.issued_date.isoformat() if self.issued_date else None
        return values

    def normalized(self) -> Description:
        """Every text in NFC with Ð read as Đ, as everything stored must be."""
        return replace(
            self,
            title=normalize(self.title),
            doc_number=normalize(self.doc_number),
            doc_type=normalize(self.doc_type),
            type_name=normalize(self.type_name),
            issuer=normalize(self.issuer),
            place=normalize(self.place),
            subject=normalize(self.subject),
            language=normalize(self.language),
        )


@dataclass(frozen=True)
class Placement:
    """Where a record sits: its series, access level and the year its file was closed."""

    access: AccessLevel = AccessLevel.INTERNAL
    series_code: str | None = None
    closed_year: int | None = None


@dataclass(frozen=True)
class Provenance:
    """Who sealed a record, and how its incoming signatures validated (``SignatureCheck``
    of ``ingest.signatures``, as JSON)."""

    ingested_by: str = ""
    signatures: tuple[dict[str, Any], ...] = ()


class LogLine(NamedTuple):
    seq: int
    kind: str
    entry_sha256: str
    logged_at: datetime


class EventLine(NamedTuple):
    at: datetime
    kind: str
    outcome: str
    agent: str
    detail: str


@dataclass(frozen=True)
class History:
    """What happened to a record: its entries in the log, oldest first, and its newest
    events (fixity checks, reads, holds …), newest first."""

    log: list[LogLine]
    events: list[EventLine]


class Searchable(NamedTuple):
    """What the search index is fed of a record (``Archive.searchable``)."""

    id: str
    title: str
    doc_number: str
    issued_date: date | None
    access: str
    series_code: str | None
    doc_type: str
    type_name: str
    issuer: str
    subject: str
    status: str
    manifest_sha256: str | None
    text_sha256: str | None  # its OCR text file's blob, if it has one

    @property
    def access_level(self) -> AccessLevel:
        return access_level_of(self.id, self.access)


@dataclass(frozen=True)
class RecordRows:
    """A record as it is shown (``Archive.describe``): its row, its files' rows, its seal's
    row and its history, plain rows (named tuples, ``archive.prepared``) whose attributes
    are the columns of ``Record``, ``RecordFile`` and ``Seal``."""

    record: Any
    files: list[Any]
    seal: Any | None
    history: History


def operator_name() -> str:
    """The login of whoever runs luutru (the operator), for ``ingested_by``."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return f"uid {os.getuid()}"


@dataclass(frozen=True)
class Destruction:
    """How a destroyed record went (its tombstone's columns and its list's record of
    destruction), for every message that must say the record is gone, not damaged."""

    record_id: str
    destroyed_at: datetime | None
    destroyed_by: str | None
    list_id: int | None
    # The biên bản hủy, itself a sealed record; None until the list's execution finished.
    report_record_id: str | None

    def told(self) -> str:
        """'destroyed on 2030-01-02 under disposal list 7 (record of destruction …)'."""
        when = f" on {self.destroyed_at.date().isoformat()}" if self.destroyed_at else ""
        under = f" under disposal list {self.list_id}" if self.list_id is not None else ""
        report = (
            f" (record of destruction {self.report_record_id})" if self.report_record_id else ""
        )
        return f"destroyed{when}{under}{report}"

    def as_json(self) -> dict[str, Any]:
        return {
            "destroyed_at": self.destroyed_at.isoformat() if self.destroyed_at else None,
            "destroyed_by": self.destroyed_by,
            "disposal_list_id": self.list_id,
            "destruction_record_id": self.report_record_id,
        }


@dataclass(frozen=True)
class SealOutcome:
    record_id: str
    duplicate: bool


@dataclass(frozen=True)
class InitReport:
    home: Path
    created_config: bool
    created_key: bool
    key_id: str
    migrated_from: str | None
    # What to write down outside the archive (``verify --trusted-key``).
    fingerprint: str = ""
    # None: the private key is not in the home (kept offline).
    key_encrypted: bool | None = None
    # Records sealed before the log existed, appended to it now.
    logged_entries: int = 0


def _now() -> datetime:
    return datetime.now(UTC)


class Archive:
    def __init__(self, home: ArchiveHome, settings: Settings, blobs: BlobStore) -> None:
        self.home = home
        self.settings = settings
        self.blobs = blobs
        self.engine = make_engine(settings.database_url)
        self._sessions = make_session_factory(self.engine)
        self._signer: Signer | None = None
        self._prepared_queries: dict[str, PreparedQuery] = {}
        self.quarantine_shelf = QuarantineShelf(home.quarantine_dir, self.session, self.faults)

    @classmethod
    def open(cls, home: ArchiveHome) -> Archive:
        """Open an initialised archive; refuses a missing database or a schema of another
        version (only ``initialise`` and ``migrate`` write the schema)."""
        settings = home.settings()
        apply_umask(group_readable=settings.group is not None)
        archive = cls(home, settings, LocalBlobStore(home.blobs_dir))
        try:
            require_current_schema(archive.engine)
        except BaseException:
            archive.close()
            raise
        return archive

    @classmethod
    def initialise(cls, home: ArchiveHome, force: bool = False) -> InitReport:
        """Create what is missing of an archive home; never touch what exists."""
        reason = None if force or home.exists() else home.unsafe_location()
        if reason:
            raise UsageError(
                f"will not create an archive there: {reason}. Choose a home outside the source "
                "code (e.g. ~/luutru-archive), or pass --force"
            )
        apply_umask()
        created_config = home.write_default_config()
        settings = home.settings()
        apply_umask(group_readable=settings.group is not None)
        for directory in (home.root, home.blobs_dir, home.index_dir, home.quarantine_dir):
            make_directories(directory)
        home.root.chmod(0o2750 if settings.group else 0o700)
        if settings.group_id is not None:
            _share_with_group(home, settings.group_id)
        archive = cls(home, settings, LocalBlobStore(home.blobs_dir))
        try:
            before = archive.existing_revision()
            if before is None and any(archive.blobs.iter_hashes()):
                raise DatabaseMissing(
                    f"the database {describe_url(settings.database_url)} is missing, empty or "
                    f"not luutru's, but {home.blobs_dir} holds records; restore the database "
                    "from a backup (init will not start an empty one)"
                )
            upgrade_schema(archive.engine)
            passphrase = passphrase_from_env()
            created_key = ensure_key_pair(home.keys_dir, archive.count_records() > 0, passphrase)
            check_key_pair(home.keys_dir, passphrase)
            logged = archive.log_existing_records()
            verifier = archive.verifier()
            encrypted = private_key_encrypted(home.keys_dir)
        finally:
            archive.close()
        return InitReport(
            home.root,
            created_config,
            created_key,
            verifier.key_id,
            before,
            verifier.fingerprint,
            encrypted,
            logged,
        )

    @classmethod
    def migrate(cls, home: ArchiveHome) -> tuple[str | None, str]:
        """Bring the schema to this luutru's version; returns (before, after)."""
        settings = home.settings()
        apply_umask(group_readable=settings.group is not None)
        archive = cls(home, settings, LocalBlobStore(home.blobs_dir))
        try:
            database = sqlite_file(archive.engine)
            if database is not None and not database.exists():
                require_current_schema(archive.engine)  # says the database is missing
            before = current_revision(archive.engine)
            if before is None:
                raise DatabaseMissing("the database holds no luutru archive; run 'luutru init'")
            upgrade_schema(archive.engine)
            archive.log_existing_records()
        finally:
            archive.close()
        return before, head_revision()

    def existing_revision(self) -> str | None:
        """The schema revision of the database, None when there is none (no file, an empty
        file, a database without luutru's tables)."""
        database = sqlite_file(self.engine)
        if database is not None and not database.exists():
            return None
        return current_revision(self.engine)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def session(self) -> Session:
        return self._sessions()

    def signer(self) -> Signer:
        """The signing key, loaded on first use only, so that read-only processes (API,
        verify) never hold it; refused unless it is the pair of the archive's public key (a
        wrong key restored from a backup would seal records nobody can verify)."""
        if self._signer is None:
            signer = Signer.load(self.home.keys_dir, passphrase_from_env())
            public = self.verifier()
            if signer.key_id != public.key_id:
                raise SigningKeyError(
                    f"the private key in {self.home.keys_dir} (key {signer.key_id}) is not the "
                    f"pair of the archive's public key {public.key_id}: nothing was sealed. Put "
                    "back the private key that belongs to this archive"
                )
            self._signer = signer
        return self._signer

    def reset_signer(self) -> None:
        """Forget the loaded signing key (after a rotation)."""
        self._signer = None

    def verifier(self) -> Verifier:
        """The archive's current public key."""
        return Verifier.load(self.home.keys_dir)

    def keyring(self) -> Keyring:
        """Every public key the archive has published (current and rotated)."""
        return Keyring.load(self.home.keys_dir)

    # --- writing -------------------------------------------------------------------------

    def log_existing_records(self) -> int:
        """Append the records sealed before the log existed (an archive made by an older
        luutru); needs the signing key only when there are such records."""
        with self.faults(), self.session() as session:
            unlogged = session.scalar(
                select(func.count())
                .select_from(Seal)
                .where(Seal.manifest_sha256.not_in(select(LogEntry.entry_sha256)))
            )
        if not unlogged:
            return 0
        try:
            signer = self.signer()
        except SigningKeyError as exc:
            raise SigningKeyError(
                f"{unlogged} record(s) sealed before this version must be entered in the log, "
                f"which needs the signing key: {exc}"
            ) from None
        with (
            storage_faults("entering earlier records in the log"),
            self.session() as session,
            session.begin(),
        ):
            return append_existing(session, self.blobs, signer)

    def find_by_original(self, sha256: str) -> str | None:
        with self.faults(), self.session() as session:
            return session.scalar(select(Record.id).where(Record.original_sha256 == sha256))

    def destructions(self, record_ids: Sequence[str]) -> dict[str, Destruction]:
        """Which of ``record_ids`` were destroyed, and how (no clearance: callers name only
        records they found the reader may see)."""
        found: dict[str, Destruction] = {}
        with self.faults(), self.session() as session:
            for start in range(0, len(record_ids), 500):
                rows = session.execute(
                    select(
                        Record.id,
                        Record.disposed_at,
                        Record.disposed_by,
                        Record.disposal_list_id,
                        DisposalList.report_record_id,
                    )
                    .outerjoin(DisposalList, DisposalList.id == Record.disposal_list_id)
                    .where(
                        Record.id.in_(list(record_ids[start : start + 500])),
                        Record.status == RecordStatus.DESTROYED.value,
                    )
                )
                found.update((row[0], Destruction(*row)) for row in rows)
        return found

    def placement_of(self, record_id: str) -> Placement:
        with self.faults(), self.session() as session:
            record = session.get(Record, record_id)
        if record is None:
            raise RecordNotFound(f"no record {record_id!r}")
        return Placement(record.access_level, record.series_code, record.closed_year)

    def _store_blob(self, incoming: IncomingFile) -> ManifestFile:
        staged = incoming.staged
        if staged is None and incoming.path is not None:
            with open_regular(incoming.path) as handle:
                staged = self.blobs.stage(handle)
        try:
            if staged is not None:
                self.blobs.commit_staged(staged)
                sha256, size, sha512 = staged.sha256, staged.size, staged.sha512
            elif incoming.data is not None:
                sha256, size = self.blobs.put_bytes(incoming.data), len(incoming.data)
                sha512 = hashlib.sha512(incoming.data).hexdigest()
            else:
                raise ValueError(f"incoming {incoming.role.value} file has neither path nor data")
        finally:
            if staged is not None and staged is not incoming.staged:
                staged.release()
        if incoming.expected_sha256 not in (None, sha256):
            raise InputRejected(
                path_text(incoming.path or incoming.name),
                "the file changed while it was being ingested",
            )
        name = path_text(incoming.name)
        return ManifestFile(
            incoming.role.value, incoming.media_type, size, sha256, name, sha512 or None
        )

    def seal(
        self,
        files: list[IncomingFile],
        description: Description,
        placement: Placement,
        source_name: str,
        warnings: Sequence[str] = (),
        provenance: Provenance | None = None,
    ) -> SealOutcome:
        """Store the files, sign a manifest, commit the record with its log entry and a new
        checkpoint, in one transaction. The first file is the original."""
        with storage_faults(f"sealing {path_text(source_name)}"):
            original = self._store_blob(files[0])
            existing = self.find_by_original(original.sha256)
            if existing is not None:
                return SealOutcome(existing, duplicate=True)
            stored = [original, *(self._store_blob(incoming) for incoming in files[1:])]
            record, manifest = self._signed_record(
                stored,
                description.normalized(),
                placement,
                source_name,
                list(warnings),
                provenance or Provenance(),
            )
            return self._commit(record, original.sha256, manifest)

    def _free_record_id(self, original_sha256: str, source_name: str) -> str:
        """The shortest id of RECORD_ID_LENGTHS that no other original has taken. An id the
        same original has taken (another process sealed it since our duplicate check) is
        ours too: the commit then fails as a duplicate, and the manifest left behind names
        the record that exists, not an id no record has."""
        with self.session() as session:
            for length in RECORD_ID_LENGTHS:
                candidate = original_sha256[:length]
                taken = session.get(Record, candidate)
                if taken is None or taken.original_sha256 == original_sha256:
                    return candidate
        raise InputRejected(
            path_text(source_name),
            f"every record id for sha256 {original_sha256} is taken by another original "
            "(a deliberate hash-prefix collision?); kept in quarantine for inspection",
        )

    def _signed_record(
        self,
        stored: list[ManifestFile],
        description: Description,
        placement: Placement,
        source_name: str,
        warnings: list[str],
        provenance: Provenance,
    ) -> tuple[Record, bytes]:
        """The record row with its files and seal, and its signed manifest's bytes (stored as
        a blob, and the record's log entry)."""
        record_id = self._free_record_id(stored[0].sha256, source_name)
        sealed_at = _now()
        name_hex = path_bytes_hex(source_name)
        source_text = path_text(source_name)
        ingested_by = normalize(provenance.ingested_by or operator_name())
        signatures = [dict(check) for check in provenance.signatures]
        manifest = build_manifest(
            record_id=record_id,
            ingested_at=sealed_at.isoformat(),
            ingested_by=ingested_by,
            signatures=signatures,
            files=stored,
            description={
                **description.as_manifest(),
                "access": placement.access.value,
                "series_code": placement.series_code,
                "closed_year": placement.closed_year,
                "source_name": source_text,
                # The exact bytes of a name that is not UTF-8 (or not NFC), kept losslessly.
                **({"source_name_bytes_hex": name_hex} if name_hex else {}),
            },
        )
        if warnings:
            manifest["warnings"] = warnings
        signed = sign_manifest(manifest, self.signer())
        record = Record(
            id=record_id,
            original_sha256=stored[0].sha256,
            title=description.title,
            series_code=placement.series_code,
            access=placement.access.value,
            closed_year=placement.closed_year,
            doc_number=description.doc_number,
            doc_type=description.doc_type,
            type_name=description.type_name,
            issuer=description.issuer,
            issued_date=description.issued_date,
            place=description.place,
            subject=description.subject,
            language=description.language,
            page_count=description.page_count,
            source_name=source_text,
            ingested_at=sealed_at,
            ingested_by=ingested_by,
            signatures=signatures or None,
            warnings=warnings or None,
            pages=[
                {
                    "number": number,
                    "confidence": None if confidence is None else round(confidence, 1),
                    "flagged": confidence is None or confidence < FLAG_BELOW_CONFIDENCE,
                }
                for number, confidence in enumerate(description.page_confidences, start=1)
            ]
            or None,
            files=[
                RecordFile(
                    role=f.role,
                    media_type=f.media_type,
                    size=f.size,
                    sha256=f.sha256,
                    sha512=f.sha512,
                    name=f.name,
                )
                for f in stored
            ],
            seal=Seal(
                manifest_sha256=self.blobs.put_bytes(signed.body),
                signature=signed.signature,
                key_id=signed.key_id,
                algorithm=signed.algorithm,
                sealed_at=sealed_at,
            ),
        )
        assert record.seal is not None
        self.blobs.put_bytes(
            seal_statement(
                record.seal.manifest_sha256,
                signed.signature,
                signed.key_id,
                signed.algorithm,
                sealed_at,
            )
        )
        return record, signed.body

    def _commit(self, record: Record, original_sha256: str, manifest: bytes) -> SealOutcome:
        assert record.seal is not None
        try:
            with self.session() as session, session.begin():
                log = LogWriter(session)
                log.lock()  # first: it serialises appends across processes
                session.add(record)
                log.append(EntryKind.SEAL, manifest, record.seal.manifest_sha256, record.id)
                log.checkpoint(self.signer())
        except sa_exc.IntegrityError:
            # Another process sealed the same original (or took the id) between our check and
            # our commit.
            existing = self.find_by_original(original_sha256)
            if existing is None:
                raise
            return SealOutcome(existing, duplicate=True)
        return SealOutcome(record.id, duplicate=False)

    def quarantine(
        self,
        source: Path,
        reason: str,
        keep_copy: bool = True,
        label: str | None = None,
        placement: Placement | None = None,
    ) -> QuarantineEntry:
        """Keep a copy of a rejected input and why, and where it was to be archived (its
        access level above all, so that a retry never archives it lower); the input itself is
        only read."""
        kept: tuple[str | None, str | None, int | None] = (None, None, None)
        if placement is not None:
            kept = (placement.access.value, placement.series_code, placement.closed_year)
        with storage_faults(f"quarantining {label or path_text(source)}"):
            return self.quarantine_shelf.put(source, reason, keep_copy, label, kept)

    def quarantined(self) -> list[QuarantineEntry]:
        return self.quarantine_shelf.entries()

    # --- reading -------------------------------------------------------------------------

    def resolve_id(self, id_or_prefix: str, clearance: AccessLevel) -> str:
        """The full id of the one record ``clearance`` may see whose id starts so.

        Like git, at least MIN_ID_PREFIX characters. Records the caller may not see are not
        counted, so "ambiguous" never betrays a restricted record.
        """
        prefix = _id_prefix(id_or_prefix)
        with self.faults(), self.session() as session:
            query = _with_prefix("ids", clearance, 11)
            matches = list(session.scalars(query, _prefix_range(prefix)))
        return _one_of(id_or_prefix, prefix, matches)

    def get(self, record_id: str, clearance: AccessLevel) -> Record:
        """The record, if it exists and ``clearance`` permits it; otherwise ``RecordNotFound``.

        ``record_id`` may be a unique prefix. One query, whatever the record: the clearance is
        part of it, so a restricted record and an absent one take the same path and read the
        same; the files and the seal come in the same query.
        """
        prefix = _id_prefix(record_id)
        with self.faults(), self.session() as session:
            # Two rows at most tell the one record from an ambiguous prefix; the full id, if
            # it is there, sorts first (every longer id starting with it sorts after it).
            query = _with_prefix("records", clearance, 2)
            found: list[Record] = list(session.scalars(query, _prefix_range(prefix)).unique())
        if len(found) > 1 and found[0].id != prefix:
            full = self.resolve_id(record_id, clearance)  # says which records it may be
            found = [record for record in found if record.id == full]
        if not found:
            raise RecordNotFound(f"no record {record_id!r}")
        return found[0]

    def describe(self, record_id: str, clearance: AccessLevel) -> RecordRows:
        """What ``get`` finds, by the same one query with the clearance in it (a restricted
        record and an absent one read alike), with its files, seal and history: as plain
        rows, in one read transaction, by statements prepared once and run on the driver's
        cursor (``archive.prepared``). A record read over the API asks this every time;
        ORM objects cost it three times what SQLAlchemy's rows do, and those twice these."""
        prefix = _id_prefix(record_id)
        with driver_cursor(self.engine) as cursor:
            found = self.prepared(f"rows {clearance}", _with_prefix("rows", clearance, 2)).rows(
                cursor, **_prefix_range(prefix)
            )
            if len(found) > 1 and found[0].id != prefix:
                full = self.resolve_id(record_id, clearance)  # says which records it may be
                found = [row for row in found if row.id == full]
            if not found:
                raise RecordNotFound(f"no record {record_id!r}")
            wanted = {"record_id": found[0].id}
            return RecordRows(
                found[0],
                self.prepared("files", _FILE_ROWS).rows(cursor, **wanted),
                self.prepared("seal", _SEAL_ROW).first(cursor, **wanted),
                self._history(cursor, found[0].id),
            )

    def prepared(self, name: str, statement: Select[*tuple[Any, ...]]) -> PreparedQuery:
        """``statement`` prepared for this archive's database once, kept by ``name``."""
        query = self._prepared_queries.get(name)
        if query is None:
            query = self._prepared_queries[name] = PreparedQuery(statement, self.engine.dialect)
        return query

    def history(self, record_id: str) -> History:
        """The record's log entries and its newest ``HISTORY_EVENTS`` events."""
        with driver_cursor(self.engine) as cursor:
            return self._history(cursor, record_id)

    def _history(self, cursor: Any, record_id: str) -> History:
        log_lines = self.prepared("log", _LOG_LINES).rows(cursor, record_id=record_id)
        event_lines = self.prepared("events", _EVENT_LINES).rows(cursor, record_id=record_id)
        return History([LogLine(*r) for r in log_lines], [EventLine(*r) for r in event_lines])

    def text_of(self, record: Record) -> str:
        text_file = record.file(FileRole.OCR_TEXT)
        return self.read_text(text_file.sha256 if text_file else None, record.status)

    def read_text(self, sha256: str | None, status: str) -> str:
        """The text blob ``sha256`` of a record of that status: none once it is destroyed."""
        if sha256 is None or status == RecordStatus.DESTROYED.value:
            return ""
        return self.blobs.read_bytes(sha256).decode("utf-8")

    def record_ids(self) -> list[str]:
        with self.faults(), self.session() as session:
            return list(session.scalars(select(Record.id).order_by(Record.id)))

    def record_stamps(self) -> dict[str, str]:
        """Every record's id with what decides who may see it: ``access:manifest_sha256``
        (the search index keeps the same stamp, so the two can be compared)."""
        with self.faults(), self.session() as session:
            # A destroyed record is gone from search: only its tombstone stays (``show``).
            rows = session.execute(
                select(Record.id, Record.access, Seal.manifest_sha256)
                .outerjoin(Seal, Seal.record_id == Record.id)
                .where(Record.status != RecordStatus.DESTROYED.value)
            )
            return {rid: f"{access}:{manifest or ''}" for rid, access, manifest in rows}

    def visible(
        self, record_ids: list[str], clearance: AccessLevel, *, destroyed: bool = True
    ) -> set[str]:
        """Which of ``record_ids`` exist and ``clearance`` may see (the database decides);
        without ``destroyed``, only those not destroyed (a search hit must be a record)."""
        found: set[str] = set()
        if not record_ids:
            return found
        with driver_cursor(self.engine) as cursor:
            for start in range(0, len(record_ids), MAX_IDS_A_STATEMENT):
                chunk = record_ids[start : start + MAX_IDS_A_STATEMENT]
                # Every search asks this of its page of hits: statements of a few sizes,
                # prepared once, the chunk padded to one by repeating an id (IN ignores it).
                size = 1 << (len(chunk) - 1).bit_length()
                prepared = self.prepared(
                    f"visible {clearance} {destroyed} {size}",
                    _visible_ids(clearance, destroyed, size),
                )
                padded = chunk + [chunk[-1]] * (size - len(chunk))
                given = {f"id_{n}": rid for n, rid in enumerate(padded)}
                found.update(row.id for row in prepared.rows(cursor, **given))
        return found

    def count_records(self) -> int:
        with self.faults(), self.session() as session:
            return session.scalar(select(func.count()).select_from(Record)) or 0

    def iter_records(self, ids: list[str] | None = None) -> Iterator[Record]:
        wanted = self.record_ids() if ids is None else ids
        for start in range(0, len(wanted), 500):
            with self.faults(), self.session() as session:
                yield from session.scalars(
                    select(Record)
                    .where(Record.id.in_(wanted[start : start + 500]))
                    .options(selectinload(Record.files), selectinload(Record.seal))
                    .order_by(Record.id)
                )

    def searchable(self, ids: list[str]) -> Iterator[Searchable]:
        """What the search index holds of each record (``Searchable``), in id order, 500
        at a time: plain rows of the few columns it needs. A rebuild reads every record;
        as ORM objects with their files and JSON columns that was a third of its time."""
        for start in range(0, len(ids), 500):
            with self.faults(), self.engine.connect() as connection:
                rows = connection.execute(_SEARCHABLE, {"ids": ids[start : start + 500]})
                yield from (Searchable(*row) for row in rows)

    def records_to_review(self, clearance: AccessLevel) -> list[Record]:
        """Records with a page flagged as unsure, or with warnings, oldest first."""
        with self.faults(), self.session() as session:
            records = session.scalars(
                _visible(select(Record), clearance).order_by(Record.ingested_at, Record.id)
            )
            return [
                record
                for record in records
                if record.warnings or any(page.get("flagged") for page in record.pages or [])
            ]

    def remove_stale_temp_files(self) -> int:
        """Temp files that killed runs left in the home (blobs, quarantine, keys); those of
        live writers are locked and stay."""
        quarantine = self.home.quarantine_dir
        others = [
            self.home.root,
            self.home.keys_dir,
            *(p for p in quarantine.rglob("*") if p.is_dir()),
        ]
        removed = self.blobs.remove_stale_temp_files()
        return removed + sum(remove_stale_temp_files(f) for f in others if f.is_dir())

    def faults(self) -> Any:
        """Database failures while reading become a ``StorageError`` that says so."""
        return database_faults(self.engine)


def _id_prefix(id_or_prefix: str) -> str:
    """A record id or prefix as ids are stored (lower-case hex), else ``RecordNotFound`` (too
    long, not hex) or ``UsageError`` (too short to be meant)."""
    prefix = id_or_prefix.strip().lower()
    if not _HEX.match(prefix) or len(prefix) > max(RECORD_ID_LENGTHS):
        raise RecordNotFound(f"no record {id_or_prefix!r}")
    if len(prefix) < MIN_ID_PREFIX:
        raise UsageError(
            f"record id {id_or_prefix!r} is too short: give at least {MIN_ID_PREFIX} characters"
        )
    return prefix


@functools.cache
def _with_prefix(what: str, clearance: AccessLevel, limit: int) -> Select[Any]:
    """The first ``limit`` records (``what``: "ids", "rows" of the records table, or ORM
    "records" with their files and seal)
    ``clearance`` may see whose id starts with the ``prefix`` given when it is executed (as
    ``_prefix_range``), by id. Built once: making a statement costs more than running it.

    Ids are lower-case hex, so they start with ``prefix`` when they sort from ``prefix`` up
    to ``prefix + "g"``: a range the database finds in its index of ids, where a LIKE would
    read every record (SQLite's LIKE ignores case, so no index serves it)."""
    query: Select[Any]
    if what == "ids":
        query = select(Record.id)
    elif what == "rows":
        query = select(Record.__table__)
    else:
        query = select(Record).options(joinedload(Record.files), joinedload(Record.seal))
    return (
        _visible(query, clearance)
        .where(Record.id >= bindparam("low"), Record.id < bindparam("high"))
        .order_by(Record.id)
        .limit(limit)
    )


HISTORY_EVENTS = 50
_LOG_LINES = (
    select(LogEntry.seq, LogEntry.kind, LogEntry.entry_sha256, LogEntry.logged_at)
    .where(LogEntry.record_id == bindparam("record_id"))
    .order_by(LogEntry.seq)
)
_EVENT_LINES = (
    select(Event.at, Event.kind, Event.outcome, Event.agent, Event.detail)
    .where(Event.record_id == bindparam("record_id"))
    .order_by(Event.at.desc(), Event.id.desc())
    .limit(HISTORY_EVENTS)
)
_FILE_ROWS = (
    select(RecordFile.__table__)
    .where(RecordFile.record_id == bindparam("record_id"))
    .order_by(RecordFile.role, RecordFile.id)
)
_TEXT_SHA256 = (
    select(RecordFile.sha256)
    .where(RecordFile.record_id == Record.id, RecordFile.role == FileRole.OCR_TEXT.value)
    .order_by(RecordFile.id)
    .limit(1)
    .scalar_subquery()
)
_SEARCHABLE_COLUMNS = (
    Record.id, Record.title, Record.doc_number, Record.issued_date, Record.access,
    Record.series_code, Record.doc_type, Record.type_name, Record.issuer, Record.subject,
    Record.status, Seal.manifest_sha256, _TEXT_SHA256,
)  # fmt: skip
_SEARCHABLE = (
    select(*_SEARCHABLE_COLUMNS)
    .outerjoin(Seal, Seal.record_id == Record.id)
    .where(Record.id.in_(bindparam("ids", expanding=True)))
    .order_by(Record.id)
)
_SEAL_ROW = select(Seal.__table__).where(Seal.record_id == bindparam("record_id"))


# Ids checked by one statement (a power of two: the sizes prepared are 1, 2, 4 … 512).
MAX_IDS_A_STATEMENT = 512


@functools.cache
def _visible_ids(clearance: AccessLevel, destroyed: bool, size: int) -> Select[Any]:
    """Which of the ids given as ``id_0`` … ``id_{size-1}`` are records ``clearance`` may
    see: of a known level, even for the operator (a damaged row is not a search hit)."""
    ids = [bindparam(f"id_{n}", type_=Record.id.type) for n in range(size)]
    query = _visible(select(Record.id), clearance).where(Record.id.in_(ids))
    if clearance is AccessLevel.SECRET:
        query = query.where(_access_among(AccessLevel))
    if not destroyed:
        query = query.where(Record.status != RecordStatus.DESTROYED.value)
    return query


def _prefix_range(prefix: str) -> dict[str, str]:
    return {"low": prefix, "high": prefix + "g"}  # "g" sorts after every hex digit


def _one_of(id_or_prefix: str, prefix: str, matches: list[str]) -> str:
    if prefix in matches:
        return prefix
    if not matches:
        raise RecordNotFound(f"no record {id_or_prefix!r}")
    if len(matches) > 1:
        shown = ", ".join(matches[:10]) + (", …" if len(matches) > 10 else "")
        raise AmbiguousRecordId(
            f"record id {id_or_prefix!r} is ambiguous: it starts {shown}; give more characters"
        )
    return matches[0]


def _visible(query: Select[_Row], clearance: AccessLevel) -> Select[_Row]:
    """Only records ``clearance`` may see. The operator (secret) sees every row, a damaged
    one too, so that it is reported rather than hidden; everyone else sees known levels only."""
    if clearance is AccessLevel.SECRET:
        return query
    return query.where(_access_among(level for level in AccessLevel if clearance.permits(level)))


def _access_among(levels: Iterable[AccessLevel]) -> ColumnElement[bool]:
    # Equalities, not IN: an IN list is rendered anew at every execution of the statement.
    return or_(*(Record.access == level.value for level in levels))


def _share_with_group(home: ArchiveHome, gid: int) -> None:
    """Give the archive's group its folders, set-group-id so that new files inherit it."""
    for path in (home.root, *home.root.rglob("*")):
        if path.is_symlink():
            continue
        os.chown(path, -1, gid)
        if path.is_dir():
            path.chmod(0o2750)


@contextmanager
def storage_faults(doing: str) -> Iterator[None]:
    try:
        yield
    except OSError as exc:
        raise StorageError(f"cannot write the archive while {doing}: {exc}") from exc
    except sa_exc.SQLAlchemyError as exc:
        raise StorageError(f"database failure while {doing}: {exc}") from exc
