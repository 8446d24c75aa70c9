"""The archive's Merkle tree: RFC 9162 §2.1 hashing (the same as RFC 6962 §2.1), kept as nodes.

Pure: no database here. The tree is stored as its perfect subtrees only: node ``(level, index)``
is the hash of leaves ``[index * 2**level, (index + 1) * 2**level)`` and exists once the tree
holds all of them. Such a node never changes, so a store is append-only; a tree that is not a
power of two has a right border of partial subtrees that is never stored, only recomputed from
the at most log2(n) perfect subtrees that cover it.

Every producing operation first *plans* which stored nodes it needs, reads them in one
``NodeStore.get_many`` (one SQL query for a database store), then combines them: O(log n)
nodes read, no leaf rehashed. Verification needs no store at all::

    nodes = new_nodes(size, entry, store)          # persist them with the record, same transaction
    proof = inclusion_proof(index, size, store)
    verify_inclusion(leaf_hash(entry), index, size, proof, root(size, store))

Failures of verification raise ``ProofError`` (a malformed proof or bad arguments) or its
subclass ``RootMismatchError`` (a well-formed proof that leads to another root); both are
``IntegrityError`` so the CLI reports them with the integrity exit code.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from archive.errors import IntegrityError

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "LEAF_PREFIX",
    "NODE_PREFIX",
    "DictNodeStore",
    "MissingNodeError",
    "Node",
    "NodeKey",
    "NodeStore",
    "Plan",
    "ProofError",
    "RootMismatchError",
    "append_plan",
    "consistency_plan",
    "consistency_proof",
    "fetch",
    "inclusion_plan",
    "inclusion_proof",
    "leaf_hash",
    "new_nodes",
    "new_nodes_batch",
    "node_hash",
    "root",
    "root_from_consistency_proof",
    "root_from_inclusion_proof",
    "root_plan",
    "verify_consistency",
    "verify_inclusion",
]

# RFC 9162 §2.1.1: domain separation of leaves and interior nodes, so that no leaf can be
# presented as a node (the second-preimage attack on plain Merkle trees).
LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
HASH_SIZE = 32  # SHA-256
EMPTY_ROOT = hashlib.sha256(b"").digest()  # RFC 9162 §2.1.1: MTH({}) = HASH()

NodeKey = tuple[int, int]  # (level, index)
Node = tuple[int, int, bytes]  # (level, index, hash), what a store persists


class ProofError(IntegrityError):
    """A proof cannot be checked as given: wrong length, a hash that is not 32 bytes, sizes or
    an index out of range. Verification of outside input fails with this, never ``ValueError``."""


class RootMismatchError(ProofError):
    """A well-formed proof leads to a root other than the expected one (model: transparency-dev
    ``proof.RootMismatchError``). ``tree_size`` names the tree whose root did not match."""

    def __init__(self, expected_root: bytes, calculated_root: bytes, tree_size: int) -> None:
        super().__init__(
            f"the proof leads to root {calculated_root.hex()} for the tree of size {tree_size}, "
            f"not to the expected {expected_root.hex()}"
        )
        self.expected_root = expected_root
        self.calculated_root = calculated_root
        self.tree_size = tree_size


class MissingNodeError(IntegrityError):
    """The node store lacks nodes that a tree of that size must hold: the store is damaged or
    was asked about a size larger than the tree."""

    def __init__(self, missing: Sequence[NodeKey]) -> None:
        shown = ", ".join(f"({level}, {index})" for level, index in missing[:5])
        more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        super().__init__(f"the Merkle node store lacks node(s) {shown}{more}")
        self.missing = tuple(missing)


def leaf_hash(entry: bytes) -> bytes:
    """RFC 9162 §2.1.1: the hash of a leaf, MTH({d(0)}) = SHA-256(0x00 || d(0))."""
    return hashlib.sha256(LEAF_PREFIX + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 9162 §2.1.1: the hash of an interior node, SHA-256(0x01 || left || right)."""
    return hashlib.sha256(NODE_PREFIX + left + right).digest()


