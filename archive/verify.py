"""Offline verification of sealed records: every check needs only the archive home's files
and the public key, never the network and never the private key."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from archive.blobstore import BlobStore, hash_stream
from archive.errors import IntegrityError
from archive.manifest import SEALED_FIELDS, sealed_values, verify_manifest
from archive.models import Record
from archive.signing import Verifier

MAX_MODE_WARNINGS = 10


@dataclass
class RecordVerification:
    record_id: str
    files_checked: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _check_blob(blobs: BlobStore, sha256: str, size: int | None) -> str | None:
    try:
        with blobs.open(sha256) as handle:
            actual_sha256, actual_size = hash_stream(handle)
    except IntegrityError as exc:
        return str(exc)
    if actual_sha256 != sha256:
        return f"blob {sha256} has changed: its bytes now hash to {actual_sha256}"
    if size is not None and actual_size != size:
        return f"blob {sha256} is {actual_size} bytes, the manifest says {size}"
    return None


def verify_record(record: Record, blobs: BlobStore, verifier: Verifier) -> RecordVerification:
    """Check the seal's signature, that the manifest names this record and exactly the files
    the database lists, and that every file's bytes still hash to what was sealed."""
    result = RecordVerification(record.id)
    try:
        _ = record.access_level
    except IntegrityError as exc:
        result.problems.append(str(exc))
    seal = record.seal
    if seal is None:
        result.problems.append("record has no seal")
        return result
    if seal.key_id != verifier.key_id:
        result.problems.append(f"sealed with key {seal.key_id}, archive key is {verifier.key_id}")
        return result
    manifest_problem = _check_blob(blobs, seal.manifest_sha256, None)
    if manifest_problem:
        result.problems.append(f"manifest: {manifest_problem}")
        return result
    try:
        manifest = verify_manifest(blobs.read_bytes(seal.manifest_sha256), seal.signature, verifier)
    except IntegrityError as exc:
        result.problems.append(f"manifest: {exc}")
        return result
    if manifest.get("record_id") != record.id:
        result.problems.append(f"manifest is for record {manifest.get('record_id')!r}")
    result.problems.extend(_description_problems(record, manifest.get("description", {})))
    sealed_files = {(f["role"], f["sha256"], f["size"]) for f in manifest.get("files", [])}
    listed_files = {(f.role, f.sha256, f.size) for f in record.files}
    if sealed_files != listed_files:
        result.problems.append("the database lists other files than the sealed manifest")
    for role, sha256, size in sorted(sealed_files):
        result.files_checked += 1
        problem = _check_blob(blobs, sha256, size)
        if problem:
            result.problems.append(f"{role}: {problem}")
    return result


def _description_problems(record: Record, sealed: dict[str, object]) -> list[str]:
    """Columns of the record that say something else than its seal (a row edited by hand;
    ``luutru edit`` re-seals, so its changes agree)."""
    current = sealed_values(record)
    return [
        f"the database says {name} = {current[name]!r}, the seal says {sealed[name]!r}"
        for name in SEALED_FIELDS
        if name in sealed and sealed[name] != current[name]
    ]


def loose_modes(root: Path, group_readable: bool) -> list[str]:
    """Files and folders of the archive home that others (or, without a configured group,
    the group) may read or write: secret records must not be readable by any local user."""
    forbidden = 0o007 if group_readable else 0o077
    loose: list[str] = []
    for path in _walk(root):
        try:
            mode = path.lstat().st_mode
        except OSError:
            continue
        if not stat.S_ISLNK(mode) and mode & forbidden:
            loose.append(
                f"{path.relative_to(root) if path != root else root} is {stat.filemode(mode)}"
            )
    if len(loose) > MAX_MODE_WARNINGS:
        more = len(loose) - MAX_MODE_WARNINGS
        loose = [*loose[:MAX_MODE_WARNINGS], f"and {more} more"]
    return loose


def _walk(root: Path) -> Iterator[Path]:
    yield root
    for folder, dirs, files in os.walk(root):
        for name in (*dirs, *files):
            yield Path(folder) / name
