"""The archive's append-only log: every manifest and every later event (a revision, a key
rotation, a disposition) as an entry of an RFC 9162 Merkle tree, with signed checkpoints.

Rules:
- an entry is appended in the transaction that makes it true (the seal of a record, its
  revision …), so the database never holds a record the log does not, nor the reverse;
- appends are serialised by updating the log's head row first: on SQLite that takes the write
  lock before anything is read, on PostgreSQL a row lock, so two processes never append at
  the same leaf number;
- entry bytes live in the blob store (content-addressed); the entry row names them;
- the tree is stored as its perfect subtrees (``archive.merkle``): an append reads O(log n)
  nodes in one query, a proof as well; nothing is ever rehashed except by ``audit``;
- each transaction that appends ends with a checkpoint (c2sp.org/tlog-checkpoint) of the new
  size, signed with the archive key as a note key named by the log's origin.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import NamedTuple

from sqlalchemy import Select, and_, bindparam, func, insert, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from archive import merkle
from archive.blobstore import BlobStore
from archive.checkpoint import (
    Checkpoint,
    NoteError,
    NoteVerifier,
    open_checkpoint,
    sign_checkpoint,
)
from archive.errors import IntegrityError
from archive.models import LogCheckpoint, LogEntry, LogHead, LogNode, Record, Seal
from archive.signing import Keyring, Signer, TrustedKeys

HEAD_ID = 1
# SQLite allows 32,766 bound variables; a proof or an append needs a few dozen nodes.
_NODES_PER_QUERY = 2000


class EntryKind:
    SEAL = "seal"
    REVISION = "revision"
    KEY_ROTATION = "key-rotation"
    DISPOSITION = "disposition"
    TRANSFER = "transfer"


# The formats of the entries that are not manifests (``archive.manifest``).
ROTATION_FORMAT = "luutru-key-rotation/1"
DISPOSITION_FORMAT = "luutru-disposition/1"
TRANSFER_FORMAT = "luutru-transfer/1"
_MANIFEST_FORMATS = ("luutru-manifest/1", "luutru-manifest/2")


def entry_says(data: bytes) -> tuple[str, str | None] | None:
    """What an entry's own bytes say it is: (kind, record id), or None when they are no
    entry luutru writes. The ``kind`` and ``record_id`` columns of an entry row are not in
    what the tree hashes: the audit believes only this."""
    try:
        value = json.loads(data)
    except (UnicodeDecodeError, ValueError):
        return None
    if not isinstance(value, dict):
        return None
    form, record_id = value.get("format"), value.get("record_id")
    if form in _MANIFEST_FORMATS and isinstance(record_id, str):
        revised = isinstance(value.get("revision"), int) and value["revision"] > 0
        return (EntryKind.REVISION if revised else EntryKind.SEAL), record_id
    if form == DISPOSITION_FORMAT and isinstance(record_id, str):
        return EntryKind.DISPOSITION, record_id
    if form == TRANSFER_FORMAT and isinstance(record_id, str):
        return EntryKind.TRANSFER, record_id
    if form == ROTATION_FORMAT:
        return EntryKind.KEY_ROTATION, None
    return None


class SqlNodeStore:
    """``merkle.NodeStore`` on the ``log_nodes`` table of a session, with the nodes this
    transaction added (written at once, and kept here so that they are not read back)."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.pending: dict[merkle.NodeKey, bytes] = {}
        # Nodes read in this transaction: a stored node never changes.
        self.read: dict[merkle.NodeKey, bytes] = {}

    def get_many(self, keys: Iterable[merkle.NodeKey]) -> dict[merkle.NodeKey, bytes]:
        wanted = list(dict.fromkeys(keys))
        found: dict[merkle.NodeKey, bytes] = {}
        missing = []
        for key in wanted:
            value = self.pending.get(key) or self.read.get(key)
            if value is None:
                missing.append(key)
            else:
                found[key] = value
        if not missing:
            return found
        connection = self.session.connection()
        for start in range(0, len(missing), _NODES_PER_QUERY):
            chunk = missing[start : start + _NODES_PER_QUERY]
            values: dict[str, int] = {}
            for k, (level, idx) in enumerate(chunk):
                values[f"l{k}"], values[f"i{k}"] = level, idx
            for level, idx, value in connection.execute(_nodes_query(len(chunk)), values):
                found[(level, idx)] = self.read[(level, idx)] = value
        return found

    def put_many(self, nodes: Iterable[merkle.Node]) -> None:
        rows = []
        for level, idx, value in nodes:
            self.pending[(level, idx)] = value
            rows.append({"level": level, "idx": idx, "hash": value})
        if rows:
            # A Core executemany on the session's connection, in its transaction: an ORM
            # object a node, or even the ORM's bulk insert, cost twice as much.
            self.session.connection().execute(_INSERT_NODES, rows)