class NodeStore(Protocol):
    """Where the perfect-subtree nodes live (a table keyed by level and index, in the end).

    ``get_many`` returns the stored hashes of the keys it holds and leaves the others out; it is
    called once per operation, so a database store answers it with one query.
    """

    def get_many(self, keys: Iterable[NodeKey]) -> dict[NodeKey, bytes]: ...


class DictNodeStore:
    """An in-memory ``NodeStore`` for tests and benchmarks; append-only like the real one."""

    def __init__(self) -> None:
        self.nodes: dict[NodeKey, bytes] = {}

    def get_many(self, keys: Iterable[NodeKey]) -> dict[NodeKey, bytes]:
        return {key: self.nodes[key] for key in keys if key in self.nodes}

    def put_many(self, nodes: Iterable[Node]) -> None:
        for level, index, value in nodes:
            # A perfect subtree never changes; a second, different value is a bug upstream.
            if self.nodes.setdefault((level, index), value) != value:
                raise IntegrityError(f"node ({level}, {index}) would be overwritten")


@dataclass(frozen=True)
class Plan:
    """The stored nodes an operation reads, and how they make its hashes.

    Each part is a run of perfect subtrees covering consecutive leaves, left to right; the
    part's hash is their right fold (RFC 9162 §2.1.1 splits a tree at its largest power of two,
    so MTH of such a run is node_hash(first, MTH(rest))). A part of one node is that node.
    """

    parts: tuple[tuple[NodeKey, ...], ...]

    def keys(self) -> list[NodeKey]:
        return [key for part in self.parts for key in part]

    def assemble(self, nodes: Mapping[NodeKey, bytes]) -> list[bytes]:
        try:
            return [
                nodes[part[0]] if len(part) == 1 else _fold([nodes[key] for key in part])
                for part in self.parts
            ]
        except KeyError:
            raise MissingNodeError([key for key in self.keys() if key not in nodes]) from None


def fetch(plan: Plan, store: NodeStore) -> list[bytes]:
    """Carry out ``plan`` with one ``get_many``, or none when it needs no node."""
    keys = plan.keys()
    return plan.assemble(store.get_many(keys) if keys else {})


def root_plan(size: int) -> Plan:
    """The nodes of MTH(D[size]): the perfect subtrees covering [0, size), in one part."""
    _check_size(size)
    return Plan((tuple(_range_keys(0, size)),) if size else ())


def root(size: int, store: NodeStore) -> bytes:
    """RFC 9162 §2.1.1: the root hash of the first ``size`` leaves (``EMPTY_ROOT`` for 0)."""
    hashes = fetch(root_plan(size), store)
    return hashes[0] if hashes else EMPTY_ROOT


def inclusion_plan(index: int, size: int) -> Plan:
    """The nodes of PATH(index, D[size]) (RFC 9162 §2.1.3.1), one part per proof element."""
    _check_size(size)
    if not 0 <= index < size:
        raise ValueError(f"leaf {index} is not in a tree of size {size}")
    return Plan(tuple(_path(0, index, size)))


def inclusion_proof(index: int, size: int, store: NodeStore) -> list[bytes]:
    """RFC 9162 §2.1.3.1: the inclusion proof of leaf ``index`` in the tree of ``size``."""
    return fetch(inclusion_plan(index, size), store)


def consistency_plan(old_size: int, new_size: int) -> Plan:
    """The nodes of PROOF(old_size, D[new_size]) (RFC 9162 §2.1.4.1).

    The proof is the largest perfect subtree ending at ``old_size`` (left out when that subtree
    is the whole old tree, whose root the verifier holds), then that subtree's inclusion path
    in the new tree: the same nodes, in the same order, as SUBPROOF's recursion gives. From the
    empty tree, or to a tree of the same size, the proof is empty.
    """
    _check_size(old_size)
    _check_size(new_size)
    if old_size > new_size:
        raise ValueError(f"a tree of size {old_size} cannot grow into one of size {new_size}")
    if old_size in (0, new_size):
        return Plan(())
    level = _trailing_zeros(old_size)
    index = (old_size - 1) >> level
    first = () if index == 0 else (((level, index),),)
    return Plan(first + tuple(_path(level, index, new_size)))


