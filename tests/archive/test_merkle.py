"""The Merkle tree against published values, golden vectors and a naive RFC implementation.

Any hash here can be recomputed by hand. A leaf hash is SHA-256 of 0x00 then the entry, so
the published leaf 3 (the entry 2021, hex) is

    { printf '\\x00'; printf '\\x20\\x21'; } | sha256sum     # 07506a85fd9dd2f1...

and a node is SHA-256 of 0x01 then its two children, so the root of the first two leaves is

    L=6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d
    R=96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7
    { printf '\\x01'; echo $L$R | xxd -r -p; } | sha256sum    # fac54203e7cc696c...

the published root of size 2. vectors/rfc6962_published.json holds the published tree
(transparency-dev/merkle); vectors/{roots,inclusion,consistency}.json are ours, written by
scripts/merkle_vectors.py and mostly failure cases.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archive import merkle
from archive.errors import IntegrityError
from archive.merkle import (
    EMPTY_ROOT,
    DictNodeStore,
    MissingNodeError,
    NodeKey,
    ProofError,
    RootMismatchError,
)

ROOT = Path(__file__).resolve().parents[2]
VECTORS = Path(__file__).parent / "vectors"
PUBLISHED = json.loads((VECTORS / "rfc6962_published.json").read_text(encoding="utf-8"))


def _load(name: str) -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = json.loads((VECTORS / name).read_text("utf-8"))["cases"]
    return cases


# A naive RFC 9162 implementation, straight from the recursive definitions ------------------


def _sha(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than n (RFC 9162 §2.1.1)."""
    return 1 << ((n - 1).bit_length() - 1)


def mth(d: list[bytes]) -> bytes:
    """RFC 9162 §2.1.1 MTH."""
    if not d:
        return _sha(b"")
    if len(d) == 1:
        return _sha(b"\x00" + d[0])
    k = _split(len(d))
    return _sha(b"\x01" + mth(d[:k]) + mth(d[k:]))


def rfc_path(m: int, d: list[bytes]) -> list[bytes]:
    """RFC 9162 §2.1.3.1 PATH(m, D[n])."""
    if len(d) == 1:
        return []
    k = _split(len(d))
    if m < k:
        return [*rfc_path(m, d[:k]), mth(d[k:])]
    return [*rfc_path(m - k, d[k:]), mth(d[:k])]


def rfc_subproof(m: int, d: list[bytes], complete: bool) -> list[bytes]:
    """RFC 9162 §2.1.4.1 SUBPROOF(m, D[n], b)."""
    if m == len(d):
        return [] if complete else [mth(d)]
    k = _split(len(d))
    if m <= k:
        return [*rfc_subproof(m, d[:k], complete), mth(d[k:])]
    return [*rfc_subproof(m - k, d[k:], False), mth(d[:k])]


# Helpers ---------------------------------------------------------------------------------


