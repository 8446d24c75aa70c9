"""Offline verification of the archive (``luutru verify``): every check needs only the
archive home's files and public keys, never the network and never the private key.

Per record (``RecordChecker``): the access level is a known one; the seal's key is published
and, when keys are pinned, trusted; the manifest's bytes, canonical form and signature; that
it names this record, whose id derives from its original's sha256; that the database says
what the manifest says (description, access, series, closed year, files); that every file
still hashes to its sealed sha256 (and sha512 on request); and that the seal is the record's
newest entry in the log.

Archive-wide (``LogAudit`` from ``archive.log`` plus ``vanished``): the log rebuilt from its
entries agrees with its nodes and with every signed checkpoint, and every record the log says
was sealed is still in the database, unless the log also says it was lawfully disposed of.
"""

from __future__ import annotations

import hashlib
import os
import stat
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from archive.blobstore import CHUNK_SIZE, BlobStore
from archive.errors import IntegrityError
from archive.log import LogAudit
from archive.manifest import SEALED_FIELDS, sealed_values, verify_manifest
from archive.models import FileRole, Record, RecordFile
from archive.signing import Keyring, TrustedKeys

MAX_MODE_WARNINGS = 10
# A record lawfully destroyed (RecordStatus.DESTROYED): its files are gone, not damaged.
DESTROYED = "destroyed"


@dataclass
class RecordVerification:
    record_id: str
    files_checked: int = 0
    # Damage: what the record's bytes, rows or log say against its seal.
    problems: list[str] = field(default_factory=list)
    key_id: str = ""
    # Lawfully destroyed: its tombstone (seal, manifest, rows, disposition) was checked.
    destroyed: bool = False
    # Trust, not damage: a seal that verifies, by a key not among those the verifier was
    # told to trust (a mistyped fingerprint reads the same as a foreign key: both are said,
    # neither is kept in the record's history as a failed check).
    untrusted: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def trusted(self) -> bool:
        return not self.untrusted


# Read into one reused buffer, never a new bytes object a chunk: allocating and copying
# 1 MiB a read cost half as much again as the hashing itself. 256 KiB is what
# ``hashlib.file_digest`` reads at a time, and it measured best here.
HASH_BUFFER_SIZE = 1 << 18
_buffers = threading.local()


def _hash_blob(blobs: BlobStore, sha256: str, with_sha512: bool) -> tuple[str, int, str | None]:
    digest = hashlib.sha256()
    digest512 = hashlib.sha512() if with_sha512 else None
    size = 0
    buffer: bytearray | None = getattr(_buffers, "buffer", None)
    if buffer is None:
        buffer = _buffers.buffer = bytearray(HASH_BUFFER_SIZE)
    view = memoryview(buffer)
    with blobs.open(sha256) as handle:
        readinto = getattr(handle, "readinto", None)
        if readinto is None:  # a store's stream without readinto: plain reads
            while chunk := handle.read(CHUNK_SIZE):
                digest.update(chunk)
                if digest512 is not None:
                    digest512.update(chunk)
                size += len(chunk)
        else:
            while count := readinto(buffer):
                digest.update(view[:count])
                if digest512 is not None:
                    digest512.update(view[:count])
                size += count
    return digest.hexdigest(), size, None if digest512 is None else digest512.hexdigest()


def check_blob(
    blobs: BlobStore, sha256: str, size: int | None, sha512: str | None = None
) -> str | None:
    """What is wrong with a stored blob, or None; ``sha512`` is checked when given."""
    try:
        actual, actual_size, actual512 = _hash_blob(blobs, sha256, sha512 is not None)
    except (IntegrityError, OSError) as exc:
        return str(exc)
    return _blob_problem(sha256, actual, size, actual_size, sha512, actual512)