def consistency_proof(old_size: int, new_size: int, store: NodeStore) -> list[bytes]:
    """RFC 9162 §2.1.4.1: the proof that the tree of ``new_size`` extends that of ``old_size``."""
    return fetch(consistency_plan(old_size, new_size), store)


def append_plan(size: int, count: int = 1) -> list[NodeKey]:
    """The stored nodes that appending ``count`` leaves to a tree of ``size`` reads.

    They are the perfect subtrees at the tree's right edge (one per set bit of ``size``) that
    the new leaves complete into a parent: appending one leaf reads as many nodes as ``size``
    has trailing one bits, one on average.
    """
    _check_size(size)
    if count < 0:
        raise ValueError(f"cannot append {count} leaves")
    end = size + count
    return [
        (level, (size >> level) - 1)
        for level in range(size.bit_length())
        if (size >> level) & 1 and end >> (level + 1) != size >> (level + 1)
    ]


def new_nodes(size: int, leaf: bytes, store: NodeStore) -> list[Node]:
    """The nodes that appending ``leaf`` as leaf number ``size`` completes: its leaf hash at
    level 0, then every parent it completes. ``leaf`` is the entry itself (RFC 9162's d(n)),
    hashed here with ``LEAF_PREFIX``; pass the same bytes to ``leaf_hash`` to verify it.

    The caller persists them, in the transaction that records the entry, so the store never
    holds a tree that disagrees with the log.
    """
    return new_nodes_batch(size, [leaf], store)


def new_nodes_batch(size: int, leaves: Sequence[bytes], store: NodeStore) -> list[Node]:
    """``new_nodes`` for several leaves appended in order, with one ``get_many`` for them all."""
    keys = append_plan(size, len(leaves))
    stored = store.get_many(keys) if keys else {}
    missing = [key for key in keys if key not in stored]
    if missing:
        raise MissingNodeError(missing)
    # The right edge of the tree, by level: the perfect subtree ending at the tree's size.
    edge = {level: stored[(level, index)] for level, index in keys}
    created: list[Node] = []
    for leaf in leaves:
        value, level = leaf_hash(leaf), 0
        created.append((0, size, value))
        # Each trailing one bit of the size is a left sibling now completed by this leaf.
        while (size >> level) & 1:
            value = node_hash(edge.pop(level), value)
            level += 1
            created.append((level, ((size + 1) >> level) - 1, value))
        edge[level] = value
        size += 1
    return created


def root_from_inclusion_proof(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes]
) -> bytes:
    """The root that ``proof`` gives for the leaf, by RFC 9162 §2.1.3.2 step by step."""
    _check_hashes(leaf_hash, proof)
    if not 0 <= index < size:  # step 1
        raise ProofError(f"leaf {index} is not in a tree of size {size}")
    fn, sn = index, size - 1  # step 2
    r = leaf_hash  # step 3
    for p in proof:  # step 4
        if sn == 0:  # 4a
            raise ProofError(f"the proof is longer than the path of leaf {index} in size {size}")
        if fn & 1 or fn == sn:  # 4b
            r = node_hash(p, r)
            while fn and not fn & 1:  # 4b ii: up the right border to the next left turn
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1  # 4c
    if sn != 0:  # step 5
        raise ProofError(f"the proof is shorter than the path of leaf {index} in size {size}")
    return r


