"""The archive: seal records, read them back, keep rejected inputs in quarantine.

Sealing order is what makes a killed ingest harmless: blobs first (each durable on its own),
then one database transaction with the record, its files and its seal. Until that commit the
record does not exist; blobs left behind by a crash are unreferenced and never shown.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import exc as sa_exc
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from archive.blobstore import CHUNK_SIZE, BlobStore, LocalBlobStore, sha256_file
from archive.db import make_engine, make_session_factory, upgrade_schema
from archive.errors import InputRejected, RecordNotFound, StorageError
from archive.fsutil import atomic_write, atomic_write_bytes
from archive.home import ArchiveHome, Settings
from archive.manifest import ManifestFile, build_manifest, sign_manifest
from archive.models import AccessLevel, FileRole, QuarantineEntry, Record, RecordFile, Seal
from archive.signing import Signer, Verifier, create_key_pair

RECORD_ID_HEX_CHARS = 24


def record_id_for(original_sha256: str) -> str:
    """Records are named after their original's hash: re-ingesting a file finds its record."""
    return original_sha256[:RECORD_ID_HEX_CHARS]


@dataclass(frozen=True)
class IncomingFile:
    role: FileRole
    media_type: str
    name: str
    path: Path | None = None
    data: bytes | None = None
    # The hash the caller saw when it read the file; sealing refuses bytes that differ from it.
    expected_sha256: str | None = None


@dataclass(frozen=True)
class Description:
    """Descriptive metadata of a document (Circular 05/2025/TT-BNV, "A document")."""

    title: str = ""
    doc_number: str = ""
    doc_type: str = ""
    issuer: str = ""
    issued_date: date | None = None
    place: str = ""
    subject: str = ""
    language: str = "vi"
    page_count: int = 0

    def as_manifest(self) -> dict[str, Any]:
        values = asdict(self)
        values["issued_date"] = self.issued_date.isoformat() if self.issued_date else None
        return values


