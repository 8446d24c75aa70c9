import os
import stat
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from archive import fsutil
from archive.errors import InputRejected
from archive.fsutil import atomic_write, atomic_write_bytes


def test_atomic_write_replaces_whole_file(tmp_path: Path) -> None:
    target = tmp_path / "a" / "file.txt"
    atomic_write_bytes(target, b"one")
    atomic_write_bytes(target, b"two")
    assert target.read_bytes() == b"two"


def test_failed_write_leaves_old_content_and_no_temp_file(tmp_path: Path) -> None:
    target = tmp_path / "file.txt"
    atomic_write_bytes(target, b"kept")

    def failing() -> Iterator[bytes]:
        yield b"partial"
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        atomic_write(target, failing())
    assert target.read_bytes() == b"kept"
    assert [p.name for p in tmp_path.iterdir()] == ["file.txt"]


def test_every_new_folder_is_fsynced_into_its_parent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced: list[Path] = []
    real = fsutil.fsync_directory

    def recording(directory: Path) -> None:
        synced.append(directory)
        real(directory)

    monkeypatch.setattr(fsutil, "fsync_directory", recording)
    fsutil.make_directories(tmp_path / "a" / "b" / "c")
    assert synced == [tmp_path, tmp_path / "a", tmp_path / "a" / "b"]


def test_stale_temp_files_go_but_a_live_writers_stay(tmp_path: Path) -> None:
    fd, live = fsutil.locked_temp_file(tmp_path)
    stale = tmp_path / f"{fsutil.TEMP_PREFIX}killed"
    stale.write_bytes(b"half a blob")
    fresh = tmp_path / f"{fsutil.TEMP_PREFIX}just-made"
    fresh.write_bytes(b"")
    old = time.time() - 2 * fsutil.STALE_AFTER_SECONDS
    for path in (live, stale):
        os.utime(path, (old, old))
    try:
        assert fsutil.remove_stale_temp_files(tmp_path) == 1
        assert live.exists() and fresh.exists() and not stale.exists()
    finally:
        os.close(fd)


def test_only_regular_files_are_opened(tmp_path: Path) -> None:
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    link = tmp_path / "link"
    link.symlink_to(tmp_path / "target")
    (tmp_path / "target").write_bytes(b"secret")
    cases = {
        pipe: "named pipe",
        Path("/dev/zero"): "character device",
        link: "symbolic link",
        tmp_path: "directory",
    }
    for path, kind in cases.items():
        with pytest.raises(InputRejected, match=kind):
            fsutil.open_regular(path)
    with fsutil.open_regular(tmp_path / "target") as handle:
        assert handle.read() == b"secret"


def test_written_files_are_owner_only(tmp_path: Path) -> None:
    fsutil.apply_umask()
    atomic_write_bytes(tmp_path / "new" / "file", b"x")
    assert stat.S_IMODE((tmp_path / "new" / "file").stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "new").stat().st_mode) == 0o700
