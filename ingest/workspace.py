"""Where an ingest keeps its work files: the archive home's ``tmp/`` folder, never $TMPDIR.

Work files hold the content of records (a page image sent to tesseract, its text, the
archival copy before it is sealed), so they stay where the records are: in the home, owner
only like everything else there, on the archive's own disk. Rules:
- each run (one ``run_ingest``, or one ``ingest_one`` called on its own) works in a folder of
  its own, ``tmp/.run-*``, locked (flock) for as long as the run lasts and removed at its end;
- a run killed before its end (kill -9, a power cut) leaves its folder unlocked, and the next
  run removes it before it starts (``archive.fsutil.remove_stale_temp_directories``); a
  folder another live run holds is locked, and stays.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from types import TracebackType

from archive.errors import StorageError
from archive.fsutil import (
    locked_temp_directory,
    make_directories,
    remove_stale_temp_directories,
)

WORK_DIR = "tmp"
RUN_PREFIX = ".run-"


class Workspace:
    """One run's folder of work files; ``close`` removes it with everything in it."""

    def __init__(self, fd: int, path: Path) -> None:
        self._fd: int | None = fd
        self.path = path

    @classmethod
    def open(cls, home_root: Path) -> Workspace:
        """A new locked folder under ``home_root/tmp``, after removing those of killed runs."""
        parent = home_root / WORK_DIR
        try:
            make_directories(parent)
            remove_stale_temp_directories(parent, RUN_PREFIX)
            fd, path = locked_temp_directory(parent, RUN_PREFIX)
        except OSError as exc:
            # The archive's disk, not an input: the run stops before it starts.
            raise StorageError(f"cannot write the archive's work folder {parent}: {exc}") from exc
        return cls(fd, path)

    def new_file(self, prefix: str, suffix: str = "") -> Path:
        """An empty file of this run's, for a step to write and its cleanup to remove."""
        fd, name = tempfile.mkstemp(prefix=prefix, suffix=suffix, dir=self.path)
        os.close(fd)
        return Path(name)

    def close(self) -> None:
        if self._fd is None:
            return
        shutil.rmtree(self.path, ignore_errors=True)
        os.close(self._fd)
        self._fd = None

    def __enter__(self) -> Workspace:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
