"""Write the Merkle golden vectors in tests/archive/vectors/, as transparency-dev's cmd/proofgen.

python scripts/merkle_vectors.py          # rewrite roots.json, inclusion.json, consistency.json
python scripts/merkle_vectors.py --check  # exit 1 when a vector file is stale (the tests do)

Happy paths come from archive.merkle; every corruption of one is written with the error a
verifier must raise, and that error is decided here from the sizes and lengths alone (the
transparency-dev formula for a proof's length, not the RFC loop archive.merkle runs), then
checked against archive.merkle before anything is written. rfc6962_published.json is not made
here: it holds published values, copied by hand, that this script's output is tested against.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from archive import merkle  # noqa: E402

VECTORS = ROOT / "tests" / "archive" / "vectors"

# The RFC 6962 test leaves (transparency-dev/merkle testonly/constants.go), then our own.
RFC6962_LEAVES = ["", "00", "10", "2021", "3031", "40414243", "5051525354555657"]
RFC6962_LEAVES.append("606162636465666768696a6b6c6d6e6f")
LEAF_RULE = (
    "leaf i is the RFC 6962 test leaf i for i < 8 (hex: "
    + ", ".join(repr(leaf) for leaf in RFC6962_LEAVES)
    + "), else the ASCII bytes of 'luutru test leaf <i>'"
)
SOME_HASH = bytes.fromhex("abacaba000000000000000000000000000000000000000000060061e00123456")
SMALL = range(1, 17)  # every index and every old size of these trees
PROBED = (13, 16, 31, 32, 33, 1025)  # and every tree of 1 to 8 leaves
ROOT_SIZES = (*range(65), 100, 127, 128, 129, 255, 256, 257, 1000, 1023, 1024, 1025)
PROOF_ERROR, MISMATCH = "ProofError", "RootMismatchError"

Case = dict[str, Any]


def leaf(index: int) -> bytes:
    if index < len(RFC6962_LEAVES):
        return bytes.fromhex(RFC6962_LEAVES[index])
    return f"luutru test leaf {index}".encode()


def build_store(size: int) -> merkle.DictNodeStore:
    store = merkle.DictNodeStore()
    store.put_many(merkle.new_nodes_batch(0, [leaf(i) for i in range(size)], store))
    return store


def flip(value: bytes, bit: int) -> bytes:
    return bytes([value[0] ^ (1 << bit)]) + value[1:]


# The expected error, from sizes and lengths only ------------------------------------------


def inclusion_length(index: int, size: int) -> int:
    """transparency-dev proof/verify.go decompInclProof: inner plus border nodes."""
    inner = (index ^ (size - 1)).bit_length()
    return inner + bin(index >> inner).count("1")


def consistency_length(old: int, new: int) -> int:
    """transparency-dev proof/verify.go RootFromConsistencyProof's expected proof size."""
    shift = (old & -old).bit_length() - 1
    start = 0 if old & (old - 1) == 0 else 1
    return start + inclusion_length(old - 1, new) - shift


def inclusion_shape(index: int, size: int) -> tuple[int, ...]:
    """Which side each proof hash goes on (1: left), as transparency-dev chainInner and
    chainBorderRight hash them. Two (index, size) of one shape take the same proof to the same
    root: a proof alone does not fix the tree size, the signed checkpoint does."""
    inner = (index ^ (size - 1)).bit_length()
    border = bin(index >> inner).count("1")
    return tuple((index >> i) & 1 for i in range(inner)) + (1,) * border


def consistency_shape(old: int, new: int) -> tuple[object, ...]:
    """The same for a consistency proof: transparency-dev's older RootFromConsistencyProof
    hashes by the seed (the old root or proof[0]), the inner mask bits and the border length."""
    shift = (old & -old).bit_length() - 1
    inner = (old - 1 ^ (new - 1)).bit_length() - shift
    border = bin((old - 1) >> (inner + shift)).count("1")
    mask = (old - 1) >> shift
    return (old == 1 << shift, tuple((mask >> i) & 1 for i in range(inner)), border)


def inclusion_error(case: Case, good: Case) -> str | None:
    hashes = [case["leaf_hash"], case["root"], *case["proof"]]
    if any(len(h) != 64 for h in hashes) or not 0 <= case["index"] < case["size"]:
        return PROOF_ERROR
    if len(case["proof"]) != inclusion_length(case["index"], case["size"]):
        return PROOF_ERROR
    same = all(case[k] == good.get(k) for k in ("leaf_hash", "root", "proof"))
    if same and "index" in good:
        shapes = (inclusion_shape(c["index"], c["size"]) for c in (case, good))
        same = next(shapes) == next(shapes)
    return None if same else MISMATCH


