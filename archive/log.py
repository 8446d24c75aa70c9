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

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from archive import merkle
from archive.blobstore import BlobStore
from archive.checkpoint import Checkpoint, NoteError, open_checkpoint, sign_checkpoint
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


class SqlNodeStore:
    """``merkle.NodeStore`` on the ``log_nodes`` table of a session, with the nodes this
    transaction added and has not flushed yet."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.pending: dict[merkle.NodeKey, bytes] = {}

    def get_many(self, keys: Iterable[merkle.NodeKey]) -> dict[merkle.NodeKey, bytes]:
        wanted = list(dict.fromkeys(keys))
        found = {key: self.pending[key] for key in wanted if key in self.pending}
        missing = [key for key in wanted if key not in found]
        for start in range(0, len(missing), _NODES_PER_QUERY):
            chunk = missing[start : start + _NODES_PER_QUERY]
            # An OR of pairs: SQLite scans the table for a row-value IN (VALUES …).
            clause = or_(*(and_(LogNode.level == lv, LogNode.idx == ix) for lv, ix in chunk))
            for level, idx, value in self.session.execute(
                select(LogNode.level, LogNode.idx, LogNode.hash).where(clause)
            ):
                found[(level, idx)] = value
        return found

    def put_many(self, nodes: Iterable[merkle.Node]) -> None:
        rows = []
        for level, idx, value in nodes:
            self.pending[(level, idx)] = value
            rows.append(LogNode(level=level, idx=idx, hash=value))
        self.session.add_all(rows)


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
        self.session.execute(update(LogHead).where(LogHead.id == HEAD_ID).values(size=LogHead.size))
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
        when = at or datetime.now(UTC)
        nodes = merkle.new_nodes_batch(head.size, [e[1] for e in entries], self.nodes)
        self.nodes.put_many(nodes)
        done = []
        for kind, _entry, entry_sha256, record_id in entries:
            self.session.add(
                LogEntry(
                    seq=head.size,
                    kind=kind,
                    record_id=record_id,
                    entry_sha256=entry_sha256,
                    logged_at=when,
                )
            )
            head.size += 1
            done.append(Appended(head.size - 1, head.size))
        return done

    def root(self) -> bytes:
        assert self._head is not None
        return merkle.root(self._head.size, self.nodes)

    def checkpoint(self, signer: Signer, at: datetime | None = None) -> LogCheckpoint:
        """Sign the log at its current size (once per size)."""
        assert self._head is not None
        size = self._head.size
        existing = self.session.get(LogCheckpoint, size)
        if existing is not None:
            return existing
        root = self.root()
        note = sign_checkpoint(
            Checkpoint(self._head.origin, size, root), [signer.note_signer(self._head.origin)]
        )
        row = LogCheckpoint(
            size=size,
            root=root,
            note=note.decode("utf-8"),
            key_id=signer.key_id,
            signed_at=at or datetime.now(UTC),
        )
        self.session.add(row)
        return row


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
    root of every checkpoint after it."""
    found = LogAudit()
    log_head = head(session)
    checkpoints = {row.size: row for row in session.scalars(select(LogCheckpoint))}
    found.checkpoints = len(checkpoints)
    rebuilt = _RightEdge()
    stored_nodes = SqlNodeStore(session)
    expected_seq = 0
    for entry in _entries_in_order(session):
        if entry.seq != expected_seq:
            found.problems.append(f"log entry {expected_seq} is missing (next is {entry.seq})")
            expected_seq = entry.seq
        _note_entry(found, entry)
        try:
            data = blobs.read_bytes(entry.entry_sha256)
        except IntegrityError as exc:
            found.problems.append(f"log entry {entry.seq}: {exc}")
            data = b""
        made = rebuilt.add(data)
        stored = stored_nodes.get_many(key[:2] for key in made)
        for level, idx, value in made:
            if stored.get((level, idx)) != value:
                found.problems.append(f"log node ({level}, {idx}) disagrees with the entries")
                break
        expected_seq += 1
        if rebuilt.size in checkpoints:
            _check_checkpoint(
                found, checkpoints[rebuilt.size], rebuilt.root(), log_head.origin, keyring, trusted
            )
    found.size = rebuilt.size
    if log_head.size != rebuilt.size:
        found.problems.append(f"the log's head says {log_head.size} entries, it has {found.size}")
    for size in sorted(set(checkpoints) - set(range(rebuilt.size + 1))):
        found.problems.append(f"a checkpoint of {size} entries is signed, the log has fewer")
    return found


def _entries_in_order(session: Session) -> Iterator[LogEntry]:
    last = -1
    while True:
        batch = list(
            session.scalars(
                select(LogEntry).where(LogEntry.seq > last).order_by(LogEntry.seq).limit(5000)
            )
        )
        if not batch:
            return
        yield from batch
        last = batch[-1].seq


def _note_entry(found: LogAudit, entry: LogEntry) -> None:
    if entry.kind in (EntryKind.SEAL, EntryKind.REVISION) and entry.record_id:
        found.newest_manifest[entry.record_id] = entry.entry_sha256
        found.manifests.add(entry.entry_sha256)
    elif entry.kind == EntryKind.DISPOSITION and entry.record_id:
        found.disposed.add(entry.record_id)


def _check_checkpoint(
    found: LogAudit,
    row: LogCheckpoint,
    root: bytes,
    origin: str,
    keyring: Keyring,
    trusted: TrustedKeys,
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
        found.problems.append(f"{where}: signed by key {row.key_id}, which is not trusted")
    try:
        checkpoint, _ = open_checkpoint(row.note.encode("utf-8"), [signer.note_verifier(origin)])
    except NoteError as exc:
        found.problems.append(f"{where}: {exc}")
        return
    if checkpoint.size != row.size or checkpoint.root_hash != root:
        found.problems.append(f"{where}: the signed note states another tree")
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