def verify_inclusion(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """RFC 9162 §2.1.3.2: raise unless ``proof`` shows the leaf at ``index`` in ``root``.

    A proof binds the leaf to the root, not to ``size``: another size whose path has the same
    shape accepts the same proof (tests/archive/vectors/ holds such cases). Take the size and
    root together from one signed checkpoint.
    """
    _check_hashes(root, ())
    calculated = root_from_inclusion_proof(leaf_hash, index, size, proof)
    if calculated != root:
        raise RootMismatchError(root, calculated, size)


def root_from_consistency_proof(
    old_size: int, new_size: int, old_root: bytes, proof: Sequence[bytes]
) -> bytes:
    """The new root that ``proof`` gives, by RFC 9162 §2.1.4.2, once it has checked that the
    same proof also gives ``old_root`` (``RootMismatchError`` for ``old_size`` otherwise).

    For ``old_size == new_size`` the proof must be empty and the root is ``old_root``. No root
    follows from the empty tree: ``verify_consistency`` handles that case on its own.
    """
    _check_hashes(old_root, proof)
    if not 0 <= old_size <= new_size:
        raise ProofError(f"a tree of size {old_size} cannot grow into one of size {new_size}")
    if old_size == new_size:
        if proof:
            raise ProofError("a tree is consistent with itself by an empty proof only")
        if old_size == 0 and old_root != EMPTY_ROOT:
            raise RootMismatchError(old_root, EMPTY_ROOT, 0)
        return old_root
    if old_size == 0:
        raise ProofError("no root follows from a proof against the empty tree")
    if not proof:  # step 1
        raise ProofError(f"an empty proof cannot show size {old_size} growing to {new_size}")
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # step 2: the old tree is itself a perfect subtree
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1  # step 3
    while fn & 1:  # step 4
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]  # step 5
    for c in path[1:]:  # step 6
        if sn == 0:  # 6a
            raise ProofError(f"the proof is longer than one from size {old_size} to {new_size}")
        if fn & 1 or fn == sn:  # 6b
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while fn and not fn & 1:  # 6b iii
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1  # 6c
    if sn != 0:  # step 7
        raise ProofError(f"the proof is shorter than one from size {old_size} to {new_size}")
    if fr != old_root:
        raise RootMismatchError(old_root, fr, old_size)
    return sr


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    """RFC 9162 §2.1.4.2: raise unless ``proof`` shows the tree of ``new_size`` and root
    ``new_root`` extends the tree of ``old_size`` and root ``old_root``.

    The empty tree is a prefix of every tree: from size 0 the proof must be empty and the old
    root must be ``EMPTY_ROOT``; nothing else is checked.
    """
    _check_hashes(new_root, ())
    if old_size == 0 and new_size > 0:
        _check_hashes(old_root, proof)
        if proof:
            raise ProofError("the proof from the empty tree must be empty")
        if old_root != EMPTY_ROOT:
            raise RootMismatchError(old_root, EMPTY_ROOT, 0)
        return
    calculated = root_from_consistency_proof(old_size, new_size, old_root, proof)
    if calculated != new_root:
        raise RootMismatchError(new_root, calculated, new_size)


def _path(level: int, index: int, size: int) -> list[tuple[NodeKey, ...]]:
    """The siblings of node (level, index) on its way up to the root of the tree of ``size``,
    bottom first. A sibling past the last leaf is absent (the RFC tree has no node there); the
    one sibling that holds the last leaf but is not full is the run of subtrees covering it."""
    parts: list[tuple[NodeKey, ...]] = []
    top = (size - 1).bit_length()  # the level whose node 0 covers the whole tree
    while level < top:
        sibling = index ^ 1
        begin, end = sibling << level, (sibling + 1) << level
        if end <= size:
            parts.append(((level, sibling),))
        elif begin < size:
            parts.append(tuple(_range_keys(begin, size)))
        index, level = index >> 1, level + 1
    return parts


def _range_keys(begin: int, end: int) -> list[NodeKey]:
    """The fewest perfect subtrees covering leaves [begin, end), left to right."""
    keys = []
    while begin < end:
        level = (end - begin).bit_length() - 1
        if begin:
            level = min(level, _trailing_zeros(begin))
        keys.append((level, begin >> level))
        begin += 1 << level
    return keys


def _fold(hashes: Sequence[bytes]) -> bytes:
    value = hashes[-1]
    for left in reversed(hashes[:-1]):
        value = node_hash(left, value)
    return value


def _trailing_zeros(value: int) -> int:
    return (value & -value).bit_length() - 1


def _check_size(size: int) -> None:
    if size < 0:
        raise ValueError(f"a tree cannot have {size} leaves")


def _check_hashes(first: bytes, rest: Iterable[bytes]) -> None:
    for value in (first, *rest):
        if len(value) != HASH_SIZE:
            raise ProofError(f"a hash of {len(value)} bytes where SHA-256 gives {HASH_SIZE}")