@dataclass(frozen=True)
class Placement:
    """Where a record sits: its series, access level and the year its file was closed."""

    access: AccessLevel = AccessLevel.INTERNAL
    series_code: str | None = None
    closed_year: int | None = None


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

    @classmethod
    def open(cls, home: ArchiveHome) -> Archive:
        settings = home.settings()
        archive = cls(home, settings, LocalBlobStore(home.blobs_dir))
        upgrade_schema(archive.engine)
        return archive

    @classmethod
    def initialise(cls, home: ArchiveHome) -> InitReport:
        """Create what is missing of an archive home; never touch what exists."""
        created_config = home.write_default_config()
        for directory in (home.blobs_dir, home.index_dir, home.quarantine_dir):
            directory.mkdir(parents=True, exist_ok=True)
        created_key = create_key_pair(home.keys_dir)
        archive = cls.open(home)
        try:
            key_id = archive.verifier().key_id
        finally:
            archive.close()
        return InitReport(home.root, created_config, created_key, key_id)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def session(self) -> Session:
        return self._sessions()

    def signer(self) -> Signer:
        # Loaded on first seal only, so read-only processes (API, verify) never hold the key.
        if self._signer is None:
            self._signer = Signer.load(self.home.keys_dir)
        return self._signer

    def verifier(self) -> Verifier:
        return Verifier.load(self.home.keys_dir)

    # --- writing -------------------------------------------------------------------------

    def find_by_original(self, sha256: str) -> str | None:
        with self.session() as session:
            return session.scalar(
                select(RecordFile.record_id).where(
                    RecordFile.sha256 == sha256, RecordFile.role == FileRole.ORIGINAL.value
                )
            )

    def _store_blob(self, incoming: IncomingFile) -> ManifestFile:
        if incoming.path is not None:
            try:
                handle = incoming.path.open("rb")
            except OSError as exc:
                raise InputRejected(str(incoming.path), f"cannot read: {exc.strerror}") from exc
            with handle:
                sha256, size = self.blobs.put_stream(handle)
        elif incoming.data is not None:
            sha256, size = self.blobs.put_bytes(incoming.data), len(incoming.data)
        else:
            raise ValueError(f"incoming {incoming.role.value} file has neither path nor data")
        if incoming.expected_sha256 not in (None, sha256):
            raise InputRejected(
                str(incoming.path or incoming.name), "the file changed while it was being ingested"
            )
        return ManifestFile(incoming.role.value, incoming.media_type, size, sha256, incoming.name)

    def seal(
        self,
        files: list[IncomingFile],
        description: Description,
        placement: Placement,
        source_name: str,
    ) -> SealOutcome:
        """Store the files, sign a manifest, commit the record. The first file is the original."""
        with _storage_faults(f"sealing {source_name}"):
            original = self._store_blob(files[0])
            existing = self.find_by_original(original.sha256)
            if existing is not None:
                return SealOutcome(existing, duplicate=True)
            stored = [original, *(self._store_blob(incoming) for incoming in files[1:])]
            record = self._signed_record(stored, description, placement, source_name)
            return self._commit(record, original.sha256)

    def _signed_record(
        self,
        stored: list[ManifestFile],
        description: Description,
        placement: Placement,
        source_name: str,
    ) -> Record:
        """The record row with its files and seal; its manifest is signed and stored as a blob."""
        record_id = record_id_for(stored[0].sha256)
        sealed_at = _now()
        manifest = build_manifest(
            record_id=record_id,
            sealed_at=sealed_at.isoformat(),
            files=stored,
            description={
                **description.as_manifest(),
                "access": placement.access.value,
                "series_code": placement.series_code,
                "closed_year": placement.closed_year,
                "source_name": source_name,
            },
        )
        signed = sign_manifest(manifest, self.signer())
        return Record(
            id=record_id,
            title=description.title,
            series_code=placement.series_code,
            access=placement.access.value,
            closed_year=placement.closed_year,
            doc_number=description.doc_number,
            doc_type=description.doc_type,
            issuer=description.issuer,
            issued_date=description.issued_date,
            place=description.place,
            subject=description.subject,
            language=description.language,
            page_count=description.page_count,
            source_name=source_name,
            ingested_at=sealed_at,
            files=[
                RecordFile(
                    role=f.role, media_type=f.media_type, size=f.size, sha256=f.sha256, name=f.name
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

    def _commit(self, record: Record, original_sha256: str) -> SealOutcome:
        try:
            with self.session() as session, session.begin():
                session.add(record)
        except sa_exc.IntegrityError:
            # Another process sealed the same original between our check and our commit.
            existing = self.find_by_original(original_sha256)
            if existing is None:
                raise
            return SealOutcome(existing, duplicate=True)
        return SealOutcome(record.id, duplicate=False)

    def quarantine(self, source: Path, reason: str, keep_copy: bool = True) -> QuarantineEntry:
        """Keep a copy of a rejected input and why; the input itself is only read."""
        try:
            sha256, size = sha256_file(source)
        except OSError:
            sha256, size, keep_copy = "", 0, False
        with _storage_faults(f"quarantining {source}"):
            if keep_copy:
                folder = self.home.quarantine_dir / (sha256 or "unreadable")
                atomic_write(folder / source.name, _read_chunks(source))
                atomic_write_bytes(folder / "REASON.txt", f"{source}\n{reason}\n".encode())
            with self.session() as session, session.begin():
                # Re-running a batch meets the same bad file again: one entry, latest reason.
                entry = session.scalar(
                    select(QuarantineEntry).where(
                        QuarantineEntry.source_path == str(source),
                        QuarantineEntry.sha256 == sha256,
                    )
                )
                if entry is None:
                    entry = QuarantineEntry(source_path=str(source), sha256=sha256, size=size)
                    session.add(entry)
                entry.reason = reason
                entry.quarantined_at = _now()
        return entry

    # --- reading -------------------------------------------------------------------------

    def get(self, record_id: str, clearance: AccessLevel) -> Record:
        """The record, if it exists and ``clearance`` permits it; otherwise ``RecordNotFound``.

        Both cases read the same, so an id probe cannot tell a restricted record exists.
        """
        with self.session() as session:
            record = session.scalar(
                select(Record)
                .where(Record.id == record_id)
                .options(selectinload(Record.files), selectinload(Record.seal))
            )
        if record is None or not clearance.permits(record.access_level):
            raise RecordNotFound(f"no record {record_id!r}")
        return record

    def text_of(self, record: Record) -> str:
        text_file = record.file(FileRole.OCR_TEXT)
        if text_file is None:
            return ""
        return self.blobs.read_bytes(text_file.sha256).decode("utf-8")

    def record_ids(self) -> list[str]:
        with self.session() as session:
            return list(session.scalars(select(Record.id).order_by(Record.id)))

    def count_records(self) -> int:
        with self.session() as session:
            return session.scalar(select(func.count()).select_from(Record)) or 0

    def iter_records(self, ids: list[str] | None = None) -> Iterator[Record]:
        wanted = self.record_ids() if ids is None else ids
        for start in range(0, len(wanted), 500):
            with self.session() as session:
                yield from session.scalars(
                    select(Record)
                    .where(Record.id.in_(wanted[start : start + 500]))
                    .options(selectinload(Record.files), selectinload(Record.seal))
                )

    def quarantined(self) -> list[QuarantineEntry]:
        with self.session() as session:
            return list(session.scalars(select(QuarantineEntry).order_by(QuarantineEntry.id)))


@contextmanager
def _storage_faults(doing: str) -> Iterator[None]:
    try:
        yield
    except OSError as exc:
        raise StorageError(f"cannot write the archive while {doing}: {exc}") from exc
    except sa_exc.SQLAlchemyError as exc:
        raise StorageError(f"database failure while {doing}: {exc}") from exc


def _read_chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK_SIZE):
            yield chunk
