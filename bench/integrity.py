"""Integrity benchmarks: the archive's log at a million entries, and ``luutru verify`` over a
whole archive; print markdown sections, write no results file (``bench.run`` does).

    python -m bench.integrity                          # 1,000,000 entries, 512 MiB (~30 min)
    python -m bench.integrity --entries 20000 --mib 64 # a quick look
    python -m bench.integrity --only log               # or: --only fixity

The log (``bench_log``) runs on real archive databases made by ``Archive.initialise``: SQLite
in bench/.work/, and PostgreSQL on 127.0.0.1:5432 (a throwaway database
``luutru_bench_<pid>``, dropped afterwards; ``LUUTRU_BENCH_POSTGRES`` names another server,
and the PostgreSQL rows are left out when there is none). Every luutru number has a baseline
run side by side in the same run:

- appends: the same rows written with the bare database driver into a second database of the
  same schema, in the same transactions; and ``archive.merkle`` on a ``DictNodeStore``
  (hashing and planning, no database);
- one append per transaction with its checkpoint (what sealing does): the same number of
  bare transactions that change one row, which is the commit's fsync (``synchronous=FULL``
  on SQLite) that any durable archive pays per record;
- proofs: the same proof from ``archive.merkle`` on a ``DictNodeStore``, and the same nodes
  read with the bare driver in one query;
- the audit (``archive.log.audit``, the log check of ``luutru verify``): the same work done
  bare, piece by piece: reading the entry blobs, the same SHA-256 calls with hashlib, the
  Ed25519 check of every checkpoint's signature, and reading the rows.

Fixity (``bench_fixity``) seals files of random bytes through ``Archive.seal`` and times the
real ``luutru verify --json`` (a child process) against ``openssl dgst -sha256`` on the same
blob files, page cache warm for both.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from archive import log, merkle
from archive.fixity import audit_archive
from archive.home import ArchiveHome
from archive.log import EntryKind, LogWriter
from archive.models import FileRole
from archive.repository import Archive, Description, IncomingFile, Placement
from archive.signing import TrustedKeys

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "bench" / ".work" / "integrity"
POSTGRES = os.environ.get("LUUTRU_BENCH_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432")
BATCH = 1000  # entries a transaction on the bulk path (backfill, ``luutru migrate``)
AT = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)

Entry = tuple[str, bytes, str, str | None]


def synthetic_entry(n: int) -> Entry:
    """A small manifest-like entry (about 250 bytes) of a record of its own."""
    original = hashlib.sha256(b"original %d" % n).hexdigest()
    record_id = original[:24]
    body = (
        f'{{"description":{{"title":"Công văn số {n}/UBND-VP"}},"files":[{{"role":"original",'
        f'"sha256":"{original}","size":{1_000_000 + n}}}],"format":"luutru-manifest/2",'
        f'"record_id":"{record_id}"}}'
    ).encode()
    return EntryKind.SEAL, body, hashlib.sha256(body).hexdigest(), record_id


def _percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def _rate(count: int, seconds: float) -> str:
    return f"{count / seconds:,.0f}/s"


# --- databases -----------------------------------------------------------------------------


@contextmanager
def postgres_databases(*suffixes: str) -> Iterator[list[str] | None]:
    """Throwaway databases ``luutru_bench_<pid><suffix>`` on the local server, dropped after;
    None when no server answers."""
    admin = create_engine(f"{POSTGRES}/postgres", isolation_level="AUTOCOMMIT")
    names = [f"luutru_bench_{os.getpid()}{suffix}" for suffix in suffixes]
    created: list[str] = []
    try:
        try:
            with admin.connect() as connection:
                for name in names:
                    connection.execute(text(f'CREATE DATABASE "{name}"'))
                    created.append(name)
        except OperationalError as exc:
            print(f"no PostgreSQL at {POSTGRES} ({exc.orig}): its rows are left out", flush=True)
            yield None
            return
        yield [f"{POSTGRES}/{name}" for name in names]
    finally:
        if created:
            with admin.connect() as connection:
                for name in created:
                    connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


def new_archive(name: str, database_url: str | None = None) -> Archive:
    """A fresh archive home in bench/.work/, on SQLite or on ``database_url``."""
    root = WORK / name
    shutil.rmtree(root, ignore_errors=True)
    if database_url:
        root.mkdir(parents=True)
        (root / "luutru.toml").write_text(
            f'database_url = "{database_url}"\nsearch_engine = "tantivy"\n', encoding="utf-8"
        )
    home = ArchiveHome(root)
    Archive.initialise(home, force=True)  # a throwaway home
    return Archive.open(home)


class RawLog:
    """The log's rows written and read with the bare database driver (sqlite3 or psycopg):
    the database's own cost of the same work, with no ORM and no hashing."""

    def __init__(self, archive: Archive) -> None:
        self.sqlite = archive.engine.dialect.name == "sqlite"
        self.connection: Any = archive.engine.raw_connection()  # with luutru's PRAGMAs
        self.mark = "?" if self.sqlite else "%s"
        # What SQLAlchemy stores for a UTC datetime: text on SQLite, timestamptz on PostgreSQL.
        self.at: object = str(AT.replace(tzinfo=None)) if self.sqlite else AT
        self.size = 0

    def _sql(self, statement: str) -> str:
        return statement.replace("?", self.mark)

    def append(self, entries: Sequence[Entry], nodes: Sequence[merkle.Node], note: str) -> None:
        """One transaction: the entries, their nodes, the head and a checkpoint row."""
        cursor = self.connection.cursor()
        cursor.executemany(
            self._sql(
                "INSERT INTO log_entries (seq, kind, record_id, entry_sha256, logged_at) "
                "VALUES (?, ?, ?, ?, ?)"
            ),
            [
                (self.size + k, kind, record_id, sha256, self.at)
                for k, (kind, _, sha256, record_id) in enumerate(entries)
            ],
        )
        cursor.executemany(
            self._sql("INSERT INTO log_nodes (level, idx, hash) VALUES (?, ?, ?)"), nodes
        )
        self.size += len(entries)
        cursor.execute(self._sql("UPDATE log_head SET size = ? WHERE id = 1"), (self.size,))
        cursor.execute(
            self._sql(
                "INSERT INTO log_checkpoints (size, root, note, key_id, signed_at) "
                "VALUES (?, ?, ?, ?, ?)"
            ),
            (self.size, nodes[-1][2], note, "0" * 16, self.at),
        )
        self.connection.commit()
        cursor.close()

    def nodes(self, keys: Sequence[merkle.NodeKey]) -> dict[merkle.NodeKey, bytes]:
        """The nodes named, in one SELECT (an OR of pairs, as ``SqlNodeStore`` asks)."""
        where = " OR ".join([f"(level = {self.mark} AND idx = {self.mark})"] * len(keys))
        cursor = self.connection.cursor()
        cursor.execute(
            f"SELECT level, idx, hash FROM log_nodes WHERE {where}",
            [number for key in keys for number in key],
        )
        found = {(level, idx): bytes(value) for level, idx, value in cursor.fetchall()}
        cursor.close()
        return found

    def close(self) -> None:
        self.connection.close()