# Statements built once: building one (and its cache key) cost more than running it.
_INSERT_NODES = insert(LogNode)
_INSERT_ENTRIES = insert(LogEntry)
_INSERT_CHECKPOINT = insert(LogCheckpoint)
_LOCK_HEAD = update(LogHead).where(LogHead.id == HEAD_ID).values(size=LogHead.size)
_SET_HEAD_SIZE = update(LogHead).where(LogHead.id == HEAD_ID).values(size=bindparam("size"))
_CHECKPOINT_OF_SIZE = select(LogCheckpoint.size).where(LogCheckpoint.size == bindparam("size"))


def _nodes_query(count: int) -> Select[int, int, bytes]:
    """SELECT of ``count`` nodes by key. Building the clause was what a lookup of a few
    nodes cost most, so the sizes an append or a proof asks for (O(log n) nodes) are built
    once and kept; larger ones (rare) are built each time, to keep the cache small."""
    return _small_nodes_query(count) if count <= _CACHED_QUERY_SIZES else _build_nodes_query(count)


_CACHED_QUERY_SIZES = 128


@lru_cache(maxsize=_CACHED_QUERY_SIZES)
def _small_nodes_query(count: int) -> Select[int, int, bytes]:
    return _build_nodes_query(count)


def _build_nodes_query(count: int) -> Select[int, int, bytes]:
    # An OR of pairs: SQLite scans the table for a row-value IN (VALUES …).
    clause = or_(
        *(
            and_(LogNode.level == bindparam(f"l{k}"), LogNode.idx == bindparam(f"i{k}"))
            for k in range(count)
        )
    )
    return select(LogNode.level, LogNode.idx, LogNode.hash).where(clause)


@dataclass(frozen=True)
class Appended:
    seq: int
    size: int