class CountingStore(DictNodeStore):
    """Records every lookup, to hold the one-``get_many``-per-operation rule."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[list[NodeKey]] = []

    def get_many(self, keys: Iterable[NodeKey]) -> dict[NodeKey, bytes]:
        keys = list(keys)
        self.calls.append(keys)
        return super().get_many(keys)


def entries(n: int) -> list[bytes]:
    return [f"entry {i}".encode() for i in range(n)]


def build(leaves: list[bytes]) -> CountingStore:
    """Append one leaf at a time, as sealing does."""
    store = CountingStore()
    for size, leaf in enumerate(leaves):
        store.put_many(merkle.new_nodes(size, leaf, store))
    store.calls.clear()
    return store


def flip(value: bytes, bit: int) -> bytes:
    index, mask = divmod(bit, 8)
    return value[:index] + bytes([value[index] ^ (1 << mask)]) + value[index + 1 :]


def _hexes(values: list[str]) -> list[bytes]:
    return [bytes.fromhex(v) for v in values]


PUBLISHED_LEAVES = _hexes(PUBLISHED["leaves"])


@pytest.fixture(scope="module")
def published_tree() -> CountingStore:
    return build(PUBLISHED_LEAVES)


# The published RFC 6962 test tree ----------------------------------------------------------


def test_hashing_is_rfc_9162() -> None:
    assert merkle.LEAF_PREFIX == b"\x00" and merkle.NODE_PREFIX == b"\x01"
    assert EMPTY_ROOT.hex() == PUBLISHED["roots"][0]
    assert merkle.leaf_hash(b"") == _sha(b"\x00")
    assert merkle.node_hash(b"a" * 32, b"b" * 32) == _sha(b"\x01" + b"a" * 32 + b"b" * 32)


def test_every_published_node_is_stored(published_tree: CountingStore) -> None:
    expected = {
        (level, index): bytes.fromhex(value)
        for level, row in enumerate(PUBLISHED["nodes"])
        for index, value in enumerate(row)
    }
    assert published_tree.nodes == expected


@pytest.mark.parametrize("size", range(9))
def test_published_roots(published_tree: CountingStore, size: int) -> None:
    published = bytes.fromhex(PUBLISHED["roots"][size])
    assert merkle.root(size, published_tree) == published
    assert mth(PUBLISHED_LEAVES[:size]) == published


@pytest.mark.parametrize("case", PUBLISHED["inclusion"], ids=lambda c: f"{c['index']}-{c['size']}")
def test_published_inclusion_proofs(published_tree: CountingStore, case: dict[str, Any]) -> None:
    index, size, proof = case["index"], case["size"], _hexes(case["proof"])
    assert merkle.inclusion_proof(index, size, published_tree) == proof
    leaf = merkle.leaf_hash(PUBLISHED_LEAVES[index])
    merkle.verify_inclusion(leaf, index, size, proof, bytes.fromhex(PUBLISHED["roots"][size]))


@pytest.mark.parametrize(
    "case", PUBLISHED["consistency"], ids=lambda c: f"{c['old_size']}-{c['new_size']}"
)
def test_published_consistency_proofs(published_tree: CountingStore, case: dict[str, Any]) -> None:
    old, new, proof = case["old_size"], case["new_size"], _hexes(case["proof"])
    assert merkle.consistency_proof(old, new, published_tree) == proof
    roots = PUBLISHED["roots"]
    merkle.verify_consistency(old, new, bytes.fromhex(roots[old]), bytes.fromhex(roots[new]), proof)


# Our golden vectors ---------------------------------------------------------------------------


def _raised_exactly(error: str | None, raised: BaseException | None) -> None:
    assert (type(raised).__name__ if raised else None) == error


@pytest.mark.parametrize(
    "case",
    _load("inclusion.json"),
    ids=lambda c: f"{c['index']}-of-{c['size']}-{c['desc']}",
)
def test_inclusion_vector(case: dict[str, Any]) -> None:
    raised = None
    try:
        merkle.verify_inclusion(
            bytes.fromhex(case["leaf_hash"]),
            case["index"],
            case["size"],
            _hexes(case["proof"]),
            bytes.fromhex(case["root"]),
        )
    except ProofError as exc:
        raised = exc
    _raised_exactly(case["error"], raised)


@pytest.mark.parametrize(
    "case",
    _load("consistency.json"),
    ids=lambda c: f"{c['old_size']}-to-{c['new_size']}-{c['desc']}",
)
def test_consistency_vector(case: dict[str, Any]) -> None:
    raised = None
    try:
        merkle.verify_consistency(
            case["old_size"],
            case["new_size"],
            bytes.fromhex(case["old_root"]),
            bytes.fromhex(case["new_root"]),
            _hexes(case["proof"]),
        )
    except ProofError as exc:
        raised = exc
    _raised_exactly(case["error"], raised)


def _vector_leaf(index: int) -> bytes:
    """The leaf rule the vector files state in their "leaves" field."""
    if index < len(PUBLISHED_LEAVES):
        return PUBLISHED_LEAVES[index]
    return f"luutru test leaf {index}".encode()


@pytest.fixture(scope="module")
def vector_leaves() -> list[bytes]:
    return [_vector_leaf(i) for i in range(1025)]


def test_vector_roots_match_the_naive_rfc_tree(vector_leaves: list[bytes]) -> None:
    cases = _load("roots.json")
    assert len(cases) > 70
    for case in cases:
        assert mth(vector_leaves[: case["size"]]).hex() == case["root"], case["size"]
    for case in cases[1:9]:
        assert case["root"] == PUBLISHED["roots"][case["size"]]


def test_happy_path_vectors_are_the_naive_rfc_proofs(vector_leaves: list[bytes]) -> None:
    happy = [c for c in _load("inclusion.json") if c["desc"] == "happy path"]
    assert {(c["index"], c["size"]) for c in happy} >= {(i, n) for n in range(17) for i in range(n)}
    for case in happy:
        tree = vector_leaves[: case["size"]]
        assert _hexes(case["proof"]) == rfc_path(case["index"], tree)
        assert case["root"] == mth(tree).hex()
    happy = [c for c in _load("consistency.json") if c["desc"] == "happy path"]
    assert {(c["old_size"], c["new_size"]) for c in happy} >= {
        (m, n) for n in range(1, 17) for m in range(n + 1)
    }
    for case in happy:
        old, new = case["old_size"], case["new_size"]
        expected = rfc_subproof(old, vector_leaves[:new], True) if 0 < old < new else []
        assert _hexes(case["proof"]) == expected


def test_vectors_are_mostly_failures() -> None:
    for name in ("inclusion.json", "consistency.json"):
        cases = _load(name)
        failures = [c for c in cases if c["error"]]
        assert len(failures) > 2 * (len(cases) - len(failures)), name
        assert {c["error"] for c in failures} == {"ProofError", "RootMismatchError"}


def test_the_vector_files_are_what_the_generator_writes() -> None:
    result = subprocess.run(
        [sys.executable, "scripts/merkle_vectors.py", "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr


# Properties, against the naive implementation --------------------------------------------------

PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(st.integers(min_value=0, max_value=300))
def test_appends_build_the_rfc_tree(n: int) -> None:
    leaves = entries(n)
    store = build(leaves)
    assert merkle.root(n, store) == mth(leaves)
    perfect = {(level, index) for level in range(n.bit_length()) for index in range(n >> level)}
    assert set(store.nodes) == perfect
    for level, index in perfect:
        span = leaves[index << level : (index + 1) << level]
        assert store.nodes[(level, index)] == mth(span)


@PROPERTY
@given(st.integers(min_value=0, max_value=200), st.lists(st.integers(0, 40), max_size=6))
def test_batches_make_the_same_nodes_as_single_appends(start: int, batches: list[int]) -> None:
    leaves = entries(start + sum(batches))
    one_by_one = build(leaves)
    batched = build(leaves[:start])
    size = start
    for count in batches:
        batched.calls.clear()
        batched.put_many(merkle.new_nodes_batch(size, leaves[size : size + count], batched))
        assert len(batched.calls) <= 1
        size += count
    assert batched.nodes == one_by_one.nodes


@st.composite
def tree_and_index(draw: st.DrawFn) -> tuple[int, int]:
    size = draw(st.integers(min_value=1, max_value=300))
    return size, draw(st.integers(min_value=0, max_value=size - 1))


@PROPERTY
@given(tree_and_index(), st.data())
def test_every_inclusion_proof_verifies_and_every_bit_flip_fails(
    case: tuple[int, int], data: st.DataObject
) -> None:
    size, index = case
    leaves = entries(size)
    store = build(leaves)
    proof = merkle.inclusion_proof(index, size, store)
    assert proof == rfc_path(index, leaves)
    root, leaf = merkle.root(size, store), merkle.leaf_hash(leaves[index])
    merkle.verify_inclusion(leaf, index, size, proof, root)
    assert merkle.root_from_inclusion_proof(leaf, index, size, proof) == root
    for position in range(len(proof)):
        bit = data.draw(st.integers(0, 255))
        bad = [*proof[:position], flip(proof[position], bit), *proof[position + 1 :]]
        with pytest.raises(RootMismatchError):
            merkle.verify_inclusion(leaf, index, size, bad, root)
    bit = data.draw(st.integers(0, 255))
    with pytest.raises(RootMismatchError):
        merkle.verify_inclusion(flip(leaf, bit), index, size, proof, root)
    with pytest.raises(RootMismatchError) as raised:
        merkle.verify_inclusion(leaf, index, size, proof, flip(root, bit))
    assert raised.value.calculated_root == root and raised.value.tree_size == size


@st.composite
def two_sizes(draw: st.DrawFn) -> tuple[int, int]:
    new = draw(st.integers(min_value=1, max_value=300))
    return draw(st.integers(min_value=1, max_value=new)), new


@PROPERTY
@given(two_sizes(), st.data())
def test_every_consistency_proof_verifies_and_every_bit_flip_fails(
    sizes: tuple[int, int], data: st.DataObject
) -> None:
    old, new = sizes
    leaves = entries(new)
    store = build(leaves)
    proof = merkle.consistency_proof(old, new, store)
    assert proof == (rfc_subproof(old, leaves, True) if old < new else [])
    old_root, new_root = merkle.root(old, store), merkle.root(new, store)
    merkle.verify_consistency(old, new, old_root, new_root, proof)
    for position in range(len(proof)):
        bit = data.draw(st.integers(0, 255))
        bad = [*proof[:position], flip(proof[position], bit), *proof[position + 1 :]]
        with pytest.raises(RootMismatchError):
            merkle.verify_consistency(old, new, old_root, new_root, bad)
    bit = data.draw(st.integers(0, 255))
    with pytest.raises(RootMismatchError):
        merkle.verify_consistency(old, new, flip(old_root, bit), new_root, proof)
    with pytest.raises(RootMismatchError):
        merkle.verify_consistency(old, new, old_root, flip(new_root, bit), proof)


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=1, max_value=2**48), st.data())
def test_plans_read_few_nodes_and_only_nodes_that_exist(size: int, data: st.DataObject) -> None:
    """Pure planning, so the O(log n) bound can be checked at sizes no test could build."""
    index = data.draw(st.integers(0, size - 1))
    old = data.draw(st.integers(0, size))
    depth = size.bit_length()
    plans = {
        "root": (merkle.root_plan(size).keys(), depth),
        "inclusion": (merkle.inclusion_plan(index, size).keys(), 2 * depth),
        "consistency": (merkle.consistency_plan(old, size).keys(), 2 * depth + 1),
        "append": (merkle.append_plan(size), depth),
    }
    for name, (keys, bound) in plans.items():
        assert len(keys) <= bound, name
        assert len(set(keys)) == len(keys), name
        # A stored node is a perfect subtree of the tree as it is.
        assert all((i + 1) << level <= size for level, i in keys), name


# One lookup per operation, and damage found ---------------------------------------------------


def test_each_operation_makes_one_lookup() -> None:
    store = build(entries(1023))
    operations: list[Callable[[], object]] = [
        lambda: merkle.root(1000, store),
        lambda: merkle.inclusion_proof(517, 1000, store),
        lambda: merkle.consistency_proof(300, 1000, store),
        lambda: merkle.new_nodes(1023, b"next", store),  # completes ten parents
        lambda: merkle.new_nodes_batch(1000, entries(50), store),
    ]
    for operation in operations:
        store.calls.clear()
        operation()
        assert len(store.calls) == 1


def test_appending_to_a_tree_of_even_size_reads_nothing() -> None:
    store = CountingStore()
    assert merkle.new_nodes(0, b"first", store) == [(0, 0, merkle.leaf_hash(b"first"))]
    assert store.calls == []
    assert merkle.root(0, store) == EMPTY_ROOT and store.calls == []


def test_a_missing_node_is_reported_not_guessed() -> None:
    store = build(entries(6))
    del store.nodes[(1, 2)]
    with pytest.raises(MissingNodeError) as raised:
        merkle.root(6, store)
    assert raised.value.missing == ((1, 2),)
    assert isinstance(raised.value, IntegrityError)
    with pytest.raises(MissingNodeError):
        merkle.new_nodes(7, b"x", build(entries(6)))  # a size the store never reached


def test_a_stored_node_is_never_overwritten() -> None:
    store = build(entries(2))
    with pytest.raises(IntegrityError):
        store.put_many([(0, 1, b"\x00" * 32)])


def test_producing_a_proof_outside_the_tree_is_a_caller_error() -> None:
    store = build(entries(4))
    with pytest.raises(ValueError):
        merkle.inclusion_proof(4, 4, store)
    with pytest.raises(ValueError):
        merkle.consistency_proof(5, 4, store)
    assert merkle.consistency_proof(0, 4, store) == merkle.consistency_proof(4, 4, store) == []


def test_proof_errors_are_integrity_errors_with_both_roots() -> None:
    assert issubclass(RootMismatchError, ProofError)
    assert issubclass(ProofError, IntegrityError)
    store = build(entries(5))
    old_root, new_root = merkle.root(3, store), merkle.root(5, store)
    proof = merkle.consistency_proof(3, 5, store)
    with pytest.raises(RootMismatchError) as raised:
        merkle.verify_consistency(3, 5, new_root, new_root, proof)
    assert raised.value.expected_root == new_root and raised.value.tree_size == 3
    assert raised.value.calculated_root == old_root
    with pytest.raises(ProofError, match="32"):
        merkle.verify_inclusion(b"short", 0, 1, [], new_root)
    assert merkle.root_from_consistency_proof(3, 5, old_root, proof) == new_root