class Floor:
    """The cheapest durable transaction: change one row and commit (one fsync of the WAL on
    SQLite with ``synchronous=FULL``, of the WAL on PostgreSQL), on the same database kind."""

    def __init__(self, archive: Archive) -> None:
        self.connection: Any = archive.engine.raw_connection()
        cursor = self.connection.cursor()
        cursor.execute("CREATE TABLE bench_floor (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)")
        cursor.execute("INSERT INTO bench_floor VALUES (1, 0)")
        self.connection.commit()
        cursor.close()

    def transaction(self) -> None:
        cursor = self.connection.cursor()
        cursor.execute("UPDATE bench_floor SET n = n + 1 WHERE id = 1")
        self.connection.commit()
        cursor.close()

    def close(self) -> None:
        self.connection.close()


def _database_bytes(archive: Archive) -> int:
    if archive.engine.dialect.name == "sqlite":
        with archive.engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        path = Path(str(archive.engine.url.database))
        return sum(
            p.stat().st_size for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")) if p.exists()
        )
    with archive.engine.connect() as connection:
        return int(connection.execute(text("SELECT pg_database_size(current_database())")).one()[0])


def _analyse(archive: Archive) -> None:
    """What autovacuum does on a server that has been up a while: table statistics, so the
    planner knows the log's tables are large (SQLite plans these queries by index alone)."""
    if archive.engine.dialect.name == "postgresql":
        with archive.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.exec_driver_sql("VACUUM ANALYZE log_entries, log_nodes, log_checkpoints")


