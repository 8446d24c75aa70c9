"""The archive's database schema (SQLAlchemy 2). Alembic migrations in archive/migrations create it.

The database is the point of truth: a record exists once its row, its files and its seal are
committed together in one transaction.
"""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from archive.errors import IntegrityError


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every database: SQLite keeps no zone, so values read back naive
    are UTC by construction and get their zone back here."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetimes are ambiguous; pass an aware UTC datetime")
        return None if value is None else value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    pass


class AccessLevel(enum.StrEnum):
    """Chế độ sử dụng, from most open to most closed; ``rank`` orders them."""

    PUBLIC = "public"
    INTERNAL = "internal"
    CONFIDENTIAL = "confidential"
    SECRET = "secret"

    @property
    def rank(self) -> int:
        return list(AccessLevel).index(self)

    def permits(self, record_level: AccessLevel) -> bool:
        """Whether a reader cleared to ``self`` may see a record at ``record_level``."""
        return record_level.rank <= self.rank


class FileRole(enum.StrEnum):
    ORIGINAL = "original"
    OCR_TEXT = "ocr-text"
    # A document carried inside the original (an edXML package's base64 attachments).
    ATTACHMENT = "attachment"
    # The PDF/A-2b copy made from the scan: page images with the OCR text under them.
    ARCHIVAL = "archival"


def access_level_of(record_id: str, access: str) -> AccessLevel:
    """A record's access level as its row holds it."""
    try:
        return AccessLevel(access)
    except ValueError:
        # Only a hand-edited row gets here; treated as damage, never as "public".
        raise IntegrityError(
            f"record {record_id} has an unknown access level {access!r} in the database"
        ) from None