def _blob_problem(
    sha256: str,
    actual: str,
    size: int | None = None,
    actual_size: int = 0,
    sha512: str | None = None,
    actual512: str | None = None,
) -> str | None:
    if actual != sha256:
        return f"blob {sha256} has changed: its bytes now hash to {actual}"
    if size is not None and actual_size != size:
        return f"blob {sha256} is {actual_size} bytes, the manifest says {size}"
    if sha512 is not None and actual512 != sha512:
        return f"blob {sha256} does not have its sealed sha512"
    return None


@dataclass
class RecordChecker:
    blobs: BlobStore
    keyring: Keyring
    trusted: TrustedKeys = field(default_factory=TrustedKeys)
    # What the log says (``archive.log.audit``); None when only the records are checked.
    log: LogAudit | None = None
    check_sha512: bool = False
    # Whether a living (not destroyed) record has the blob too; None: not asked.
    shared_with_living: Callable[[str], bool] | None = None

    def verify(self, record: Record) -> RecordVerification:
        result = RecordVerification(record.id, destroyed=record.status == DESTROYED)
        try:
            _ = record.access_level
        except IntegrityError as exc:
            result.problems.append(str(exc))
        manifest = self._manifest(record, result)
        if manifest is None:
            return result
        if manifest.get("record_id") != record.id:
            result.problems.append(f"manifest is for record {manifest.get('record_id')!r}")
        result.problems.extend(_identity_problems(record))
        result.problems.extend(_description_problems(record, manifest.get("description", {})))
        result.problems.extend(_provenance_problems(record, manifest))
        self._check_files(record, manifest, result)
        self._check_log(record, result)
        return result

    def _manifest(self, record: Record, result: RecordVerification) -> dict[str, Any] | None:
        seal = record.seal
        if seal is None:
            result.problems.append("record has no seal")
            return None
        result.key_id = seal.key_id
        verifier = self.keyring.get(seal.key_id)
        if verifier is None:
            result.problems.append(
                f"sealed with key {seal.key_id}, which the archive never published"
            )
            return None
        if self.trusted.pinned and not self.trusted.trusts(verifier):
            result.untrusted.append(
                f"sealed with key {seal.key_id} (fingerprint {verifier.fingerprint}), "
                "not one of the trusted keys given"
            )
        # Read once: the bytes that are hashed are the bytes whose signature is checked.
        try:
            body = self.blobs.read_bytes(seal.manifest_sha256)
        except (IntegrityError, OSError) as exc:
            result.problems.append(f"manifest: {exc}")
            return None
        problem = _blob_problem(seal.manifest_sha256, hashlib.sha256(body).hexdigest())
        if problem:
            result.problems.append(f"manifest: {problem}")
            return None
        try:
            return verify_manifest(body, seal.signature, verifier)
        except IntegrityError as exc:
            result.problems.append(f"manifest: {exc}")
            return None

    def _check_files(
        self, record: Record, manifest: dict[str, Any], result: RecordVerification
    ) -> None:
        sealed = [f for f in manifest.get("files", []) if isinstance(f, dict)]
        sealed_set = {(f["role"], f["sha256"], f["size"]) for f in sealed}
        listed = {(f.role, f.sha256, f.size) for f in record.files}
        if sealed_set != listed:
            result.problems.append("the database lists other files than the sealed manifest")
        by_hash = {(f.role, f.sha256): f for f in record.files}
        for entry in sorted(sealed, key=lambda f: (f["role"], f["sha256"])):
            role, sha256 = entry["role"], entry["sha256"]
            sha512 = entry.get("sha512")
            listed_file = by_hash.get((role, sha256))
            if listed_file is not None:
                if sha512 is not None and listed_file.sha512 not in (None, sha512):
                    result.problems.append(f"{role}: the database has another sha512 than the seal")
                result.problems.extend(_file_problems(role, listed_file, entry))
            if record.status == DESTROYED:
                # Lawfully destroyed: its files are gone, their hashes stay. Bytes still
                # there are a destruction that did not finish (killed before the removal).
                if self._left_behind(sha256):
                    result.problems.append(
                        f"{role}: the record was destroyed but its file is still in the blob "
                        f"store; run 'luutru dispose execute {record.disposal_list_id}' again"
                    )
                continue
            result.files_checked += 1
            problem = check_blob(
                self.blobs, sha256, entry["size"], sha512 if self.check_sha512 else None
            )
            if problem:
                result.problems.append(f"{role}: {problem}")

    def _left_behind(self, sha256: str) -> bool:
        if self.shared_with_living is None or not self.blobs.exists(sha256):
            return False
        return not self.shared_with_living(sha256)

    def _check_log(self, record: Record, result: RecordVerification) -> None:
        if self.log is None or record.seal is None:
            return
        if record.status == DESTROYED and record.id not in self.log.disposed:
            # A status set by hand would hide missing files: only the log makes it lawful.
            result.problems.append(
                "the record is marked destroyed, but the log has no disposition of it"
            )
        newest = self.log.newest_manifest.get(record.id)
        if newest is None:
            result.problems.append("the log has no entry for this record")
        elif newest != record.seal.manifest_sha256:
            in_log = record.seal.manifest_sha256 in self.log.manifests
            result.problems.append(
                "the record's seal is an older manifest than its newest log entry"
                if in_log
                else "the record's seal is a manifest the log never recorded"
            )