# --- the log -------------------------------------------------------------------------------


@dataclass
class LogRun:
    """One database's numbers."""

    label: str
    rows: list[list[str]] = field(default_factory=list)


def _append_bulk(
    archive: Archive, raw: RawLog, store: merkle.DictNodeStore, entries: int
) -> tuple[float, float, float]:
    """Fill the log to ``entries`` in transactions of BATCH: luutru, the bare driver (same
    rows), and merkle on a dict, batch by batch side by side. Seconds of each."""
    signer = archive.signer()
    luutru_s = raw_s = dict_s = 0.0
    note = "x" * 200
    for first in range(0, entries, BATCH):
        batch = [synthetic_entry(n) for n in range(first, min(first + BATCH, entries))]
        start = time.perf_counter()
        with archive.session() as session, session.begin():
            writer = LogWriter(session)
            writer.lock()
            writer.append_many(batch, AT)
            writer.checkpoint(signer, AT)
        luutru_s += time.perf_counter() - start
        start = time.perf_counter()
        nodes = merkle.new_nodes_batch(first, [e[1] for e in batch], store)
        store.put_many(nodes)
        dict_s += time.perf_counter() - start
        start = time.perf_counter()
        raw.append(batch, nodes, note)
        raw_s += time.perf_counter() - start
    return luutru_s, raw_s, dict_s


def _proof_rows(
    archive: Archive, raw: RawLog, store: merkle.DictNodeStore, size: int, samples: int
) -> list[list[str]]:
    rng = random.Random(7)
    indices = [rng.randrange(size) for _ in range(samples)]
    olds = [rng.randrange(1, size) for _ in range(samples)]
    rows = []
    with archive.session() as session:
        kinds: list[tuple[str, Sequence[int], Callable[..., list[bytes]], Callable[..., Any]]] = [
            (
                "inclusion proof",
                indices,
                lambda i: log.inclusion_proof(session, i, size),
                lambda i: merkle.inclusion_plan(i, size),
            ),
            (
                "consistency proof",
                olds,
                lambda m: log.consistency_proof(session, m, size),
                lambda m: merkle.consistency_plan(m, size),
            ),
        ]
        for name, arguments, luutru, plan_of in kinds:
            ours, in_dict, bare = [], [], []
            for argument in arguments:
                start = time.perf_counter()
                proof = luutru(argument)
                ours.append(time.perf_counter() - start)
                plan = plan_of(argument)
                start = time.perf_counter()
                expected = merkle.fetch(plan, store)
                in_dict.append(time.perf_counter() - start)
                start = time.perf_counter()
                keys = plan.keys()
                from_driver = plan.assemble(raw.nodes(keys) if keys else {})
                bare.append(time.perf_counter() - start)
                assert proof == expected == from_driver, (name, argument)
            p50, p95 = _percentile(ours, 0.5) * 1e6, _percentile(ours, 0.95) * 1e6
            for baseline, timings in (
                ("archive.merkle on a DictNodeStore (no database)", in_dict),
                ("bare driver: the same nodes in one SELECT, same plan", bare),
            ):
                b50, b95 = _percentile(timings, 0.5) * 1e6, _percentile(timings, 0.95) * 1e6
                rows.append(
                    [
                        f"{name} at {size:,}, p50 / p95 µs ({samples:,} random)",
                        f"{p50:.0f} / {p95:.0f}",
                        f"{b50:.0f} / {b95:.0f}",
                        baseline,
                        f"{p50 / b50:.1f} / {p95 / b95:.1f}",
                    ]
                )
    return rows


