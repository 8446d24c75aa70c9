"""Transfer to the historical archive (nộp lưu vào Lưu trữ lịch sử) as BagIt bags (RFC 8493).

Legal basis: under the Law on Archives 2024 (Luật Lưu trữ, 33/2024/QH15) records of lasting
value go from the agency to the historical archive, and digital archival records must stay
authentic, whole and usable over time. At the end of retention a record is reviewed, handed
over, or destroyed (destruction: Circular 06/2025/TT-BNV, ``destruction_record.py``). No text
prescribes the package; BagIt is the archival community's plain, checkable one.

Rules this module keeps:

- One bag per record, ``target_dir/<record_id>/``: the files as ``data/<role>/<name>``
  (``original``, ``archival``, ...), the signed manifest byte for byte as ``data/manifest.json``
  with its signature in ``data/manifest.sig``, the evidence package as ``data/evidence.zip``
  when there is one, and ``data/metadata.json`` (luutru's description, with each file's own
  name). bag-info names the agency, the record (External-Identifier) and the transfer list
  (Internal-Sender-Identifier); the manifests are SHA-256 and SHA-512.
- Every copied file is checked against its expected SHA-256 as it is copied: a mismatch is an
  ``IntegrityError`` naming the file, and that bag leaves nothing behind.
- Crash safety: a bag is built in a hidden temp folder beside its final place, validated with
  the ``bagit`` library, fsynced, then renamed into place; a killed transfer leaves, for each
  record, a complete valid bag or none. A rerun skips bags that are complete, valid and
  current, and replaces anything else it can prove is its own.
- Only a folder that is empty or holds a previous run of the same list is written into; a
  transfer holds a lock on it, so two runs never write into one folder at once.
- Everything written is owner-only, like the archive (``archive.fsutil``).

The bags are written here rather than with ``bagit.make_bag``: that function changes the
process's working directory (unsafe in a threaded server) and reads every file again to hash
it, where a copy that hashes as it goes reads each blob once. ``bagit`` validates each bag.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from importlib import metadata as package_metadata
from pathlib import Path, PurePosixPath
from typing import BinaryIO

import bagit  # type: ignore[import-untyped]

from archive.blobstore import hash_stream
from archive.errors import InputRejected, IntegrityError, StorageError, UsageError
from archive.fsutil import (
    directory_mode,
    file_mode,
    fsync_directory,
    make_directories,
    open_regular,
)
from archive.text import normalize
from retention.vntime import today

TEMP_PREFIX = ".luutru-bag-"
TRANSFER_FORMAT = "luutru-transfer/1"
BAGIT_VERSION = "1.0"
ALGORITHMS = ("sha256", "sha512")
CHUNK_SIZE = 1 << 20

_RECORD_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
_ROLE = re.compile(r"^[a-z0-9][a-z0-9-]{0,31}$")
# Characters a payload name may not carry: path separators, controls, what Windows refuses (the
# historical archive's disks may be NTFS), and '%', which RFC 8493 manifests would have to
# escape and the bagit library does not unescape.
_UNSAFE = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*%]')
_RESERVED = {"con", "prn", "aux", "nul"} | {f"{p}{n}" for p in ("com", "lpt") for n in range(10)}
_MAX_NAME_BYTES = 180  # of the 255 a name may have, leaving room for a "-2" and a suffix


@dataclass(frozen=True)
class TransferFile:
    role: str
    name: str
    media_type: str
    sha256: str
    source: Path  # path of the blob to copy


@dataclass(frozen=True)
class TransferItem:
    record_id: str
    metadata: dict[str, object]
    files: tuple[TransferFile, ...]
    manifest: bytes
    manifest_signature: str
    evidence_zip: Path | None


@dataclass(frozen=True)
class _Payload:
    """One file of a bag: where it goes (``data/...``) and what fills it."""

    path: str
    file: TransferFile | None = None  # a record's file, checked against its sha256
    source: Path | None = None  # an outside file copied as it is (the evidence package)
    data: bytes | None = None  # bytes written as they are


@dataclass(frozen=True)
class _Digest:
    sha256: str
    sha512: str
    size: int


def write_bags(
    target_dir: Path, list_id: str, items: Sequence[TransferItem], agency: str
) -> list[Path]:
    """Write one BagIt bag per item into ``target_dir``; returns the bags' paths in order."""
    _check_items(list_id, items)
    if not items:
        return []
    if target_dir.exists() and not target_dir.is_dir():
        raise UsageError(f"{target_dir} is not a folder")
    make_directories(target_dir)
    with _locked(target_dir):
        _check_target(target_dir, list_id)
        _remove_leftovers(target_dir)
        return [_bag(target_dir, list_id, item, agency) for item in items]


