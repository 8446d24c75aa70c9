from collections.abc import Iterator
from pathlib import Path

import pytest

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
