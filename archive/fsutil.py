"""Crash-safe, private file writes, and careful reads of files that come from outside.

Writes: temp file in the same directory, fsync, rename, fsync the directory. A reader sees either
the old file or the complete new one, never a torn write, and after ``atomic_write`` returns the
bytes survive a power cut. Every new directory is fsynced into its parent, so a crash cannot
lose a folder that a committed record's blob lives in.

Modes: an archive holds secret records, so everything luutru writes is owner-only (umask 077),
or group-readable when the archive names a group (umask 027). The umask is a property of the
process; ``apply_umask`` sets it once, when an archive is opened.

Temp files are locked (flock) while being written, so that ``remove_stale_temp_files`` can tell
a file left by a killed run from one another process is still writing. Temp folders (an
ingest's work: page images, text) are locked the same way, through a descriptor of the folder,
and ``remove_stale_temp_directories`` removes those of killed runs.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import stat
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import BinaryIO

from archive.errors import InputRejected

PRIVATE_UMASK = 0o077
GROUP_UMASK = 0o027
TEMP_PREFIX = ".incoming-"
# A temp file younger than this is never removed: its writer may not have locked it yet.
STALE_AFTER_SECONDS = 60.0

_umask = PRIVATE_UMASK


def apply_umask(group_readable: bool = False) -> None:
    global _umask
    _umask = GROUP_UMASK if group_readable else PRIVATE_UMASK
    os.umask(_umask)


def file_mode(read_only: bool = False) -> int:
    """0600 (0640 with a group); read-only 0400 (0440)."""
    return (0o444 if read_only else 0o666) & ~_umask


def directory_mode() -> int:
    return 0o777 & ~_umask


def fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def make_directories(directory: Path) -> None:
    """``mkdir -p`` that fsyncs each new directory into its parent."""
    missing: list[Path] = []
    current = directory
    while not current.exists():
        missing.append(current)
        current = current.parent
    for new in reversed(missing):
        try:
            new.mkdir(mode=directory_mode())
        except FileExistsError:
            continue  # another process made it; it fsyncs it
        fsync_directory(new.parent)


def locked_temp_file(directory: Path, prefix: str = TEMP_PREFIX) -> tuple[int, Path]:
    """A new temp file in ``directory``, open and flock-ed until its descriptor is closed."""
    fd, name = tempfile.mkstemp(dir=directory, prefix=prefix)
    fcntl.flock(fd, fcntl.LOCK_EX)
    return fd, Path(name)


def remove_stale_temp_files(directory: Path, prefix: str = TEMP_PREFIX) -> int:
    """Remove temp files of killed runs (unlocked and older than a minute); return how many."""
    return _remove_stale(directory, prefix, 0, lambda path: path.unlink(missing_ok=True))


def locked_temp_directory(directory: Path, prefix: str = TEMP_PREFIX) -> tuple[int, Path]:
    """A new temp folder in ``directory`` (0700, whatever the umask), flock-ed through the
    returned descriptor until it is closed."""
    path = Path(tempfile.mkdtemp(dir=directory, prefix=prefix))
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    fcntl.flock(fd, fcntl.LOCK_EX)
    return fd, path


def remove_stale_temp_directories(directory: Path, prefix: str = TEMP_PREFIX) -> int:
    """Remove the temp folders of killed runs (unlocked and older than a minute) with all they
    hold; return how many. A link is never followed, a live run's folder stays."""
    return _remove_stale(
        directory, prefix, os.O_DIRECTORY, lambda path: shutil.rmtree(path, ignore_errors=True)
    )


def _remove_stale(
    directory: Path, prefix: str, open_flags: int, remove: Callable[[Path], object]
) -> int:
    removed = 0
    now = time.time()
    for path in directory.glob(f"{prefix}*"):
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | open_flags)
        except OSError:
            continue  # gone, a link, or not of the kind asked for: not ours to remove
        try:
            if now - os.fstat(fd).st_mtime < STALE_AFTER_SECONDS:
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # a live writer holds it
            remove(path)
            removed += 1
        finally:
            os.close(fd)
    return removed


def atomic_write(target: Path, chunks: Iterable[bytes], mode: int | None = None) -> None:
    """Write ``chunks`` to ``target`` atomically and durably (mode: ``file_mode()``)."""
    make_directories(target.parent)
    fd, tmp = locked_temp_file(target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            for chunk in chunks:
                handle.write(chunk)
            handle.flush()
            os.fsync(handle.fileno())
            os.chmod(tmp, file_mode() if mode is None else mode)
            os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_directory(target.parent)


def atomic_write_bytes(target: Path, data: bytes, mode: int | None = None) -> None:
    atomic_write(target, [data], mode)


_KINDS = {
    stat.S_IFDIR: "a directory",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFIFO: "a named pipe",
    stat.S_IFSOCK: "a socket",
    stat.S_IFLNK: "a symbolic link",
}


def open_regular(path: str | Path) -> BinaryIO:
    """Open an outside file for reading only if it is a regular file, not through a symlink.

    Checked on the open descriptor, so a file swapped for a link or a device after it was
    listed is refused too; O_NONBLOCK keeps a named pipe from hanging the open.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        if os.path.islink(path):
            raise InputRejected(str(path), "a symbolic link, not followed") from exc
        raise InputRejected(str(path), f"cannot read the file: {exc.strerror}") from exc
    try:
        kind = stat.S_IFMT(os.fstat(fd).st_mode)
        if kind != stat.S_IFREG:
            raise InputRejected(str(path), f"not a regular file ({_KINDS.get(kind, 'special')})")
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