def verify_bag(bag_dir: Path) -> None:
    """Check a bag's structure and every checksum; raises ``IntegrityError`` naming the
    damaged files."""
    try:
        bagit.Bag(str(bag_dir)).validate()
    except (bagit.BagError, OSError, UnicodeError, ValueError) as exc:
        # Not only BagError: a damaged tag file fails to decode or parse before any check.
        details = [str(d) for d in getattr(exc, "details", None) or []]
        if not details:
            # bagit stops at the first check that fails (the payload's total size, say)
            # without saying which file; the operator needs to know.
            details = [f"changed or missing: {path}" for path in _damaged(bag_dir)]
        raise IntegrityError(f"{bag_dir}: {exc}" + "".join(f"; {d}" for d in details)) from exc


def _damaged(bag_dir: Path) -> list[str]:
    damaged = []
    for path, expected in sorted(_manifest_entries(bag_dir / "manifest-sha256.txt").items()):
        try:
            with open_regular(bag_dir / path) as handle:
                digest, _size = hash_stream(handle)
        except InputRejected:
            digest = ""
        if digest != expected:
            damaged.append(path)
    return damaged


# --- checks before anything is written ----------------------------------------------------------


def _check_items(list_id: str, items: Sequence[TransferItem]) -> None:
    if not list_id.strip() or "\n" in list_id or "\r" in list_id:
        raise UsageError(f"not a transfer list id: {list_id!r}")
    seen: set[str] = set()
    for item in items:
        # The id names a folder: no separators, no dot files, nothing that clashes with temps.
        if not _RECORD_ID.match(item.record_id):
            raise UsageError(f"not a record id that can name a bag: {item.record_id!r}")
        if item.record_id.casefold() in seen:
            raise UsageError(f"record {item.record_id} is listed twice for transfer")
        seen.add(item.record_id.casefold())
        for file in item.files:
            if not _ROLE.match(file.role):
                raise UsageError(f"record {item.record_id}: not a file role: {file.role!r}")


