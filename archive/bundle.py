"""Check an evidence bundle (``luutru evidence``) from the bundle alone: no archive, no
network, no luutru. This module depends on the standard library and ``cryptography`` only,
so it can be copied out and run anywhere::

    report = verify_bundle(Path("evidence.zip"), trusted=["<64-hex fingerprint>"])
    print(report.ok, report.problems)

What a bundle holds and what is checked:

- ``entry``: the exact bytes the archive logged, its signed manifest (JSON naming the record,
  each file's role, name, size, sha256 and sha512);
- ``entry.sig``: the Ed25519 signature of ``entry`` (64 raw bytes) by one of ``keys/*.pem``;
- ``files/<role>/<name>``: each file the manifest names, which must hash as it says, and
  nothing it does not name;
- ``inclusion.json``: ``leaf_index``, ``tree_size`` and ``hashes`` (base64), the RFC 9162
  §2.1.3 audit path from the leaf SHA-256(0x00 || entry) to the root of the log at that size;
- ``checkpoint``: the log's signed note at that size (c2sp.org/tlog-checkpoint: origin, size,
  base64 root, then "— name base64(key hash || signature)" lines), and ``checkpoint.vkey``,
  the note verifier key ``name+hash+base64(0x01 || public key)``, one of the archive's keys.

Keys inside the bundle prove only that the bundle agrees with itself. Whether those keys are
the archive's is for ``trusted`` to say: fingerprints (sha256 of the raw public key, 64 hex)
written down outside the archive. With none, the report says so.
"""

from __future__ import annotations

import base64
import hashlib
import json
import lzma
import re
import unicodedata
import zipfile
import zlib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

BUNDLE_FORMAT = "luutru-evidence/1"
MAX_SMALL_MEMBER = 16 << 20  # entry, proof, checkpoint, keys: never this large
_CHUNK = 1 << 20
_FINGERPRINT = re.compile(r"^[0-9a-f]{64}$")


class BundleError(Exception):
    """The file is not an evidence bundle at all (not a zip, no entry): a usage error."""


@dataclass
class BundleReport:
    ok: bool = False
    record_id: str = ""
    key_fingerprint: str = ""
    # The key of the checkpoint (``checkpoint.vkey``): the one that vouches for the log.
    checkpoint_key_fingerprint: str = ""
    pinned: bool = False
    files_checked: int = 0
    leaf_index: int = -1
    tree_size: int = 0
    origin: str = ""
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "record_id": self.record_id,
            "key_fingerprint": self.key_fingerprint,
            "checkpoint_key_fingerprint": self.checkpoint_key_fingerprint,
            "pinned": self.pinned,
            "files_checked": self.files_checked,
            "leaf_index": self.leaf_index,
            "tree_size": self.tree_size,
            "origin": self.origin,
            "problems": self.problems,
            "notes": self.notes,
        }


def pins_of(trusted: Iterable[str]) -> set[str]:
    """Fingerprints as written down (spaces, colons, capitals) as the bundle's are compared."""
    return {re.sub(r"[\s:]", "", value).lower() for value in trusted}


def verify_bundle(path: Path, trusted: Iterable[str] = ()) -> BundleReport:
    """Check everything in the bundle at ``path``; problems are listed, never raised."""
    pins = pins_of(trusted)
    if bad := sorted(pin for pin in pins if not _FINGERPRINT.match(pin)):
        raise BundleError(f"not key fingerprints (64 hex characters): {', '.join(bad)}")
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        raise BundleError(f"{path} is not an evidence bundle (not a readable zip: {exc})") from None
    with archive:
        members = _members(archive)
        if "entry" not in members:
            raise BundleError(f"{path} is not an evidence bundle (it has no 'entry')")
        report = BundleReport(pinned=bool(pins))
        named = Counter(info.filename for info in archive.infolist())
        for twice in sorted(name for name, count in named.items() if count > 1):
            # Zip tools show the first of two members of one name, this check read the last.
            report.problems.append(f"the bundle holds {twice} {named[twice]} times")
        try:
            _check(archive, members, pins, report)
        except _DAMAGED_ZIP as exc:
            # A member whose bytes fail their CRC, or cannot be inflated: a damaged bundle.
            report.problems.append(f"the bundle is damaged: {exc or type(exc).__name__}")
    report.ok = not report.problems
    if not pins:
        report.notes.append(
            f"signed by key {report.key_fingerprint or '?'} — not checked against a trusted "
            "key (give the fingerprint the agency wrote down to check it)"
        )
    return report


def _members(archive: zipfile.ZipFile) -> dict[str, zipfile.ZipInfo]:
    members = {}
    for info in archive.infolist():
        name = PurePosixPath(info.filename)
        if info.is_dir():
            continue
        if name.is_absolute() or ".." in name.parts or "\\" in info.filename:
            raise BundleError(f"the bundle holds an unsafe path {info.filename!r}")
        members[info.filename] = info
    return members


