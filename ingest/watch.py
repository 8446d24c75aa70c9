"""A scanner's output folder, watched: each file is taken once it has stopped changing.

Scanners and copy tools write a file over seconds; a file read half written would be
quarantined as damaged, or worse, archived short. So a file is ready only when its size and
modification time have stayed the same for ``settle_seconds``. Polling (not inotify) because
scanners often write to network shares, where change notifications do not arrive.

A file is offered once per version (path, size, mtime): one that was quarantined is not
tried again until it changes, and one changed after it was archived is a new version.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from archive.errors import UsageError
from archive.text import path_text
from ingest.contracts import IngestResult
from ingest.runner import collect_inputs

Version = tuple[int, int]  # size, mtime in nanoseconds


@dataclass
class FolderWatch:
    folder: Path
    settle_seconds: float = 5.0
    clock: Callable[[], float] = time.monotonic
    # Path -> (version last seen, when it was first seen with that version).
    _changing: dict[Path, tuple[Version, float]] = field(default_factory=dict)
    _offered: dict[Path, Version] = field(default_factory=dict)
    _reported_skips: set[str] = field(default_factory=set)

    def poll(self) -> tuple[list[Path], list[IngestResult]]:
        """Files that have settled since the last poll, and what was passed over (scanner
        litter, hidden files, links), each reported once."""
        self._check_folder()
        found = collect_inputs([self.folder])
        now = self.clock()
        ready: list[Path] = []
        present = set()
        for path in found.files:
            version = _version(path)
            if version is None:
                continue  # gone between listing and looking
            present.add(path)
            if self._offered.get(path) == version:
                continue
            seen = self._changing.get(path)
            if seen is None or seen[0] != version:
                self._changing[path] = (version, now)
            elif now - seen[1] >= self.settle_seconds:
                del self._changing[path]
                self._offered[path] = version
                ready.append(path)
        for gone in set(self._changing) - present:
            del self._changing[gone]
        skipped = [s for s in found.skipped if s.path not in self._reported_skips]
        self._reported_skips.update(s.path for s in skipped)
        return ready, skipped

    def _check_folder(self) -> None:
        """A folder that is gone (deleted, a share unmounted) or is a link stops the watch
        with a clear error: watching nothing would look like a quiet scanner for ever."""
        if self.folder.is_symlink():
            raise UsageError(
                f"{path_text(self.folder)} is a symbolic link; watch the folder itself "
                f"({path_text(self.folder.resolve())})"
            )
        if not self.folder.is_dir():
            raise UsageError(
                f"the watched folder {path_text(self.folder)} is gone (deleted, or its share "
                "unmounted); nothing more can arrive, so the watch stops"
            )

    def batches(
        self, stopped: Callable[[float], bool]
    ) -> Iterator[tuple[list[Path], list[IngestResult]]]:
        """Poll until ``stopped(timeout)`` (e.g. ``threading.Event.wait``) says to end."""
        interval = min(1.0, self.settle_seconds / 2)
        while True:
            ready, skipped = self.poll()
            if ready or skipped:
                yield ready, skipped
            if stopped(interval):
                return


def _version(path: Path) -> Version | None:
    try:
        stat = path.lstat()
    except OSError:
        return None
    return stat.st_size, stat.st_mtime_ns