def _file_problems(role: str, listed: RecordFile, sealed: dict[str, Any]) -> list[str]:
    """What is said of a file (its media type, which downloads are served as, and its
    name) against its seal."""
    return [
        f"{role}: the database says {name} = {getattr(listed, name)!r}, "
        f"the seal says {sealed[name]!r}"
        for name in ("media_type", "name")
        if name in sealed and getattr(listed, name) != sealed[name]
    ]


def _identity_problems(record: Record) -> list[str]:
    """A record's id is the start of its original's sha256, and its original has that hash."""
    original = record.file(FileRole.ORIGINAL)
    if original is None:
        return ["the record has no original file"]
    problems = []
    if record.original_sha256 not in (None, original.sha256):
        problems.append("the database names another original than the record's files")
    if not original.sha256.startswith(record.id):
        problems.append(
            f"the record id does not derive from its original's sha256 {original.sha256}"
        )
    return problems


def _description_problems(record: Record, sealed: dict[str, object]) -> list[str]:
    """Columns of the record that say something else than its seal (a row edited by hand;
    ``luutru edit`` re-seals, so its changes agree)."""
    current = sealed_values(record)
    return [
        f"the database says {name} = {current[name]!r}, the seal says {sealed[name]!r}"
        for name in SEALED_FIELDS
        if name in sealed and sealed[name] != current[name]
    ]


def _provenance_problems(record: Record, manifest: dict[str, Any]) -> list[str]:
    """The columns of how the record came in (who, when, the signatures it arrived with and
    what was said of it) that say something else than its manifest. ``ingested_at`` also
    dates a record with no closed year for retention: backdated, it would fall due."""
    problems = []
    when = manifest.get("ingested_at")
    try:
        sealed_at = datetime.fromisoformat(when) if isinstance(when, str) else None
    except ValueError:
        sealed_at = None
    if sealed_at is not None and sealed_at != record.ingested_at:
        problems.append(f"the database says ingested_at = {record.ingested_at}, the seal {when}")
    if "ingested_by" in manifest and manifest["ingested_by"] != record.ingested_by:
        problems.append(
            f"the database says ingested_by = {record.ingested_by!r}, "
            f"the seal {manifest['ingested_by']!r}"
        )
    for name in ("signatures", "warnings"):  # written only when there are some
        if (manifest.get(name) or []) != (getattr(record, name) or []):
            problems.append(f"the database's {name} are not those the seal holds")
    return problems


def vanished(log: LogAudit, record_ids: set[str]) -> list[str]:
    """Records the log says were sealed that the database no longer has, and that the log
    does not say were lawfully disposed of."""
    return sorted(set(log.newest_manifest) - record_ids - log.disposed)


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