def _small(archive: zipfile.ZipFile, members: dict[str, zipfile.ZipInfo], name: str) -> bytes:
    info = members.get(name)
    if info is None:
        raise _Missing(name)
    with archive.open(info) as handle:
        data = handle.read(MAX_SMALL_MEMBER + 1)
    if len(data) > MAX_SMALL_MEMBER:
        raise _Missing(f"{name} (too large)")
    return data


class _Missing(Exception):
    pass


# What reading a member of a damaged or odd zip raises (zipfile, zlib, bz2, lzma, encryption).
_DAMAGED_ZIP = (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError,
                OSError, lzma.LZMAError)  # fmt: skip


def _check(
    archive: zipfile.ZipFile,
    members: dict[str, zipfile.ZipInfo],
    pins: set[str],
    report: BundleReport,
) -> None:
    try:
        entry = _small(archive, members, "entry")
        signature = _small(archive, members, "entry.sig")
        keys = _keys(archive, members)
        note = _small(archive, members, "checkpoint")
        vkey = _small(archive, members, "checkpoint.vkey").decode("utf-8", "replace").strip()
        inclusion = json.loads(_small(archive, members, "inclusion.json"))
    except _Missing as exc:
        report.problems.append(f"the bundle lacks {exc}")
        return
    except (ValueError, UnicodeDecodeError) as exc:
        report.problems.append(f"inclusion.json is not JSON: {exc}")
        return
    manifest = _check_entry(entry, signature, keys, pins, report)
    if manifest is not None:
        _check_files(archive, members, manifest, report)
    root = _check_checkpoint(note, vkey, keys, pins, report)
    if root is not None:
        _check_inclusion(entry, inclusion, root, report)


def _keys(archive: zipfile.ZipFile, members: dict[str, zipfile.ZipInfo]) -> list[Ed25519PublicKey]:
    keys = []
    for name in sorted(members):
        if name.startswith("keys/") and name.endswith(".pem"):
            try:
                key = serialization.load_pem_public_key(_small(archive, members, name))
            except ValueError:
                continue
            if isinstance(key, Ed25519PublicKey):
                keys.append(key)
    return keys


def _raw(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def fingerprint(key: Ed25519PublicKey) -> str:
    return hashlib.sha256(_raw(key)).hexdigest()


def _check_entry(
    entry: bytes,
    signature: bytes,
    keys: list[Ed25519PublicKey],
    pins: set[str],
    report: BundleReport,
) -> dict[str, Any] | None:
    signer = next((key for key in keys if _verifies(key, signature, entry)), None)
    if signer is None:
        report.problems.append("entry.sig is not a signature of entry by any key of the bundle")
    else:
        report.key_fingerprint = fingerprint(signer)
        if pins and report.key_fingerprint not in pins:
            report.problems.append(
                f"entry is signed by key {report.key_fingerprint}, not a trusted key"
            )
    try:
        manifest = json.loads(entry.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        report.problems.append("entry is not a JSON manifest")
        return None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), list):
        report.problems.append("entry is not a luutru manifest")
        return None
    report.record_id = str(manifest.get("record_id", ""))
    return manifest


def _verifies(key: Ed25519PublicKey, signature: bytes, message: bytes) -> bool:
    try:
        key.verify(signature, message)
    except InvalidSignature:
        return False
    return True


def _check_files(
    archive: zipfile.ZipFile,
    members: dict[str, zipfile.ZipInfo],
    manifest: dict[str, Any],
    report: BundleReport,
) -> None:
    items = [item for item in manifest["files"] if isinstance(item, dict)]
    if len(items) < len(manifest["files"]):
        report.problems.append("entry lists a file that is not an object")
    places = member_names(
        [(str(item.get("role")), str(item.get("name")), str(item.get("sha256"))) for item in items]
    )
    named = set(places)
    for item, member in zip(items, places, strict=True):
        info = members.get(member)
        if info is None:
            report.problems.append(f"the bundle lacks {member}, which the manifest names")
            continue
        sha256, sha512, size = _hash_member(archive, info)
        report.files_checked += 1
        if sha256 != item.get("sha256") or size != item.get("size"):
            report.problems.append(f"{member} is not the file that was archived (sha256 {sha256})")
        elif "sha512" in item and sha512 != item["sha512"]:
            report.problems.append(f"{member} does not have its sealed sha512")
    for extra in sorted(m for m in members if m.startswith("files/") and m not in named):
        report.problems.append(f"{extra} is in the bundle but not in the manifest")