def _seal_path(
    archive: Archive,
    raw: RawLog,
    floor: Floor,
    store: merkle.DictNodeStore,
    first: int,
    count: int,
) -> list[list[str]]:
    """``count`` transactions of one entry and its checkpoint, each committed (the sealing
    path), against as many one-row transactions (the floor) and the same rows, bare."""
    signer = archive.signer()
    luutru_s = floor_s = raw_s = 0.0
    note = "x" * 200
    for n in range(first, first + count):
        entry = synthetic_entry(n)
        start = time.perf_counter()
        with archive.session() as session, session.begin():
            writer = LogWriter(session)
            writer.lock()
            writer.append(*entry, at=AT)
            writer.checkpoint(signer, AT)
        luutru_s += time.perf_counter() - start
        start = time.perf_counter()
        floor.transaction()
        floor_s += time.perf_counter() - start
        nodes = merkle.new_nodes(n, entry[1], store)
        store.put_many(nodes)
        start = time.perf_counter()
        raw.append([entry], nodes, note)
        raw_s += time.perf_counter() - start
    what = f"1 entry + its checkpoint a transaction, committed ({count:,} on top of {first:,})"
    return [
        [
            what,
            _rate(count, luutru_s),
            _rate(count, floor_s),
            "bare transactions changing one row (the commit's fsync)",
            f"{luutru_s / floor_s:.2f}",
        ],
        [
            what,
            _rate(count, luutru_s),
            _rate(count, raw_s),
            "bare driver: the same rows, one transaction each",
            f"{luutru_s / raw_s:.2f}",
        ],
    ]


def log_run(
    label: str, urls: Sequence[str | None], entries: int, seals: int, proofs: int
) -> LogRun:
    """The log on one kind of database: ``urls`` are luutru's and the baseline's (None for
    SQLite in the home)."""
    run = LogRun(label)
    tag = label.lower()
    archive = new_archive(f"log-{tag}", urls[0])
    baseline = new_archive(f"log-{tag}-raw", urls[1])
    raw, floor = RawLog(baseline), Floor(baseline)
    store = merkle.DictNodeStore()
    try:
        print(f"{label}: appending {entries:,} entries …", flush=True)
        luutru_s, raw_s, dict_s = _append_bulk(archive, raw, store, entries)
        bulk = f"append_many, {BATCH:,} entries + 1 checkpoint a transaction (to {entries:,})"
        run.rows += [
            [
                bulk,
                _rate(entries, luutru_s),
                _rate(entries, raw_s),
                "bare driver: the same rows, same transactions",
                f"{luutru_s / raw_s:.2f}",
            ],
            [
                bulk,
                _rate(entries, luutru_s),
                _rate(entries, dict_s),
                "archive.merkle on a DictNodeStore, same batches (no database)",
                f"{luutru_s / dict_s:.2f}",
            ],
        ]
        size_bytes = _database_bytes(archive)
        for analysed in (archive, baseline):
            _analyse(analysed)
        print(f"{label}: {proofs:,} proofs of each kind …", flush=True)
        run.rows += _proof_rows(archive, raw, store, entries, proofs)
        print(f"{label}: {seals:,} sealing transactions …", flush=True)
        run.rows += _seal_path(archive, raw, floor, store, entries, seals)
        with archive.session() as session:
            assert log.head(session).size == entries + seals
            assert session.get(log.LogCheckpoint, entries + seals) is not None
            assert merkle.root(entries + seals, log.SqlNodeStore(session)) == merkle.root(
                entries + seals, store
            )
        run.rows.append(
            [
                f"database size at {entries:,} entries",
                f"{size_bytes / (1 << 20):,.0f} MiB",
                f"{size_bytes / entries:.0f} bytes/entry",
                "whole database, indexes included",
                "-",
            ]
        )
    finally:
        raw.close()
        floor.close()
        archive.close()
        baseline.close()
    shutil.rmtree(WORK / f"log-{tag}", ignore_errors=True)
    shutil.rmtree(WORK / f"log-{tag}-raw", ignore_errors=True)
    return run


# --- the audit -----------------------------------------------------------------------------