def consistency_error(case: Case, good: Case) -> str | None:
    old, new, proof = case["old_size"], case["new_size"], case["proof"]
    if any(len(h) != 64 for h in [case["old_root"], case["new_root"], *proof]):
        return PROOF_ERROR
    if not 0 <= old <= new:
        return PROOF_ERROR
    if old in (0, new):
        if proof:
            return PROOF_ERROR
        # Only the empty root is the root of size 0; equal sizes need equal roots.
        empty = merkle.EMPTY_ROOT.hex()
        ok = case["old_root"] == empty if old == 0 else True
        ok = ok and (old < new or case["old_root"] == case["new_root"])
        return None if ok else MISMATCH
    if len(proof) != consistency_length(old, new):
        return PROOF_ERROR
    same = all(case[k] == good.get(k) for k in ("old_root", "new_root", "proof"))
    if same and "old_size" in good:
        shapes = (consistency_shape(c["old_size"], c["new_size"]) for c in (case, good))
        same = next(shapes) == next(shapes)
    return None if same else MISMATCH


# Corruptions, after transparency-dev proof/verify_test.go and more ------------------------


def inclusion_probes(good: Case) -> Iterator[tuple[str, Case]]:
    index, size, proof = good["index"], good["size"], good["proof"]
    root, leaf_hex, some = good["root"], good["leaf_hash"], SOME_HASH.hex()
    yield "index - 1", {"index": index - 1}
    yield "index + 1", {"index": index + 1}
    yield "index ^ 2", {"index": index ^ 2}
    yield "index = size (out of range)", {"index": size}
    yield "size - 1", {"size": size - 1}
    yield "size + 1", {"size": size + 1}
    yield "size * 2", {"size": size * 2}
    yield "size // 2", {"size": size // 2}
    yield "wrong leaf (9 bytes)", {"leaf_hash": b"WrongLeaf".hex()}
    yield "leaf hash bit 0 flipped", {"leaf_hash": flip(bytes.fromhex(leaf_hex), 0).hex()}
    yield "leaf hash is the root", {"leaf_hash": root}
    yield "empty-tree root", {"root": merkle.EMPTY_ROOT.hex()}
    yield "random root", {"root": some}
    yield "root bit 7 flipped", {"root": flip(bytes.fromhex(root), 7).hex()}
    yield "trailing garbage (empty)", {"proof": [*proof, ""]}
    yield "trailing root", {"proof": [*proof, root]}
    yield "preceding garbage (empty)", {"proof": ["", *proof]}
    yield "preceding root", {"proof": [root, *proof]}
    yield "a 31-byte element", {"proof": [*proof[:-1], proof[-1][:62]]} if proof else {}
    for i in range(len(proof)):
        flipped = [*proof]
        flipped[i] = flip(bytes.fromhex(proof[i]), 3).hex()
        yield f"proof[{i}] bit 3 flipped", {"proof": flipped}
    if proof:
        yield "empty proof", {"proof": []}
        yield "last element removed", {"proof": proof[:-1]}
        yield "first element removed", {"proof": proof[1:]}
    if len(proof) > 1:
        yield "element inserted after proof[0]", {"proof": [proof[0], some, *proof[1:]]}
        yield "proof[0] and proof[1] swapped", {"proof": [proof[1], proof[0], *proof[2:]]}


def consistency_probes(good: Case) -> Iterator[tuple[str, Case]]:
    old, new, proof = good["old_size"], good["new_size"], good["proof"]
    root1, root2, some = good["old_root"], good["new_root"], SOME_HASH.hex()
    yield "old size - 1", {"old_size": old - 1}
    yield "old size + 1", {"old_size": old + 1}
    yield "old size ^ 2", {"old_size": old ^ 2}
    yield "new size - 1", {"new_size": new - 1}
    yield "new size + 1", {"new_size": new + 1}
    yield "new size * 2", {"new_size": new * 2}
    yield "new size // 2", {"new_size": new // 2}
    yield "sizes swapped", {"old_size": new, "new_size": old}
    yield "wrong old root (9 bytes)", {"old_root": b"WrongRoot".hex()}
    yield "wrong new root (9 bytes)", {"new_root": b"WrongRoot".hex()}
    yield "old root bit 0 flipped", {"old_root": flip(bytes.fromhex(root1), 0).hex()}
    yield "new root bit 0 flipped", {"new_root": flip(bytes.fromhex(root2), 0).hex()}
    yield "random new root", {"new_root": some}
    yield "roots swapped", {"old_root": root2, "new_root": root1}
    yield "empty proof", {"proof": []}
    yield "trailing garbage (empty)", {"proof": [*proof, ""]}
    yield "trailing old root", {"proof": [*proof, root1]}
    yield "trailing new root", {"proof": [*proof, root2]}
    yield "preceding garbage (empty)", {"proof": ["", *proof]}
    yield "preceding old root", {"proof": [root1, *proof]}
    yield "preceding new root", {"proof": [root2, *proof]}
    yield "preceding proof[0]", {"proof": [proof[0], *proof]}
    yield "last element removed", {"proof": proof[:-1]}
    yield "a 31-byte element", {"proof": [*proof[:-1], proof[-1][:62]]}
    for i in range(len(proof)):
        flipped = [*proof]
        flipped[i] = flip(bytes.fromhex(proof[i]), 4).hex()
        yield f"proof[{i}] bit 4 flipped", {"proof": flipped}
    if len(proof) > 1:
        yield "proof[0] and proof[1] swapped", {"proof": [proof[1], proof[0], *proof[2:]]}


# The files ---------------------------------------------------------------------------------


def probe_sizes() -> list[tuple[int, int]]:
    """(index or old size, size) pairs: all of them up to 8 leaves, a spread above."""
    pairs = [(i, n) for n in range(1, 9) for i in range(n)]
    for n in PROBED:
        power = 1 << ((n - 1).bit_length() - 1)  # where the left perfect subtree ends
        pairs += sorted({(i, n) for i in (1, power, n - 1)})
    return pairs


def inclusion_cases(store: merkle.DictNodeStore) -> list[Case]:
    cases: list[Case] = []
    happy = [(i, n) for n in SMALL for i in range(n)] + [(i, n) for i, n in probe_sizes()]
    probed = set(probe_sizes())
    for index, size in dict.fromkeys(happy):
        good = {
            "index": index,
            "size": size,
            "leaf_hash": merkle.leaf_hash(leaf(index)).hex(),
            "root": merkle.root(size, store).hex(),
            "proof": [h.hex() for h in merkle.inclusion_proof(index, size, store)],
        }
        cases.append({"desc": "happy path", **good, "error": None})
        if (index, size) in probed:
            cases += _corrupted(good, inclusion_probes(good), inclusion_error)
    single = merkle.leaf_hash(b"data").hex()
    for desc, leaf_hex, root_hex in [
        ("single entry", single, single),
        ("single entry, empty leaf hash", "", single),
        ("single entry, empty root", single, ""),
        ("single entry, empty leaf hash and root", "", ""),
    ]:
        case = {"index": 0, "size": 1, "leaf_hash": leaf_hex, "root": root_hex, "proof": []}
        expected = None if leaf_hex and root_hex else PROOF_ERROR
        cases.append({"desc": desc, **case, "error": expected})
    for index, size in [(0, 0), (1, 0), (1, 1), (2, 1)]:
        case = {"index": index, "size": size, "leaf_hash": single, "root": single, "proof": []}
        cases.append(
            {"desc": f"leaf {index} of a tree of size {size}", **case, "error": PROOF_ERROR}
        )
    return cases


def consistency_cases(store: merkle.DictNodeStore) -> list[Case]:
    cases: list[Case] = []
    pairs = [(m, n) for n in SMALL for m in range(0, n + 1)]
    pairs += [(m, n) for m, n in probe_sizes() if m > 0] + [(0, n) for n in PROBED]
    probed = {(m, n) for m, n in probe_sizes() if m > 0}
    for old, new in dict.fromkeys(pairs):
        good = {
            "old_size": old,
            "new_size": new,
            "old_root": merkle.root(old, store).hex(),
            "new_root": merkle.root(new, store).hex(),
            "proof": [h.hex() for h in merkle.consistency_proof(old, new, store)],
        }
        cases.append({"desc": "happy path", **good, "error": None})
        if (old, new) in probed:
            cases += _corrupted(good, consistency_probes(good), consistency_error)
    empty, some, one = merkle.EMPTY_ROOT.hex(), SOME_HASH.hex(), merkle.root(1, store).hex()
    for desc, old, new, root1, root2, proof in [
        ("sizes equal (0), roots differ", 0, 0, empty, some, []),
        ("sizes equal (0), equal roots that are not the empty root", 0, 0, some, some, []),
        ("sizes equal (1), roots differ", 1, 1, one, some, []),
        ("sizes equal (1), proof not empty", 1, 1, one, one, [empty]),
        ("sizes equal (0), proof not empty", 0, 0, empty, empty, [empty]),
        ("from the empty tree, old root not the empty root", 0, 1, some, one, []),
        ("from the empty tree, proof not empty", 0, 1, empty, one, [empty]),
        ("old size greater than new size", 1, 0, one, empty, []),
        ("old size greater than new size again", 2, 1, some, one, []),
        ("negative old size", -1, 1, empty, one, []),
        ("sizes differ, proof empty", 1, 2, one, some, []),
    ]:
        case = {"old_size": old, "new_size": new, "old_root": root1, "new_root": root2}
        case["proof"] = proof
        cases.append({"desc": desc, **case, "error": consistency_error(case, {})})
    return cases


def _corrupted(
    good: Case,
    probes: Iterator[tuple[str, Case]],
    expect: Callable[[Case, Case], str | None],
) -> list[Case]:
    cases = []
    for desc, change in probes:
        case = {**good, **change}
        if case == good:  # e.g. "leaf hash is the root" in a tree of one leaf
            continue
        error = expect(case, good)
        if error is None:
            desc += " (same path shape, so it verifies: only a signed size pins the tree)"
        cases.append({"desc": desc, **case, "error": error})
    return cases


def _check_against_archive(kind: str, cases: list[Case]) -> None:
    """Refuse to write a vector that archive.merkle disagrees with."""
    for case in cases:
        try:
            if kind == "inclusion":
                merkle.verify_inclusion(
                    bytes.fromhex(case["leaf_hash"]),
                    case["index"],
                    case["size"],
                    [bytes.fromhex(h) for h in case["proof"]],
                    bytes.fromhex(case["root"]),
                )
            else:
                merkle.verify_consistency(
                    case["old_size"],
                    case["new_size"],
                    bytes.fromhex(case["old_root"]),
                    bytes.fromhex(case["new_root"]),
                    [bytes.fromhex(h) for h in case["proof"]],
                )
            got = None
        except merkle.ProofError as exc:
            got = type(exc).__name__
        if got != case["error"]:
            raise SystemExit(f"archive.merkle gives {got} for the {kind} vector {case}")


def render() -> dict[str, str]:
    store = build_store(max(*PROBED, *ROOT_SIZES))
    common = {
        "generator": "scripts/merkle_vectors.py",
        "leaves": LEAF_RULE,
        "hashes": "hex; a proof is a list of hashes, bottom first (RFC 9162 §2.1.3.1, §2.1.4.1)",
    }
    roots = [{"size": n, "root": merkle.root(n, store).hex()} for n in ROOT_SIZES]
    files: dict[str, dict[str, Any]] = {
        "roots.json": {**common, "cases": roots},
        "inclusion.json": {
            **common,
            "error": "null: verify_inclusion accepts; else the exception class it must raise",
            "cases": inclusion_cases(store),
        },
        "consistency.json": {
            **common,
            "error": "null: verify_consistency accepts; else the exception class it must raise",
            "cases": consistency_cases(store),
        },
    }
    _check_against_archive("inclusion", files["inclusion.json"]["cases"])
    _check_against_archive("consistency", files["consistency.json"]["cases"])
    return {name: _dump(content) for name, content in files.items()}


def _dump(content: dict[str, Any]) -> str:
    """One case a line: small diffs, and a failing case is easy to find by its line."""
    head = {key: value for key, value in content.items() if key != "cases"}
    lines = [json.dumps(case, ensure_ascii=False) for case in content["cases"]]
    header = json.dumps(head, indent=2, ensure_ascii=False)[:-2]
    return header + ',\n  "cases": [\n    ' + ",\n    ".join(lines) + "\n  ]\n}\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when a file is stale")
    args = parser.parse_args()
    stale = []
    for name, text in render().items():
        path = VECTORS / name
        if args.check:
            if not path.is_file() or path.read_text(encoding="utf-8") != text:
                stale.append(name)
        else:
            VECTORS.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            digest = hashlib.sha256(text.encode()).hexdigest()[:12]
            print(f"wrote {path.relative_to(ROOT)} ({text.count(chr(10))} lines, {digest})")
    if stale:
        print(f"stale: {', '.join(stale)}; run python scripts/merkle_vectors.py", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