class LogWriter:
    """Appends to the log inside the caller's transaction; ``lock`` must come first."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.nodes = SqlNodeStore(session)
        self._head: LogHead | None = None

    def lock(self) -> LogHead:
        self.session.connection().execute(_LOCK_HEAD)
        head = self.session.get(LogHead, HEAD_ID, populate_existing=True)
        if head is None:
            raise IntegrityError("the log's head row is missing from the database")
        self._head = head
        return head

    def append(
        self,
        kind: str,
        entry: bytes,
        entry_sha256: str,
        record_id: str | None,
        at: datetime | None = None,
    ) -> Appended:
        return self.append_many([(kind, entry, entry_sha256, record_id)], at)[0]

    def append_many(
        self, entries: list[tuple[str, bytes, str, str | None]], at: datetime | None = None
    ) -> list[Appended]:
        """Append ``(kind, entry bytes, entry sha256, record id)`` in order, one lookup."""
        head = self._head
        if head is None:
            raise RuntimeError("LogWriter.lock() must be called before appending")
        if not entries:
            return []
        when = at or datetime.now(UTC)
        first, new_size = head.size, head.size + len(entries)
        # One query for the nodes this append reads and those the root of the new size
        # needs (its checkpoint's), which the append does not make itself.
        self.nodes.get_many(
            [*merkle.append_plan(first, len(entries)), *merkle.root_plan(new_size).keys()]
        )
        self.nodes.put_many(merkle.new_nodes_batch(first, [e[1] for e in entries], self.nodes))
        rows = [
            {
                "seq": first + k,
                "kind": kind,
                "record_id": record_id,
                "entry_sha256": entry_sha256,
                "logged_at": when,
            }
            for k, (kind, _entry, entry_sha256, record_id) in enumerate(entries)
        ]
        connection = self.session.connection()
        # One Core executemany, like the nodes: the bulk path appends thousands.
        connection.execute(_INSERT_ENTRIES, rows)
        connection.execute(_SET_HEAD_SIZE, {"size": new_size})
        # The head row says so already: the ORM must not write it again at commit.
        set_committed_value(head, "size", new_size)
        return [Appended(seq, seq + 1) for seq in range(first, new_size)]

    def root(self) -> bytes:
        assert self._head is not None
        return merkle.root(self._head.size, self.nodes)

    def checkpoint(self, signer: Signer, at: datetime | None = None) -> LogCheckpoint:
        """Sign the log at its current size (once per size)."""
        assert self._head is not None
        size = self._head.size
        connection = self.session.connection()
        if connection.execute(_CHECKPOINT_OF_SIZE, {"size": size}).first() is not None:
            existing = self.session.get(LogCheckpoint, size)
            if existing is not None:
                return existing
        root = self.root()
        note = sign_checkpoint(
            Checkpoint(self._head.origin, size, root), [signer.note_signer(self._head.origin)]
        )
        values = {
            "size": size,
            "root": root,
            "note": note.decode("utf-8"),
            "key_id": signer.key_id,
            "signed_at": at or datetime.now(UTC),
        }
        # Written at once (like the entries and nodes), so that a second call sees it.
        connection.execute(_INSERT_CHECKPOINT, values)
        return LogCheckpoint(**values)


# --- reading -------------------------------------------------------------------------------


def head(session: Session) -> LogHead:
    found = session.get(LogHead, HEAD_ID)
    if found is None:
        raise IntegrityError("the log's head row is missing from the database")
    return found


def latest_checkpoint(session: Session) -> LogCheckpoint | None:
    return session.scalar(select(LogCheckpoint).order_by(LogCheckpoint.size.desc()).limit(1))


def inclusion_proof(session: Session, seq: int, size: int) -> list[bytes]:
    return merkle.inclusion_proof(seq, size, SqlNodeStore(session))


def consistency_proof(session: Session, old_size: int, new_size: int) -> list[bytes]:
    return merkle.consistency_proof(old_size, new_size, SqlNodeStore(session))


def entries_of(session: Session, record_id: str) -> list[LogEntry]:
    return list(
        session.scalars(
            select(LogEntry).where(LogEntry.record_id == record_id).order_by(LogEntry.seq)
        )
    )


# --- audit ---------------------------------------------------------------------------------


@dataclass
class LogAudit:
    """What ``audit`` found: the log's size, its damage, and what it says of records."""

    size: int = 0
    checkpoints: int = 0
    problems: list[str] = field(default_factory=list)
    # record id -> the manifest sha256 of its newest seal or revision entry
    newest_manifest: dict[str, str] = field(default_factory=dict)
    manifests: set[str] = field(default_factory=set)
    disposed: set[str] = field(default_factory=set)
    checkpoint_keys: set[str] = field(default_factory=set)
    # Trust, not damage: key id -> how many checkpoints were signed by that archive key,
    # which is not among the trusted ones given.
    untrusted_checkpoints: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems


class _RightEdge:
    """The perfect subtrees at the right edge of a tree being rebuilt leaf by leaf."""

    def __init__(self) -> None:
        self.edge: dict[int, bytes] = {}
        self.size = 0

    def add(self, leaf: bytes) -> list[merkle.Node]:
        value, level = merkle.leaf_hash(leaf), 0
        made = [(0, self.size, value)]
        while (self.size >> level) & 1:
            value = merkle.node_hash(self.edge.pop(level), value)
            level += 1
            made.append((level, ((self.size + 1) >> level) - 1, value))
        self.edge[level] = value
        self.size += 1
        return made

    def root(self) -> bytes:
        if not self.edge:
            return merkle.EMPTY_ROOT
        levels = sorted(self.edge)
        value = self.edge[levels[0]]
        for level in levels[1:]:
            value = merkle.node_hash(self.edge[level], value)
        return value


