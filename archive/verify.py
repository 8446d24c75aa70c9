"""Offline verification of sealed records: every check needs only the archive home's files
and the public key, never the network and never the private key."""

from __future__ import annotations

from dataclasses import dataclass, field

from archive.blobstore import BlobStore, hash_stream
from archive.errors import IntegrityError
from archive.manifest import verify_manifest
from archive.models import Record
from archive.signing import Verifier


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