def _build_audited(archive: Archive, entries: int) -> list[Entry]:
    """A log as sealing leaves it: every entry's bytes in the blob store and a signed
    checkpoint at every size (built 1,000 appends a transaction, blobs written without fsync:
    setup only)."""
    signer = archive.signer()
    store = archive.blobs
    made: list[Entry] = []
    for first in range(0, entries, BATCH):
        batch = [synthetic_entry(n) for n in range(first, min(first + BATCH, entries))]
        for _, body, sha256, _ in batch:
            path = store.path_for(sha256)  # type: ignore[attr-defined]
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(body)
        with archive.session() as session, session.begin():
            writer = LogWriter(session)
            writer.lock()
            for entry in batch:
                writer.append_many([entry], AT)
                writer.checkpoint(signer, AT)
        made += batch
    return made


def _bare_audit(archive: Archive, made: Sequence[Entry]) -> list[tuple[str, float]]:
    """The audit's work done bare, piece by piece (seconds each)."""
    paths = [archive.blobs.path_for(sha256) for _, _, sha256, _ in made]  # type: ignore[attr-defined]
    start = time.perf_counter()
    bodies = []
    for path in paths:
        with open(path, "rb") as handle:
            bodies.append(handle.read())
    read_s = time.perf_counter() - start
    size = len(made)
    # The same SHA-256 calls: a leaf hash per entry, a node hash per perfect subtree, and
    # the fold of the right edge at every checkpoint (one per size here).
    nodes = size - bin(size).count("1") + sum(bin(s).count("1") - 1 for s in range(1, size + 1))
    sha256, node_input = hashlib.sha256, b"\x01" + bytes(64)
    start = time.perf_counter()
    for body in bodies:
        sha256(b"\x00" + body).digest()
    for _ in range(nodes):
        sha256(node_input).digest()
    hash_s = time.perf_counter() - start
    verifier = archive.verifier().public_key
    with archive.session() as session:
        notes = [
            row[0].encode()
            for row in session.execute(text("SELECT note FROM log_checkpoints ORDER BY size"))
        ]
    start = time.perf_counter()
    for note in notes:
        # c2sp.org/signed-note: the text, a blank line, "— name base64(key hash || sig)".
        body = note[: note.index(b"\n\n") + 1]
        signed = base64.b64decode(note.rstrip(b"\n").rsplit(b" ", 1)[1])
        verifier.verify(signed[4:], body)
    sign_s = time.perf_counter() - start
    bare = RawLog(archive)
    start = time.perf_counter()
    cursor = bare.connection.cursor()
    for query in (
        "SELECT seq, kind, record_id, entry_sha256 FROM log_entries ORDER BY seq",
        "SELECT level, idx, hash FROM log_nodes",
        "SELECT size, root, note, key_id FROM log_checkpoints",
    ):
        cursor.execute(query)
        cursor.fetchall()
    rows_s = time.perf_counter() - start
    bare.close()
    return [
        (f"read the {size:,} entry blobs (open, read, close)", read_s),
        (f"hashlib: the same SHA-256 calls ({size:,} leaves, {nodes:,} nodes)", hash_s),
        (f"Ed25519: verify the {len(notes):,} checkpoint signatures", sign_s),
        ("bare driver: read every entry, node and checkpoint row", rows_s),
    ]


def audit_run(label: str, url: str | None, entries: int) -> list[list[str]]:
    tag = label.lower()
    archive = new_archive(f"audit-{tag}", url)
    try:
        print(f"{label}: building a log of {entries:,} entries to audit …", flush=True)
        made = _build_audited(archive, entries)
        keyring, trusted = archive.keyring(), TrustedKeys()
        bare = _bare_audit(archive, made)  # also warms the page cache
        start = time.perf_counter()
        with archive.session() as session:
            found = log.audit(session, archive.blobs, keyring, trusted)
        audit_s = time.perf_counter() - start
        assert found.ok and found.size == entries == found.checkpoints, found.problems[:3]
    finally:
        archive.close()
    shutil.rmtree(WORK / f"audit-{tag}", ignore_errors=True)
    total = sum(seconds for _, seconds in bare)
    rows = [
        [
            f"archive.log.audit of {entries:,} entries, {entries:,} checkpoints",
            f"{audit_s:.2f} s",
            f"{total:.2f} s",
            "the four rows below, added up",
            f"{audit_s / total:.2f}",
        ]
    ]
    rows += [["", "", f"{seconds:.2f} s", what, ""] for what, seconds in bare]
    return rows