def audit(session: Session, blobs: BlobStore, keyring: Keyring, trusted: TrustedKeys) -> LogAudit:
    """Rebuild the tree from the entries' bytes, in order, and compare it with the stored
    nodes and with every signed checkpoint: a deleted, changed or reordered entry changes the
    root of every checkpoint after it.

    Entries are read a page at a time, and the stored nodes a page of entries completes with
    one range query per level: never a query per entry."""
    found = LogAudit()
    log_head = head(session)
    found.checkpoints = session.scalar(select(func.count()).select_from(LogCheckpoint)) or 0
    rebuilt = _RightEdge()
    verifiers: dict[str, NoteVerifier] = {}
    expected_seq = 0
    for page in _entry_pages(session):
        first, last = rebuilt.size, rebuilt.size + len(page)
        stored = _completed_nodes(session, first, len(page))
        checkpoints = _checkpoints_reached(session, first, last)
        for seq, kind, record_id, entry_sha256 in page:
            if seq != expected_seq:
                found.problems.append(f"log entry {expected_seq} is missing (next is {seq})")
                expected_seq = seq
            try:
                data = blobs.read_bytes(entry_sha256)
            except IntegrityError as exc:
                found.problems.append(f"log entry {seq}: {exc}")
                data = b""
            else:
                _note_entry(found, seq, (kind, record_id), entry_says(data), entry_sha256)
            for level, idx, value in rebuilt.add(data):
                if stored.get((level, idx)) != value:
                    found.problems.append(f"log node ({level}, {idx}) disagrees with the entries")
                    break
            expected_seq += 1
            if rebuilt.size in checkpoints:
                _check_checkpoint(
                    found,
                    checkpoints[rebuilt.size],
                    rebuilt.root(),
                    log_head.origin,
                    keyring,
                    trusted,
                    verifiers,
                )
    found.size = rebuilt.size
    if log_head.size != rebuilt.size:
        found.problems.append(f"the log's head says {log_head.size} entries, it has {found.size}")
    # Every append ends with a checkpoint of the new size: without one at the end, the
    # entries could have been rewritten by someone who holds the database but not the key.
    newest = session.scalar(select(func.max(LogCheckpoint.size)))
    if found.size and newest != found.size:
        found.problems.append(
            f"no signed checkpoint covers the log's {found.size} entries"
            + (f" (the newest is of {newest})" if newest else "")
        )
    beyond = select(LogCheckpoint.size).where(
        or_(LogCheckpoint.size > rebuilt.size, LogCheckpoint.size < 0)
    )
    for size in session.scalars(beyond.order_by(LogCheckpoint.size)):
        found.problems.append(f"a checkpoint of {size} entries is signed, the log has fewer")
    return found


class _SignedCheckpoint(NamedTuple):
    size: int
    root: bytes
    note: str
    key_id: str
    witnessed_note: str | None


_ENTRIES_PER_PAGE = 5000
_LEVEL_RANGE = select(LogNode.level, LogNode.idx, LogNode.hash).where(
    LogNode.level == bindparam("level"), LogNode.idx.between(bindparam("low"), bindparam("high"))
)


def _entry_pages(session: Session) -> Iterator[list[tuple[int, str, str | None, str]]]:
    """The entries in order of ``seq``, as (seq, kind, record id, entry sha256), a page at a
    time."""
    last = -1
    while True:
        page = [
            (seq, kind, record_id, entry_sha256)
            for seq, kind, record_id, entry_sha256 in session.execute(
                select(LogEntry.seq, LogEntry.kind, LogEntry.record_id, LogEntry.entry_sha256)
                .where(LogEntry.seq > last)
                .order_by(LogEntry.seq)
                .limit(_ENTRIES_PER_PAGE)
            )
        ]
        if not page:
            return
        yield page
        last = page[-1][0]


def _completed_nodes(session: Session, first: int, count: int) -> dict[merkle.NodeKey, bytes]:
    """The stored nodes that leaves ``first`` … ``first + count - 1`` complete. Leaf ``p``
    completes node (level, (p + 1) / 2**level - 1) when 2**level divides p + 1, so at each
    level they are a run of consecutive indices: one range query per level."""
    found: dict[merkle.NodeKey, bytes] = {}
    end = first + count
    connection = session.connection()
    for level in range(end.bit_length()):
        low, high = ((first + (1 << level)) >> level) - 1, (end >> level) - 1
        if low > high:
            continue
        bounds = {"level": level, "low": low, "high": high}
        for stored_level, idx, value in connection.execute(_LEVEL_RANGE, bounds):
            found[(stored_level, idx)] = value
    return found


def _checkpoints_reached(session: Session, first: int, last: int) -> dict[int, _SignedCheckpoint]:
    """The checkpoints of sizes ``first + 1`` … ``last``, which the tree passes through while
    a page of entries is added (columns only: no ORM object a checkpoint)."""
    columns = (LogCheckpoint.size, LogCheckpoint.root, LogCheckpoint.note, LogCheckpoint.key_id,
               LogCheckpoint.witnessed_note)  # fmt: skip
    query = select(*columns).where(LogCheckpoint.size > first, LogCheckpoint.size <= last)
    return {row.size: _SignedCheckpoint(*row) for row in session.execute(query)}


