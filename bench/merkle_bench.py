"""Benchmark the Merkle tree of archive/merkle.py; print a markdown table, write no results file.

    python -m bench.merkle_bench                  # 1,000,000 entries (under a minute)
    python -m bench.merkle_bench --entries 100000

The baseline is hashlib making the same SHA-256 calls as the operation (counted on a dry run)
in a bare loop: what any Merkle tree in Python must spend, so the ratio is the cost of planning,
lookups and storage on top of the hashing. A SQLite node store (a WITHOUT ROWID table keyed by
level and index, each ``get_many`` one SELECT) shows where the integration targets stand:
append >= 10,000 entries/s and a proof <= 1 ms at 1M entries, with one query per operation.
SQLite commits are left out: in the archive the nodes join the sealed record's transaction,
whose commit is paid once per record anyway. Its work file goes to bench/.work/.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import sqlite3
import statistics
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from archive import merkle
from archive.merkle import DictNodeStore, Node, NodeKey, NodeStore

WORK = Path(__file__).resolve().parent / ".work"
BATCH = 1000
SQL_APPENDS = 20_000  # appended to the full tree in SQLite, one leaf a call


class SqliteNodeStore:
    """The shape a SQL store would take: ``get_many`` is a single SELECT."""

    def __init__(self, path: Path) -> None:
        path.unlink(missing_ok=True)
        self.db = sqlite3.connect(path)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute(
            "CREATE TABLE merkle_node (level INTEGER NOT NULL, idx INTEGER NOT NULL, "
            "hash BLOB NOT NULL, PRIMARY KEY (level, idx)) WITHOUT ROWID"
        )

    def get_many(self, keys: Iterable[NodeKey]) -> dict[NodeKey, bytes]:
        flat = [number for key in keys for number in key]
        if not flat:
            return {}
        # OR of key pairs: SQLite searches the primary key once per pair. The row-value form
        # "(level, idx) IN (VALUES ...)" reads the same but makes SQLite 3.40 scan the table.
        where = " OR ".join(["(level = ? AND idx = ?)"] * (len(flat) // 2))
        rows = self.db.execute(f"SELECT level, idx, hash FROM merkle_node WHERE {where}", flat)
        return {(level, index): value for level, index, value in rows}

    def put_many(self, nodes: Iterable[Node]) -> None:
        self.db.executemany("INSERT INTO merkle_node VALUES (?, ?, ?)", nodes)


@dataclass
class Hashes:
    leaves: int = 0
    nodes: int = 0


@contextmanager
def counting_hashes() -> Iterator[Hashes]:
    """Count the SHA-256 calls archive.merkle makes, for a baseline of exactly as many."""
    counted, leaf_hash, node_hash = Hashes(), merkle.leaf_hash, merkle.node_hash

    def count_leaf(entry: bytes) -> bytes:
        counted.leaves += 1
        return leaf_hash(entry)

    def count_node(left: bytes, right: bytes) -> bytes:
        counted.nodes += 1
        return node_hash(left, right)

    merkle.leaf_hash, merkle.node_hash = count_leaf, count_node
    try:
        yield counted
    finally:
        merkle.leaf_hash, merkle.node_hash = leaf_hash, node_hash


def hashlib_seconds(hashes: Hashes) -> float:
    """Seconds for a bare hashlib loop to make as many leaf and node hashes."""
    sha256, leaf_input, node_input = hashlib.sha256, b"\x00" + bytes(8), b"\x01" + bytes(64)
    start = time.perf_counter()
    for _ in range(hashes.leaves):
        sha256(leaf_input).digest()
    for _ in range(hashes.nodes):
        sha256(node_input).digest()
    return time.perf_counter() - start


def median_us(calls: list[Callable[[], object]]) -> float:
    """Median microseconds of one call, each timed alone."""
    times = []
    for call in calls:
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e6


def baseline_us(calls: list[Callable[[], object]]) -> float:
    """Median microseconds of hashlib making each call's SHA-256 calls, timed call by call
    like ``median_us`` so that both sides are medians on a shared machine."""
    counts = []
    for call in calls:
        with counting_hashes() as counted:
            call()
        counts.append(counted)
    return statistics.median(hashlib_seconds(counted) for counted in counts) * 1e6


Row = list[str]


def append_rows(leaves: list[bytes], sql: SqliteNodeStore) -> tuple[list[Row], DictNodeStore]:
    entries = len(leaves)
    single, batched = DictNodeStore(), DictNodeStore()
    start = time.perf_counter()
    for size, leaf in enumerate(leaves):
        single.put_many(merkle.new_nodes(size, leaf, single))
    single_s = time.perf_counter() - start
    start = time.perf_counter()
    for first in range(0, entries, BATCH):
        batch = leaves[first : first + BATCH]
        batched.put_many(merkle.new_nodes_batch(first, batch, batched))
    batch_s = time.perf_counter() - start
    assert batched.nodes == single.nodes
    # Every node is one SHA-256 call: a leaf hash at level 0, a node hash above.
    baseline_s = hashlib_seconds(Hashes(entries, len(single.nodes) - entries))

    with sql.db:
        sql.put_many((level, index, value) for (level, index), value in single.nodes.items())
    more = [f"more {i}".encode() for i in range(SQL_APPENDS)]
    start = time.perf_counter()
    for offset, leaf in enumerate(more):
        sql.put_many(merkle.new_nodes(entries + offset, leaf, sql))
    sql_s = time.perf_counter() - start
    sql.db.commit()

    def rate(seconds: float, count: int = entries) -> str:
        return f"{count / seconds:,.0f}/s"

    rows = [
        ["append, 1 leaf a call", rate(single_s), rate(sql_s, SQL_APPENDS), rate(baseline_s)],
        [f"append, {BATCH:,} leaves a call", rate(batch_s), "", rate(baseline_s)],
    ]
    for row, seconds in zip(rows, (single_s, batch_s), strict=True):
        row.append(f"{seconds / baseline_s:.1f}")
    return rows, single


def proof_rows(
    leaves: list[bytes], store: DictNodeStore, sql: SqliteNodeStore, samples: int, seed: int
) -> list[Row]:
    size, rng = len(leaves), random.Random(seed)
    indices = [rng.randrange(size) for _ in range(samples)]
    olds = [rng.randrange(1, size) for _ in range(samples)]
    root = merkle.root(size, store)
    inclusion = [merkle.inclusion_proof(i, size, store) for i in indices]
    consistency = [merkle.consistency_proof(m, size, store) for m in olds]
    old_roots = [merkle.root(m, store) for m in olds]

    def producing(make: Callable[[NodeStore, int], object]) -> list[list[Callable[[], object]]]:
        return [[_bind(make, s, k) for k in range(samples)] for s in (store, sql)]

    operations = {
        f"root of {size:,}": producing(lambda s, _: merkle.root(size, s)),
        "inclusion proof": producing(lambda s, k: merkle.inclusion_proof(indices[k], size, s)),
        "consistency proof": producing(lambda s, k: merkle.consistency_proof(olds[k], size, s)),
    }
    rows = []
    for name, (in_dict, in_sql) in operations.items():
        luutru, base = median_us(in_dict), baseline_us(in_dict)
        rows.append([f"{name}, µs", f"{luutru:.0f}", f"{median_us(in_sql):.0f}", f"{base:.1f}"])
        rows[-1].append(f"{luutru / base:.1f}")
    verifying = {
        "verify inclusion (no store)": [
            _bind2(merkle.verify_inclusion, merkle.leaf_hash(leaves[i]), i, size, proof, root)
            for i, proof in zip(indices, inclusion, strict=True)
        ],
        "verify consistency (no store)": [
            _bind2(merkle.verify_consistency, m, size, old_root, root, proof)
            for m, old_root, proof in zip(olds, old_roots, consistency, strict=True)
        ],
    }
    for name, calls in verifying.items():
        luutru, base = median_us(calls), baseline_us(calls)
        rows.append([f"{name}, µs", f"{luutru:.0f}", "", f"{base:.1f}", f"{luutru / base:.1f}"])
    return rows


def _bind(
    make: Callable[[NodeStore, int], object], store: NodeStore, k: int
) -> Callable[[], object]:
    return lambda: make(store, k)


def _bind2(function: Callable[..., object], *args: object) -> Callable[[], object]:
    return lambda: function(*args)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--samples", type=int, default=1000, help="calls timed per operation")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    leaves = [i.to_bytes(8, "big") for i in range(args.entries)]
    WORK.mkdir(parents=True, exist_ok=True)
    sql = SqliteNodeStore(WORK / "merkle-bench.sqlite3")
    try:
        rows, store = append_rows(leaves, sql)
        rows += proof_rows(leaves, store, sql, args.samples, args.seed)
    finally:
        sql.db.close()
    print(f"## Merkle tree of {args.entries:,} entries, median of {args.samples:,} calls\n")
    print(f"SQLite appends: {SQL_APPENDS:,} more leaves onto the full tree, commit excluded.\n")
    print("| operation | DictNodeStore | SQLite store | hashlib, same SHA-256 calls | ratio |")
    print("|---|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(cell or "-" for cell in row) + " |")


if __name__ == "__main__":
    main()