def bench_log(entries: int, audit_entries: int, seals: int, proofs: int) -> str:
    runs = [log_run("SQLite", [None, None], entries, seals, proofs)]
    audits = [
        [f"SQLite: {row[0]}" if row[0] else "", *row[1:]]
        for row in audit_run("SQLite", None, audit_entries)
    ]
    with postgres_databases("", "_raw", "_audit") as urls:
        if urls is not None:
            runs.append(log_run("PostgreSQL", urls[:2], entries, seals, proofs))
            for row in audit_run("PostgreSQL", urls[2], audit_entries):
                audits.append([f"PostgreSQL: {row[0]}" if row[0] else "", *row[1:]])
    lines = [
        f"## The log at {entries:,} entries, on archive databases",
        "",
        "| database | operation | luutru | baseline | baseline is | time ratio |",
        "|---|---|---|---|---|---|",
    ]
    for run in runs:
        lines += [f"| {run.label} | " + " | ".join(row) + " |" for row in run.rows]
    lines += [
        "",
        "| audit | luutru | baseline | baseline is | time ratio |",
        "|---|---|---|---|---|",
        *("| " + " | ".join(cell or " " for cell in row) + " |" for row in audits),
        "",
        "Each database is made by `Archive.initialise` (SQLite with luutru's WAL and "
        "`synchronous=FULL`; PostgreSQL 127.0.0.1, a throwaway database) and written through "
        "`archive.log.LogWriter`; the bare-driver baseline writes the same rows into a second "
        "database of the same schema in the same transactions, batch by batch beside luutru. "
        "Entries are synthetic manifests of about 250 bytes. Rates are entries a second, the "
        "ratio is luutru's time over the baseline's. The audit's log is built as sealing "
        "leaves it, a signed checkpoint at every size, its entry blobs in the blob store; "
        "page cache warm. PostgreSQL's tables are `VACUUM ANALYZE`d after the bulk appends "
        "(both databases), as autovacuum would have done on a server that has been up a while.",
        "",
    ]
    return "\n".join(lines)


# --- fixity --------------------------------------------------------------------------------


def _seal_random_files(archive: Archive, mebibytes: int, seed: int = 5) -> int:
    """Files of 1-5 MiB of random bytes, ``mebibytes`` in all, sealed one by one."""
    rng = random.Random(seed)
    count = max(4, round(200 * mebibytes / 512))
    weights = [rng.uniform(1, 5) for _ in range(count)]
    total = mebibytes << 20
    sizes = [int(total * w / sum(weights)) for w in weights]
    sizes[-1] += total - sum(sizes)
    source = WORK / "fixity-source.bin"
    for n, size in enumerate(sizes):
        source.write_bytes(rng.randbytes(size))
        name = f"ho-so-{n:03d}.bin"
        archive.seal(
            [IncomingFile(FileRole.ORIGINAL, "application/octet-stream", name, path=source)],
            Description(title=f"Hồ sơ số {n}"),
            Placement(series_code="CV", closed_year=2019),
            name,
        )
    source.unlink()
    return count