def _note_entry(
    found: LogAudit,
    seq: int,
    row: tuple[str, str | None],
    said: tuple[str, str | None] | None,
    entry_sha256: str,
) -> None:
    """What an entry tells of records, from its bytes; a row that says otherwise is damage."""
    if said is None:
        found.problems.append(f"log entry {seq}: its bytes are not an entry luutru writes")
        return
    if row != said:
        found.problems.append(
            f"log entry {seq}: the database calls it {_told(row)}, its bytes {_told(said)}"
        )
    kind, record_id = said
    if kind in (EntryKind.SEAL, EntryKind.REVISION) and record_id:
        found.newest_manifest[record_id] = entry_sha256
        found.manifests.add(entry_sha256)
    elif kind == EntryKind.DISPOSITION and record_id:
        found.disposed.add(record_id)


def _told(entry: tuple[str, str | None]) -> str:
    kind, record_id = entry
    return f"a {kind} of record {record_id}" if record_id else f"a {kind}"


def _check_checkpoint(
    found: LogAudit,
    row: _SignedCheckpoint,
    root: bytes,
    origin: str,
    keyring: Keyring,
    trusted: TrustedKeys,
    verifiers: dict[str, NoteVerifier],
) -> None:
    where = f"checkpoint of {row.size} entries"
    if row.root != root:
        found.problems.append(f"{where}: its root is not the root of the entries")
        return
    signer = keyring.get(row.key_id)
    if signer is None:
        found.problems.append(f"{where}: signed by key {row.key_id}, which is not published")
        return
    if trusted.pinned and not trusted.trusts(signer):
        counts = found.untrusted_checkpoints
        counts[row.key_id] = counts.get(row.key_id, 0) + 1
    try:
        verifier = verifiers.get(row.key_id)
        if verifier is None:
            verifier = verifiers[row.key_id] = signer.note_verifier(origin)
        checkpoint, _ = open_checkpoint(row.note.encode("utf-8"), [verifier])
    except NoteError as exc:
        found.problems.append(f"{where}: {exc}")
        return
    if checkpoint.size != row.size or checkpoint.root_hash != root:
        found.problems.append(f"{where}: the signed note states another tree")
    if row.witnessed_note is not None:
        # The witness's own signature needs its key ('verify --witness-key'); the archive's
        # must be there, on this very checkpoint: evidence bundles hand this note out.
        try:
            witnessed, _ = open_checkpoint(row.witnessed_note.encode("utf-8"), [verifier])
        except NoteError as exc:
            found.problems.append(f"{where}: its co-signed copy: {exc}")
        else:
            if witnessed.size != row.size or witnessed.root_hash != root:
                found.problems.append(f"{where}: its co-signed copy states another tree")
    found.checkpoint_keys.add(row.key_id)


def append_existing(session: Session, blobs: BlobStore, signer: Signer) -> int:
    """Put the records sealed before the log existed into it (``luutru migrate``), oldest
    first, each record's manifests in their order (the first as its seal, later ones as
    revisions); return how many entries were appended. A no-op once the log holds them."""
    writer = LogWriter(session)
    writer.lock()
    logged = set(session.scalars(select(LogEntry.entry_sha256)))
    entries: list[tuple[str, bytes, str, str | None]] = []
    for record_id, manifest_sha256 in session.execute(
        select(Seal.record_id, Seal.manifest_sha256)
        .join(Record, Record.id == Seal.record_id)
        .order_by(Record.ingested_at, Record.id)
    ):
        chain = _manifest_chain(blobs, manifest_sha256)
        for position, (sha256, data) in enumerate(chain):
            if sha256 not in logged:
                kind = EntryKind.SEAL if position == 0 else EntryKind.REVISION
                entries.append((kind, data, sha256, record_id))
    if entries:
        writer.append_many(entries)
        writer.checkpoint(signer)
    return len(entries)


def _manifest_chain(blobs: BlobStore, newest: str) -> list[tuple[str, bytes]]:
    """A record's manifests from its first to ``newest``, following each revision's
    ``previous_manifest_sha256``."""
    chain: list[tuple[str, bytes]] = []
    sha256: str | None = newest
    while sha256 is not None and all(sha256 != seen for seen, _ in chain):
        data = blobs.read_bytes(sha256)
        chain.append((sha256, data))
        previous = json.loads(data).get("previous_manifest_sha256")
        sha256 = previous if isinstance(previous, str) else None
    return chain[::-1]