class Record(Base):
    __tablename__ = "records"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    # The full sha256 of the original is its key; the id is a short name for people. Nullable
    # only because SQLite cannot add a NOT NULL column to a table others refer to; every
    # record has one (migration 0002 fills it for records made before).
    original_sha256: Mapped[str | None] = mapped_column(String(64), unique=True, index=True)
    title: Mapped[str] = mapped_column(Text, default="")
    series_code: Mapped[str | None] = mapped_column(Text, index=True)
    access: Mapped[str] = mapped_column(String(16), default=AccessLevel.INTERNAL.value)
    closed_year: Mapped[int | None] = mapped_column(Integer)
    # Vietnamese document metadata (Circular 05/2025/TT-BNV); filled by metadata extraction.
    # Text, not bounded strings: edXML headers and edits can be long, and PostgreSQL would
    # refuse a longer value where SQLite takes it.
    doc_number: Mapped[str] = mapped_column(Text, default="")
    doc_type: Mapped[str] = mapped_column(Text, default="")
    # The type name as the document writes it ("QUYẾT ĐỊNH"); empty for a công văn.
    type_name: Mapped[str] = mapped_column(Text, default="", server_default="")
    issuer: Mapped[str] = mapped_column(Text, default="")
    issued_date: Mapped[date | None] = mapped_column(Date)
    place: Mapped[str] = mapped_column(Text, default="")
    subject: Mapped[str] = mapped_column(Text, default="")
    language: Mapped[str] = mapped_column(Text, default="vi")
    page_count: Mapped[int] = mapped_column(Integer, default=0)
    source_name: Mapped[str] = mapped_column(Text, default="")
    ingested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Who ran the ingest (the operator's login, or the user luutru was told to act as).
    ingested_by: Mapped[str] = mapped_column(Text, default="", server_default="")
    # RecordStatus: active, xem-xet-huy (proposed for destruction), destroyed, transferred.
    status: Mapped[str] = mapped_column(String(16), default="active", server_default="active")
    # When the status last changed by a disposition, by whom, under which list.
    disposed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    disposed_by: Mapped[str | None] = mapped_column(Text)
    disposal_list_id: Mapped[int | None] = mapped_column(Integer)
    # Incoming digital signatures as validated at ingest (signed PDFs, edXML XMLDSig): per
    # signature its kind, status, signer, chain, signing time and reason; sealed too.
    signatures: Mapped[list[dict[str, object]] | None] = mapped_column(JSON)
    # What ingest found wanting but archived anyway (e.g. a scan under 200 dpi).
    warnings: Mapped[list[str] | None] = mapped_column(JSON)
    # Per page: {"number", "confidence" (mean word confidence, 0-100, or null), "flagged"}.
    pages: Mapped[list[dict[str, object]] | None] = mapped_column(JSON)

    files: Mapped[list[RecordFile]] = relationship(
        back_populates="record",
        cascade="all, delete-orphan",
        order_by="[RecordFile.role, RecordFile.id]",
    )
    seal: Mapped[Seal | None] = relationship(back_populates="record", uselist=False)

    @property
    def access_level(self) -> AccessLevel:
        return access_level_of(self.id, self.access)

    def file(self, role: FileRole, n: int = 0) -> RecordFile | None:
        """The record's ``n``-th file of ``role`` (0 first, in the order they were sealed)."""
        of_role = [f for f in self.files if f.role == role.value]
        return of_role[n] if 0 <= n < len(of_role) else None


class RecordFile(Base):
    __tablename__ = "record_files"
    __table_args__ = (UniqueConstraint("record_id", "role", "sha256"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    record_id: Mapped[str] = mapped_column(ForeignKey("records.id"), index=True)
    role: Mapped[str] = mapped_column(String(32))
    media_type: Mapped[str] = mapped_column(Text)
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    # Null for files sealed before manifests carried a second hash (manifest format 1).
    sha512: Mapped[str | None] = mapped_column(String(128))
    name: Mapped[str] = mapped_column(Text, default="")

    record: Mapped[Record] = relationship(back_populates="files")


class Seal(Base):
    __tablename__ = "seals"

    record_id: Mapped[str] = mapped_column(ForeignKey("records.id"), primary_key=True)
    manifest_sha256: Mapped[str] = mapped_column(String(64))
    signature: Mapped[str] = mapped_column(Text)
    key_id: Mapped[str] = mapped_column(String(32))
    algorithm: Mapped[str] = mapped_column(String(16))
    sealed_at: Mapped[datetime] = mapped_column(UTCDateTime)

    record: Mapped[Record] = relationship(back_populates="seal")


class QuarantineEntry(Base):
    """An input that could not be archived, kept with the reason so a clerk can act on it."""

    __tablename__ = "quarantine"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source_path: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(Text)
    quarantined_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # What the input was to become (ingest's --access, --series, --closed-year), so that a
    # retry never archives a secret scan at a lower level.
    access: Mapped[str | None] = mapped_column(String(16))
    series_code: Mapped[str | None] = mapped_column(Text)
    closed_year: Mapped[int | None] = mapped_column(Integer)


class RecordChange(Base):
    """One field of a record changed after sealing (``luutru edit``): who, when, why, and the
    manifest that seals the record as changed."""

    __tablename__ = "record_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    record_id: Mapped[str] = mapped_column(ForeignKey("records.id"), index=True)
    field: Mapped[str] = mapped_column(String(64))
    old_value: Mapped[str | None] = mapped_column(Text)
    new_value: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)
    changed_by: Mapped[str] = mapped_column(Text)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    manifest_sha256: Mapped[str] = mapped_column(String(64))


class LogEntry(Base):
    """One entry of the archive's append-only log (``archive.log``): its leaf number, what
    kind of statement it is, and the blob holding its exact bytes (for a seal, the manifest).

    No foreign key to ``records``: the log must outlive a record, lawfully destroyed or not,
    so that a record that vanished is still named by the log.
    """

    __tablename__ = "log_entries"

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(String(32))
    record_id: Mapped[str | None] = mapped_column(String(32), index=True)
    entry_sha256: Mapped[str] = mapped_column(String(64), index=True)
    logged_at: Mapped[datetime] = mapped_column(UTCDateTime)


class LogNode(Base):
    """A perfect subtree of the log's Merkle tree (``archive.merkle``): never changes."""

    __tablename__ = "log_nodes"

    level: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    idx: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class LogHead(Base):
    """The log's one head row: its origin (the name in its checkpoints) and size. Every
    append updates it first, which serialises appends across processes."""

    __tablename__ = "log_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    origin: Mapped[str] = mapped_column(Text)
    size: Mapped[int] = mapped_column(BigInteger, default=0)


class LogCheckpoint(Base):
    """A signed checkpoint (c2sp.org/tlog-checkpoint) of the log at ``size``, and the same
    note with a witness's co-signature once one was added (``luutru log cosign``)."""

    __tablename__ = "log_checkpoints"

    size: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    root: Mapped[bytes] = mapped_column(LargeBinary(32))
    note: Mapped[str] = mapped_column(Text)
    key_id: Mapped[str] = mapped_column(String(32))
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    witnessed_note: Mapped[str | None] = mapped_column(Text)


class Event(Base):
    """What happened to a record, PREMIS-style (fixity check, ingestion, modification,
    disposition …): when, by whom, with what outcome. ``record_id`` is kept even after the
    record is gone."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    kind: Mapped[str] = mapped_column(String(64))
    record_id: Mapped[str | None] = mapped_column(String(32), index=True)
    outcome: Mapped[str] = mapped_column(String(16))
    agent: Mapped[str] = mapped_column(Text, default="")
    detail: Mapped[str] = mapped_column(Text, default="")


class RecordStatus(enum.StrEnum):
    """Where a record stands in its life (not sealed: the log proves each change of it)."""

    ACTIVE = "active"
    # Proposed for destruction: Circular 06/2025/TT-BNV's "Xem xét hủy".
    REVIEW_DESTROY = "xem-xet-huy"
    DESTROYED = "destroyed"
    TRANSFERRED = "transferred"


class User(Base):
    """A person who uses the archive: a role (what they may do) and a clearance (what they may
    read). The API key is shown once at creation; only its sha256 is kept."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    clearance: Mapped[str] = mapped_column(String(16))
    key_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(Text, default="")
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Hold(Base):
    """A legal hold: while active, none of its records may be disposed of, whatever else is
    said. ``kind`` is record, series or query; a query hold keeps the records it matched."""

    __tablename__ = "holds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))
    target: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    released_by: Mapped[str | None] = mapped_column(Text)
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Why it was released, as ``reason`` says why it was put (a case closed, a court's order).
    release_reason: Mapped[str | None] = mapped_column(Text)
    records: Mapped[list[HoldRecord]] = relationship(cascade="all, delete-orphan")


class HoldRecord(Base):
    __tablename__ = "hold_records"

    hold_id: Mapped[int] = mapped_column(ForeignKey("holds.id"), primary_key=True)
    record_id: Mapped[str] = mapped_column(String(32), primary_key=True, index=True)


class DisposalList(Base):
    """A proposal to destroy or transfer records (Circular 06/2025/TT-BNV): proposed by one
    user, approved by two others with the approver role, then executed, unless an approver
    cancels it first."""

    __tablename__ = "disposal_lists"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    action: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    as_of: Mapped[date] = mapped_column(Date)
    proposed_by: Mapped[str] = mapped_column(Text)
    proposed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    executed_by: Mapped[str | None] = mapped_column(Text)
    executed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The record of destruction (biên bản hủy tài liệu), itself a sealed record.
    report_record_id: Mapped[str | None] = mapped_column(String(32))
    # A list cancelled before it was carried out (status "cancelled"): its records are free
    # to be proposed again.
    cancelled_by: Mapped[str | None] = mapped_column(Text)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    items: Mapped[list[DisposalItem]] = relationship(
        cascade="all, delete-orphan", order_by="DisposalItem.record_id"
    )
    approvals: Mapped[list[Approval]] = relationship(
        cascade="all, delete-orphan", order_by="Approval.approved_at"
    )


class DisposalItem(Base):
    __tablename__ = "disposal_items"

    list_id: Mapped[int] = mapped_column(ForeignKey("disposal_lists.id"), primary_key=True)
    record_id: Mapped[str] = mapped_column(String(32), primary_key=True, index=True)
    done: Mapped[bool] = mapped_column(default=False)


class Approval(Base):
    __tablename__ = "approvals"

    list_id: Mapped[int] = mapped_column(ForeignKey("disposal_lists.id"), primary_key=True)
    user_name: Mapped[str] = mapped_column(String(128), primary_key=True)
    approved_at: Mapped[datetime] = mapped_column(UTCDateTime)