def _child(args: list[str]) -> tuple[float, str]:
    """Wall seconds and standard output of a command that must succeed."""
    start = time.perf_counter()
    done = subprocess.run(args, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{args[:4]} failed ({done.returncode}): {done.stderr[-2000:]}")
    return seconds, done.stdout


def _hashlib_files(paths: Sequence[str]) -> None:
    for path in paths:
        with open(path, "rb") as handle:
            hashlib.file_digest(handle, "sha256")


def bench_fixity(mebibytes: int, rounds: int = 5) -> str:
    home_root = WORK / "fixity-home"
    archive = new_archive("fixity-home")
    empty = new_archive("fixity-empty")
    empty.close()
    cli = [sys.executable, "-m", "api.cli", "--home"]
    try:
        print(f"fixity: sealing {mebibytes} MiB of random files …", flush=True)
        count = _seal_random_files(archive, mebibytes)
        # As ingest leaves an archive: every record in the search index.
        subprocess.run([*cli, str(home_root), "reindex"], check=True, capture_output=True)
        blobs = sorted(str(p) for p in (home_root / "blobs").glob("??/??/*"))
        blob_mib = sum(os.path.getsize(p) for p in blobs) / (1 << 20)
        _hashlib_files(blobs)  # page cache warm for every side
        timings: dict[str, list[float]] = {}

        def timed(name: str, seconds: float) -> None:
            timings.setdefault(name, []).append(seconds)

        # Round by round, each side once: a shared machine's load falls on all of them.
        for _ in range(rounds):
            seconds, digests = _child(["openssl", "dgst", "-sha256", *blobs])
            assert len(digests.splitlines()) == len(blobs)
            timed("openssl", seconds)
            seconds, output = _child([*cli, str(home_root), "verify", "--json"])
            report = json.loads(output)
            assert report["ok"] and len(report["records"]) == count, report["problems"][:3]
            timed("verify", seconds)
            timed("startup", _child([*cli, str(WORK / "fixity-empty"), "verify", "--json"])[0])
            start = time.perf_counter()
            audited = audit_archive(archive)
            timed("in process", time.perf_counter() - start)
            assert audited.ok and len(audited.records) == count
            start = time.perf_counter()
            _hashlib_files(blobs)
            timed("hashlib", time.perf_counter() - start)
    finally:
        archive.close()
    shutil.rmtree(home_root, ignore_errors=True)
    shutil.rmtree(WORK / "fixity-empty", ignore_errors=True)
    median = {name: statistics.median(values) for name, values in timings.items()}

    def row(label: str, name: str) -> str:
        seconds = median[name]
        return (
            f"| {label} | {seconds:.2f} | {blob_mib / seconds:,.0f} | "
            f"{median['openssl'] / seconds:.2f} |"
        )

    return "\n".join(
        [
            f"## Fixity over a whole archive vs openssl ({count} records, {blob_mib:,.0f} MiB, "
            f"median of {rounds} rounds)",
            "",
            "| run | s | MiB/s | throughput ratio |",
            "|---|---|---|---|",
            row(f"`openssl dgst -sha256` on the {len(blobs)} blob files, one process", "openssl"),
            row("`luutru verify --json` (child process, the whole command)", "verify"),
            row("`audit_archive` in process (the command without its start-up)", "in process"),
            row("hashlib.file_digest over the same files, in process (the floor)", "hashlib"),
            f"| `luutru verify --json` on an empty archive (start-up alone) "
            f"| {median['startup']:.2f} | - | - |",
            "",
            f"{count} files of 1-5 MiB of random bytes sealed one by one with `Archive.seal` "
            "(so the log has a checkpoint per record) and indexed, as ingest leaves them; "
            "openssl hashes the same blob files (originals, manifests and every other blob of "
            "the home) in one process. The page cache is warm for every side (every blob is "
            "read once first), and each round runs every side once. verify also checks each "
            "seal's signature and manifest, the log against its checkpoints, the index and the "
            "blob store, and records a fixity event per record. The throughput ratio is "
            "openssl's time over the row's (1.00 = as fast as openssl).",
            "",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000, help="log size")
    parser.add_argument("--mib", type=int, default=512, help="archive size for fixity")
    parser.add_argument("--audit-entries", type=int, help="log audited (default 100,000)")
    parser.add_argument("--seals", type=int, default=2000, help="sealing transactions")
    parser.add_argument("--proofs", type=int, default=1000, help="proofs of each kind")
    parser.add_argument("--only", choices=["log", "fixity"])
    args = parser.parse_args()
    audit_entries = args.audit_entries or min(100_000, args.entries)
    WORK.mkdir(parents=True, exist_ok=True)
    if args.only in (None, "log"):
        print(bench_log(args.entries, audit_entries, args.seals, args.proofs), flush=True)
    if args.only in (None, "fixity"):
        print(bench_fixity(args.mib), flush=True)


if __name__ == "__main__":
    main()