@contextmanager
def _locked(target_dir: Path) -> Iterator[None]:
    """An exclusive flock on the target folder itself, which leaves no lock file among the
    bags; temp folders found while holding it are those of killed runs."""
    fd = os.open(target_dir, os.O_RDONLY | os.O_DIRECTORY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise UsageError(f"another transfer is writing into {target_dir}") from None
        yield
    finally:
        os.close(fd)


def _check_target(target_dir: Path, list_id: str) -> None:
    """Refuse a folder holding anything but bags of this list and our own temp folders."""
    for entry in sorted(os.scandir(target_dir), key=lambda e: e.name):
        if entry.name.startswith(TEMP_PREFIX) and entry.is_dir(follow_symlinks=False):
            continue
        ours = entry.is_dir(follow_symlinks=False) and (
            _bag_info(Path(entry.path)).get("Internal-Sender-Identifier") == _one_line(list_id)
        )
        if not ours:
            raise UsageError(
                f"{target_dir} holds {entry.name!r}, which is not a bag of transfer list "
                f"{list_id}; nothing was written (choose an empty folder)"
            )


def _remove_leftovers(target_dir: Path) -> None:
    for entry in os.scandir(target_dir):
        if entry.name.startswith(TEMP_PREFIX) and entry.is_dir(follow_symlinks=False):
            shutil.rmtree(entry.path)
    fsync_directory(target_dir)


def _bag_info(bag_dir: Path) -> dict[str, str]:
    """The bag-info.txt tags (first value of each); empty when there is none to read."""
    try:
        with open_regular(bag_dir / "bag-info.txt") as handle:
            text = handle.read(1 << 20).decode("utf-8", "replace")
    except InputRejected:
        return {}
    tags: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep and not line[:1].isspace():
            tags.setdefault(key.strip(), value.strip())
    return tags


# --- one bag ------------------------------------------------------------------------------------


def _bag(target_dir: Path, list_id: str, item: TransferItem, agency: str) -> Path:
    final = target_dir / item.record_id
    payload = _plan(item)
    if os.path.lexists(final) and _is_current(final, list_id, item, payload):
        return final
    temp = Path(tempfile.mkdtemp(dir=target_dir, prefix=f"{TEMP_PREFIX}{item.record_id}-"))
    try:
        os.chmod(temp, directory_mode())  # mkdtemp's 0700, opened to the archive's group if any
        digests = {p.path: _fill(temp, p, item.record_id) for p in payload}
        description = _metadata_json(list_id, item, agency, payload, digests)
        digests["data/metadata.json"] = _write(temp, "data/metadata.json", description)
        _write_tag_files(temp, list_id, item.record_id, agency, digests)
        verify_bag(temp)
        _fsync_tree(temp)
        _install(temp, final)
    except BaseException:
        shutil.rmtree(temp, ignore_errors=True)
        raise
    return final


def _plan(item: TransferItem) -> list[_Payload]:
    """Where each file goes; the same item always gives the same paths."""
    taken: set[str] = set()
    payload = []
    for file in item.files:
        path = _free_path(f"data/{file.role}", _payload_name(file.name, file.sha256), taken)
        payload.append(_Payload(path, file=file))
    payload.append(_Payload("data/manifest.json", data=item.manifest))
    # The signature as the archive stores it: a verifier reads back exactly that string.
    payload.append(_Payload("data/manifest.sig", data=item.manifest_signature.encode("utf-8")))
    if item.evidence_zip is not None:
        payload.append(_Payload("data/evidence.zip", source=item.evidence_zip))
    return payload


def _payload_name(name: str, sha256: str) -> str:
    """A file name safe on any disk the bag may be copied to; the real name is kept in
    metadata.json."""
    clean = _UNSAFE.sub("_", normalize(PurePosixPath(name.replace("\\", "/")).name))
    clean = clean.strip(" .")  # no hidden files, no trailing dot (Windows drops it)
    if not clean:
        return sha256[:16]
    stem, dot, suffix = _split_suffix(clean)
    if stem.split(".")[0].casefold() in _RESERVED:
        stem = f"_{stem}"
    while len(f"{stem}{dot}{suffix}".encode()) > _MAX_NAME_BYTES:
        stem = stem[:-1]
    return f"{stem.rstrip(' .') or sha256[:16]}{dot}{suffix}"


def _split_suffix(name: str) -> tuple[str, str, str]:
    stem, dot, suffix = name.rpartition(".")
    if not dot or not stem or len(suffix.encode()) > 16:  # a long "suffix" is no extension
        return name, "", ""
    return stem, dot, suffix


def _free_path(folder: str, name: str, taken: set[str]) -> str:
    # Case-folded: two names differing only in case would collide on NTFS or APFS.
    stem, dot, suffix = _split_suffix(name)
    candidate, n = f"{folder}/{name}", 1
    while candidate.casefold() in taken:
        n += 1
        candidate = f"{folder}/{stem}-{n}{dot}{suffix}"
    taken.add(candidate.casefold())
    return candidate


def _is_current(final: Path, list_id: str, item: TransferItem, payload: list[_Payload]) -> bool:
    """Whether the bag in place is this item's, complete and valid (then a rerun skips it)."""
    info = _bag_info(final)
    if info.get("External-Identifier") != item.record_id:
        return False
    if info.get("Internal-Sender-Identifier") != _one_line(list_id):
        return False
    listed = _manifest_entries(final / "manifest-sha256.txt")
    if set(listed) != {p.path for p in payload} | {"data/metadata.json"}:
        return False
    for part in payload:
        expected = _expected_sha256(part)
        if expected is not None and listed[part.path] != expected:
            return False  # a bag of an earlier version of the item
    try:
        verify_bag(final)
    except IntegrityError:
        return False
    return True


def _expected_sha256(part: _Payload) -> str | None:
    if part.file is not None:
        return part.file.sha256.lower()
    if part.data is not None:
        return hashlib.sha256(part.data).hexdigest()
    return None  # the evidence package: its bytes are checked by the bag's own manifest


def _manifest_entries(manifest: Path) -> dict[str, str]:
    try:
        with open_regular(manifest) as handle:
            lines = handle.read().decode("utf-8", "replace").splitlines()
    except InputRejected:
        return {}
    entries = {}
    for line in lines:
        digest, _, path = line.strip().partition(" ")
        entries[normalize(path.strip())] = digest.lower()
    return entries


# --- writing ------------------------------------------------------------------------------------


def _fill(bag: Path, part: _Payload, record_id: str) -> _Digest:
    if part.data is not None:
        return _write(bag, part.path, part.data)
    if part.file is not None:
        label = f"record {record_id}, {part.file.role} file {part.file.name!r}"
        digest = _copy(bag, part.path, part.file.source, label)
        if digest.sha256 != part.file.sha256.lower():
            raise IntegrityError(
                f"{label}: the blob {part.file.source} has sha256 {digest.sha256}, not the "
                f"archived {part.file.sha256}; the bag of record {record_id} was not written"
            )
        return digest
    assert part.source is not None
    return _copy(bag, part.path, part.source, f"record {record_id}, evidence package")


def _copy(bag: Path, relative: str, source: Path, label: str) -> _Digest:
    """Copy ``source`` into the bag, hashing as it goes: each blob is read once."""
    try:
        handle = open_regular(source)
    except InputRejected as exc:
        raise IntegrityError(f"{label}: {exc}") from exc
    with handle:
        return _write_stream(bag / relative, handle)


def _write(bag: Path, relative: str, data: bytes) -> _Digest:
    return _write_stream(bag / relative, _Bytes(data))


class _Bytes:
    """Just enough of a binary file for ``_write_stream`` to read bytes in memory."""

    def __init__(self, data: bytes) -> None:
        self._view = memoryview(data)
        self._at = 0

    def read(self, size: int) -> bytes:
        chunk = self._view[self._at : self._at + size].tobytes()
        self._at += len(chunk)
        return chunk


def _write_stream(target: Path, source: BinaryIO | _Bytes) -> _Digest:
    """A new file in the archive's mode (owner-only unless it names a group), fsynced; its
    SHA-256, SHA-512 and size."""
    hashers = [hashlib.new(a) for a in ALGORITHMS]
    size = 0
    try:
        _make_folders(target.parent)
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, file_mode())
        os.fchmod(fd, file_mode())  # the mode exactly, whatever the process umask
        with os.fdopen(fd, "wb") as out:
            while chunk := source.read(CHUNK_SIZE):
                for hasher in hashers:
                    hasher.update(chunk)
                out.write(chunk)
                size += len(chunk)
            out.flush()
            os.fsync(out.fileno())
    except OSError as exc:
        raise StorageError(f"cannot write {target}: {exc.strerror or exc}") from exc
    return _Digest(hashers[0].hexdigest(), hashers[1].hexdigest(), size)


