"""Blob store contract and the built-in content-addressed store on the local file system.

Rules every blob store keeps:
- a blob is addressed by the lowercase hex sha256 of its bytes and never changes once written;
- ``put`` is idempotent and durable when it returns (temp file, fsync, rename);
- ``open`` of an absent blob raises ``BlobMissing``; a store never repairs or rewrites a blob,
  it only reports, so that a verifier can see damage instead of having it hidden;
- a blob is a file the store wrote: a symbolic link or a special file in its place is not
  followed (it would show outside bytes under an archived name), it is damage to report, and
  a later ``put`` of the same bytes puts the file back.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol, runtime_checkable

from archive.errors import BlobMissing, InputRejected, IntegrityError
from archive.fsutil import (
    file_mode,
    fsync_directory,
    locked_temp_file,
    make_directories,
    open_regular,
    remove_stale_temp_files,
)

CHUNK_SIZE = 1 << 20
_SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")


def hash_stream(handle: BinaryIO) -> tuple[str, int]:
    """Return (hex sha256, size) of everything left in ``handle``, read in chunks."""
    digest = hashlib.sha256()
    size = 0
    while chunk := handle.read(CHUNK_SIZE):
        digest.update(chunk)
        size += len(chunk)
    return digest.hexdigest(), size


def _copy_hashing(source: BinaryIO, out: BinaryIO) -> tuple[str, int, str]:
    """Copy ``source`` to ``out``; return (sha256, size, sha512) of what was copied."""
    digest, digest512 = hashlib.sha256(), hashlib.sha512()
    size = 0
    while chunk := source.read(CHUNK_SIZE):
        digest.update(chunk)
        digest512.update(chunk)
        size += len(chunk)
        out.write(chunk)
    return digest.hexdigest(), size, digest512.hexdigest()


def sha256_file(path: Path) -> tuple[str, int]:
    """Hash an outside file; refuses links and anything not a regular file (``/dev/zero``)."""
    with open_regular(path) as handle:
        return hash_stream(handle)


@runtime_checkable
class BlobStore(Protocol):
    def put_stream(self, source: BinaryIO) -> tuple[str, int]:
        """Copy everything left in ``source`` in and return (sha256, size)."""

    def put_file(self, source: Path) -> tuple[str, int]:
        """Copy ``source`` in (it is only read) and return (sha256, size)."""

    def put_bytes(self, data: bytes) -> str:
        """Store ``data`` and return its sha256."""

    def exists(self, sha256: str) -> bool: ...

    def open(self, sha256: str) -> BinaryIO:
        """Open a stored blob for reading."""

    def read_bytes(self, sha256: str) -> bytes: ...

    def iter_hashes(self) -> Iterator[str]: ...

    def remove_stale_temp_files(self) -> int:
        """Remove what killed writers left behind; return how many."""

    def modified_at(self, sha256: str) -> float:
        """When the blob was written (seconds since the epoch)."""

    def discard(self, sha256: str) -> None:
        """Remove a blob that no record references (``luutru verify --repair`` only)."""

    def stage(self, source: BinaryIO) -> StagedBlob:
        """Copy ``source`` into a private, durable temp file, hashing as it goes (sha256 and
        sha512): the one read of an input. Later steps read the staged copy; nothing is in
        the store yet."""

    def commit_staged(self, staged: StagedBlob) -> None:
        """Move a staged copy into the store under its sha256 (no second copy, no re-read)."""


@dataclass
class StagedBlob:
    """An input's bytes as read once at intake, in a temp file of the store that stays
    locked (so no cleanup of stale temp files takes it) until ``release``."""

    path: Path
    sha256: str
    size: int
    lock_fd: int
    # A second algorithm beside the address, so that fixity outlives a weakness of SHA-256.
    sha512: str = ""

    def release(self) -> None:
        """Close the lock and remove the temp file unless it was committed; idempotent."""
        if self.lock_fd >= 0:
            self.path.unlink(missing_ok=True)
            os.close(self.lock_fd)
            self.lock_fd = -1


def _is_stored(path: str | Path) -> bool:
    """A regular file is at ``path`` (a symbolic link, even to one, is not)."""
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except FileNotFoundError:
        return False


class LocalBlobStore:
    """Blobs under ``root/ab/cd/abcd…`` (two levels of fan-out keep directories small)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path_for(self, sha256: str) -> Path:
        return Path(self._file(sha256))

    def _file(self, sha256: str) -> str:
        """``path_for`` as text: reads build it as a string, a third of the cost of a Path
        (the log's audit reads one blob per entry)."""
        if not _SHA256_HEX.match(sha256):
            raise IntegrityError(f"not a sha256 hex digest: {sha256!r}")
        return os.path.join(self.root, sha256[:2], sha256[2:4], sha256)

    def put_file(self, source: Path) -> tuple[str, int]:
        with source.open("rb") as handle:
            return self.put_stream(handle)

    def put_stream(self, source: BinaryIO) -> tuple[str, int]:
        make_directories(self.root)
        fd, tmp = locked_temp_file(self.root)
        try:
            with os.fdopen(fd, "wb") as out:
                sha256, size, _ = _copy_hashing(source, out)
                out.flush()
                os.fsync(out.fileno())
                self._commit(tmp, sha256)  # under the temp file's lock
        finally:
            tmp.unlink(missing_ok=True)
        return sha256, size

    def stage(self, source: BinaryIO) -> StagedBlob:
        make_directories(self.root)
        fd, tmp = locked_temp_file(self.root)
        staged = StagedBlob(tmp, "", 0, fd)
        try:
            # A second descriptor writes; the first keeps the lock until release or commit.
            with os.fdopen(os.dup(fd), "wb") as out:
                staged.sha256, staged.size, staged.sha512 = _copy_hashing(source, out)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(tmp, file_mode(read_only=True))
        except BaseException:
            staged.release()
            raise
        return staged

    def commit_staged(self, staged: StagedBlob) -> None:
        if staged.lock_fd < 0:
            raise IntegrityError(f"staged blob {staged.sha256} was already released")
        target = self.path_for(staged.sha256)
        if _is_stored(target):
            return  # the same bytes are stored already; release() removes the copy
        make_directories(target.parent)
        os.replace(staged.path, target)
        fsync_directory(target.parent)

    def put_bytes(self, data: bytes) -> str:
        make_directories(self.root)
        sha256 = hashlib.sha256(data).hexdigest()
        if self.exists(sha256):
            return sha256
        fd, tmp = locked_temp_file(self.root)
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
                self._commit(tmp, sha256)
        finally:
            tmp.unlink(missing_ok=True)
        return sha256

    def _commit(self, tmp: Path, sha256: str) -> None:
        target = self.path_for(sha256)
        if _is_stored(target):
            # Content addressing: same name, same bytes. Never overwrite what is archived.
            return
        make_directories(target.parent)
        os.chmod(tmp, file_mode(read_only=True))
        os.replace(tmp, target)
        fsync_directory(target.parent)

    def remove_stale_temp_files(self) -> int:
        """Temp files of killed runs; a live writer's are kept (they are locked)."""
        return remove_stale_temp_files(self.root) if self.root.is_dir() else 0

    def exists(self, sha256: str) -> bool:
        return _is_stored(self._file(sha256))

    def open(self, sha256: str) -> BinaryIO:
        path = self._file(sha256)
        try:
            return open_regular(path)
        except InputRejected as exc:
            if not os.path.lexists(path):
                raise BlobMissing(f"blob {sha256} is missing from the blob store") from exc
            raise IntegrityError(
                f"blob {sha256} is not the file the store wrote: {exc.reason}"
            ) from exc

    def read_bytes(self, sha256: str) -> bytes:
        with self.open(sha256) as handle:
            return handle.read()

    def modified_at(self, sha256: str) -> float:
        try:
            return self.path_for(sha256).lstat().st_mtime
        except FileNotFoundError as exc:
            raise BlobMissing(f"blob {sha256} is missing from the blob store") from exc

    def discard(self, sha256: str) -> None:
        path = self.path_for(sha256)
        path.unlink(missing_ok=True)
        fsync_directory(path.parent)

    def iter_hashes(self) -> Iterator[str]:
        for path in sorted(self.root.glob("??/??/*")):
            if _SHA256_HEX.match(path.name):
                yield path.name
