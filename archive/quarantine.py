"""Quarantine: inputs that could not be archived, kept with the reason so a clerk can act.

One entry per source path, absolute (re-running a batch meets the same bad file again: one
entry, the latest bytes and reason), with the access level, series and closed year it was
to be archived with. On disk each entry is a folder named after its source path:

    quarantine/<16 hex of sha256(path)>/REASON.txt     path, sha256, when, why
    quarantine/<16 hex of sha256(path)>/kept/<name>    a copy of the input, owner-only

so the reason sits beside the copy, never among copies where an input named REASON.txt could
overwrite it. Inputs are only ever read, never moved or changed. Anything that is not a regular
file (a device, a pipe, a link) is listed without being read.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.blobstore import CHUNK_SIZE, sha256_file
from archive.errors import InputRejected, UsageError
from archive.fsutil import atomic_write, atomic_write_bytes, open_regular
from archive.models import QuarantineEntry
from archive.text import path_text

REASON_FILE = "REASON.txt"
KEPT_FOLDER = "kept"


class QuarantineShelf:
    def __init__(
        self,
        root: Path,
        session: Callable[[], Session],
        faults: Callable[[], AbstractContextManager[None]],
    ) -> None:
        self.root = root
        self._session = session
        self._faults = faults

    def folder_for(self, source_path: str) -> Path:
        return self.root / hashlib.sha256(source_path.encode("utf-8")).hexdigest()[:16]

    def put(
        self,
        source: Path,
        reason: str,
        keep_copy: bool = True,
        label: str | None = None,
        placement: tuple[str | None, str | None, int | None] = (None, None, None),
    ) -> QuarantineEntry:
        """Record that ``source`` (shown as ``label``) was rejected; keep a copy if asked.

        An input is named by its absolute path (two folders' ``in/doc.png`` are two inputs);
        ``placement`` is the (access, series, closed year) it was to be archived with, kept
        for ``quarantine retry``."""
        if label is None or label == path_text(source):
            label = path_text(source.absolute())
        shown = label
        try:
            sha256, size = sha256_file(source)
        except (InputRejected, OSError):
            sha256, size, keep_copy = "", 0, False
        folder = self.folder_for(shown)
        kept = folder / KEPT_FOLDER
        if keep_copy and not source.resolve().is_relative_to(folder.resolve()):
            shutil.rmtree(kept, ignore_errors=True)  # an older version of the same path
            atomic_write(kept / source.name, _chunks(source))
        now = datetime.now(UTC)
        atomic_write_bytes(
            folder / REASON_FILE,
            f"{shown}\nsha256 {sha256 or '-'}\n{now.isoformat()}\n{reason}\n".encode(),
        )
        with self._faults(), self._session() as session, session.begin():
            entry = session.scalar(
                select(QuarantineEntry).where(QuarantineEntry.source_path == shown)
            )
            if entry is None:
                entry = QuarantineEntry(source_path=shown)
                session.add(entry)
            entry.sha256, entry.size = sha256, size
            entry.reason = reason
            entry.quarantined_at = now
            entry.access, entry.series_code, entry.closed_year = placement
        return entry

    def entries(self, ids: list[int] | None = None) -> list[QuarantineEntry]:
        query = select(QuarantineEntry).order_by(QuarantineEntry.id)
        if ids is not None:
            query = query.where(QuarantineEntry.id.in_(ids))
        with self._faults(), self._session() as session:
            found = list(session.scalars(query))
        missing = sorted(set(ids or []) - {entry.id for entry in found})
        if missing:
            raise UsageError(f"no quarantine entry {', '.join(map(str, missing))}")
        return found

    def kept_copy(self, entry: QuarantineEntry) -> Path | None:
        kept = self.folder_for(entry.source_path) / KEPT_FOLDER
        copies = sorted(kept.iterdir()) if kept.is_dir() else []
        return copies[0] if copies else None

    def release(self, entry: QuarantineEntry) -> None:
        """Forget an entry whose input has since been archived."""
        with self._faults(), self._session() as session, session.begin():
            row = session.get(QuarantineEntry, entry.id)
            if row is not None:
                session.delete(row)
        shutil.rmtree(self.folder_for(entry.source_path), ignore_errors=True)


def _chunks(path: Path) -> Iterator[bytes]:
    with open_regular(path) as handle:
        while chunk := handle.read(CHUNK_SIZE):
            yield chunk