def _make_folders(folder: Path) -> None:
    """Inside a fresh temp bag, each missing level in the archive's mode (``mkdir(parents=True)``
    would give the levels above the last the umask's); _fsync_tree fsyncs them all."""
    missing = []
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    for new in reversed(missing):
        new.mkdir()
        os.chmod(new, directory_mode())


def _metadata_json(
    list_id: str,
    item: TransferItem,
    agency: str,
    payload: list[_Payload],
    digests: dict[str, _Digest],
) -> bytes:
    files = [
        {
            "role": p.file.role,
            "name": p.file.name,
            "path": p.path,
            "media_type": p.file.media_type,
            "sha256": digests[p.path].sha256,
            "size": digests[p.path].size,
        }
        for p in payload
        if p.file is not None
    ]
    document = {
        "format": TRANSFER_FORMAT,
        "record_id": item.record_id,
        "transfer_list": list_id,
        "agency": agency,
        "metadata": item.metadata,
        "files": files,
        "manifest": "data/manifest.json",
        "manifest_signature": "data/manifest.sig",
        "evidence": "data/evidence.zip" if item.evidence_zip is not None else None,
    }
    try:
        text = json.dumps(document, ensure_ascii=False, indent=2, sort_keys=True, default=_json)
    except (TypeError, ValueError) as exc:
        raise UsageError(f"record {item.record_id}: metadata is not JSON: {exc}") from exc
    return (text + "\n").encode("utf-8")