def member_names(files: Sequence[tuple[str, str, str]]) -> list[str]:
    """Where each file of the manifest, given as (role, name, sha256), stands in the bundle:
    ``files/<role>/<name>``; under its sha256 when its name could not stand in a zip safely;
    as ``<sha256>-<name>`` when another file of the role has the same name, as a file system
    that ignores case would see it (unzipped, neither may replace the other)."""

    def same(role: str, name: str) -> tuple[str, str]:
        return role, unicodedata.normalize("NFC", name).casefold()

    named = Counter(same(role, name) for role, name, _ in files)
    found = []
    for role, name, sha256 in files:
        unsafe = not name or name in (".", "..") or any(c in name for c in "/\\\0")
        if unsafe:
            found.append(f"files/{role}/{sha256}")
        elif named[same(role, name)] > 1:
            found.append(f"files/{role}/{sha256}-{name}")
        else:
            found.append(f"files/{role}/{name}")
    return found


def _hash_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> tuple[str, str, int]:
    digest, digest512, size = hashlib.sha256(), hashlib.sha512(), 0
    with archive.open(info) as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
            digest512.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), digest512.hexdigest(), size


def _check_checkpoint(
    note: bytes, vkey: str, keys: list[Ed25519PublicKey], pins: set[str], report: BundleReport
) -> bytes | None:
    """The root the checkpoint states, once its signature by ``vkey`` verifies."""
    parsed = _parse_vkey(vkey)
    if parsed is None:
        report.problems.append("checkpoint.vkey is not a note verifier key")
        return None
    name, key_hash, public = parsed
    report.checkpoint_key_fingerprint = fingerprint(public)
    if _raw(public) not in {_raw(key) for key in keys}:
        report.problems.append("checkpoint.vkey is not one of the bundle's archive keys")
    if pins and fingerprint(public) not in pins:
        report.problems.append(
            f"the checkpoint is signed by key {fingerprint(public)}, not a trusted key"
        )
    split = note.rfind(b"\n\n")
    if split < 0 or not note.endswith(b"\n"):
        report.problems.append("checkpoint is not a signed note")
        return None
    text, lines = note[: split + 1], note[split + 2 : -1].split(b"\n")
    if not any(_note_signed(line, name, key_hash, public, text) for line in lines):
        report.problems.append("checkpoint is not signed by checkpoint.vkey")
        return None
    body = text.decode("utf-8", "replace").split("\n")
    try:
        origin, size, root = body[0], int(body[1]), base64.b64decode(body[2], validate=True)
    except (IndexError, ValueError):
        report.problems.append("checkpoint does not state origin, size and root")
        return None
    if origin != name or len(root) != 32:
        report.problems.append("checkpoint names another log than its key, or a bad root")
        return None
    report.origin, report.tree_size = origin, size
    return root


def _parse_vkey(vkey: str) -> tuple[str, bytes, Ed25519PublicKey] | None:
    parts = vkey.split("+", 2)  # base64 may hold "+"; a key name never does
    if len(parts) != 3 or not re.fullmatch(r"[0-9a-f]{8}", parts[1]):
        return None
    try:
        encoded = base64.b64decode(parts[2], validate=True)
    except ValueError:
        return None
    if len(encoded) != 33 or encoded[0] != 1:
        return None
    name = parts[0]
    key_hash = hashlib.sha256(name.encode() + b"\n" + encoded).digest()[:4]
    if key_hash.hex() != parts[1]:
        return None
    return name, key_hash, Ed25519PublicKey.from_public_bytes(encoded[1:])


def _note_signed(
    line: bytes, name: str, key_hash: bytes, public: Ed25519PublicKey, text: bytes
) -> bool:
    prefix = "— ".encode() + name.encode() + b" "
    if not line.startswith(prefix):
        return False
    try:
        raw = base64.b64decode(line[len(prefix) :], validate=True)
    except ValueError:
        return False
    return raw[:4] == key_hash and _verifies(public, raw[4:], text)


def _check_inclusion(entry: bytes, inclusion: Any, root: bytes, report: BundleReport) -> None:
    try:
        index, size = int(inclusion["leaf_index"]), int(inclusion["tree_size"])
        path = [base64.b64decode(h, validate=True) for h in inclusion["hashes"]]
    except (KeyError, TypeError, ValueError):
        report.problems.append("inclusion.json lacks leaf_index, tree_size or hashes")
        return
    report.leaf_index = index
    if size != report.tree_size:
        report.problems.append(
            f"inclusion.json is for {size} entries, the checkpoint for {report.tree_size}"
        )
        return
    leaf = hashlib.sha256(b"\x00" + entry).digest()
    computed = root_from_audit_path(leaf, index, size, path)
    if computed is None:
        report.problems.append("inclusion.json's audit path has the wrong length or hashes")
    elif computed != root:
        report.problems.append("entry is not in the log: its audit path leads to another root")


def root_from_audit_path(leaf: bytes, index: int, size: int, path: list[bytes]) -> bytes | None:
    """RFC 9162 §2.1.3.2, step by step; None when the path cannot be for that leaf."""
    if not 0 <= index < size or len(leaf) != 32 or any(len(h) != 32 for h in path):
        return None
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            r = hashlib.sha256(b"\x01" + p + r).digest()
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = hashlib.sha256(b"\x01" + r + p).digest()
        fn >>= 1
        sn >>= 1
    return r if sn == 0 else None