def _json(value: object) -> object:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"{type(value).__name__} {value!r} cannot be written as JSON")


def _write_tag_files(
    bag: Path, list_id: str, record_id: str, agency: str, payload: dict[str, _Digest]
) -> None:
    tags: dict[str, _Digest] = {}
    for algorithm in ALGORITHMS:
        name = f"manifest-{algorithm}.txt"
        tags[name] = _write(bag, name, _manifest_text(payload, algorithm))
    tags["bagit.txt"] = _write(
        bag,
        "bagit.txt",
        f"BagIt-Version: {BAGIT_VERSION}\nTag-File-Character-Encoding: UTF-8\n".encode(),
    )
    info = {
        "Source-Organization": agency,
        # The agency's date (retention.vntime), as on its other documents.
        "Bagging-Date": today().isoformat(),
        "External-Identifier": record_id,
        "Internal-Sender-Identifier": list_id,
        "Bag-Software-Agent": f"luutru {_software_version()}",
        "Payload-Oxum": f"{sum(d.size for d in payload.values())}.{len(payload)}",
    }
    text = "".join(f"{key}: {_one_line(value)}\n" for key, value in info.items())
    tags["bag-info.txt"] = _write(bag, "bag-info.txt", text.encode("utf-8"))
    for algorithm in ALGORITHMS:
        _write(bag, f"tagmanifest-{algorithm}.txt", _manifest_text(tags, algorithm))


def _manifest_text(digests: dict[str, _Digest], algorithm: str) -> bytes:
    lines = (f"{getattr(digests[path], algorithm)}  {path}\n" for path in sorted(digests))
    return "".join(lines).encode("utf-8")


def _fsync_tree(root: Path) -> None:
    """fsync every folder of the bag, deepest first, so the renamed bag survives a power cut
    with all its entries (the files were fsynced as they were written)."""
    for folder, _dirs, _files in os.walk(root, topdown=False):
        fsync_directory(Path(folder))


def _install(temp: Path, final: Path) -> None:
    """Rename the finished bag into place. A stale bag there is first moved aside under a
    temp name: a crash between the two renames leaves no bag, never a mixed one."""
    if os.path.lexists(final):
        aside = final.parent / f"{TEMP_PREFIX}{final.name}-replaced"
        os.rename(final, aside)
        os.rename(temp, final)
        fsync_directory(final.parent)
        shutil.rmtree(aside)
    else:
        os.rename(temp, final)
    fsync_directory(final.parent)


def _one_line(value: str) -> str:
    # A tag is one line: a line break inside a value would start a new tag.
    return " ".join(value.split())


def _software_version() -> str:
    try:
        return package_metadata.version("luutru")
    except package_metadata.PackageNotFoundError:
        return "unknown"
