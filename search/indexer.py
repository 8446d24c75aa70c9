"""Feed the index from the archive: the only way anything enters it.

- ``document_for``: what of a record is searchable, and its stamp (access level and seal), by
  which the index is compared with the archive;
- ``catch_up``: index what the archive has and the index lacks or holds with another stamp (a
  record made secret since, an edit), drop what the archive no longer has;
- ``Batcher``: ingest's buffer; commits by count and by time, so sealing is not slowed by an
  index commit per record;
- ``rebuild``: the whole index from the database and blobs alone, in a new generation beside
  the one in use, resumable, in batches with bounded memory; swapped in when complete.
  Records that cannot be read are skipped and reported, never a reason to stop.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from archive.errors import IntegrityError, SearchUnavailable
from archive.repository import Archive, Searchable
from search.contracts import IndexDocument, SearchIndex
from search.engines import Engine, building_generation, open_current, publish, rebuild_lock

log = logging.getLogger(__name__)

# Records indexed per commit by catch-up and rebuild (a killed rebuild resumes from the last
# commit). A commit costs ~0.1-0.4 s whatever its size (segment files, fsync, merges):
# every 500 records, it was most of a 100k-record rebuild. Memory does not grow with it:
# records are read 500 at a time and the writer's heap is bounded.
BATCH_RECORDS = 5000
COMMIT_EVERY_RECORDS = 200
COMMIT_EVERY_SECONDS = 2.0


def stamp_of(access: str, manifest_sha256: str | None) -> str:
    return f"{access}:{manifest_sha256 or ''}"


def document_for(record: Searchable, text: str, retention: str = "") -> IndexDocument:
    return IndexDocument(
        record_id=record.id,
        title=record.title,
        number=record.doc_number,
        date=record.issued_date,
        access=record.access_level,
        series_code=record.series_code,
        body=text,
        doc_type=record.doc_type,
        type_name=record.type_name,
        issuer=record.issuer,
        subject=record.subject,
        retention=retention,
        stamp=stamp_of(record.access, record.manifest_sha256),
    )


@dataclass
class IndexingReport:
    indexed: int = 0
    removed: int = 0
    # Records that could not be indexed as they are, with why ('luutru verify' says more).
    damaged: list[str] = field(default_factory=list)


def _documents(archive: Archive, ids: list[str], report: IndexingReport) -> Iterator[IndexDocument]:
    for record in archive.searchable(ids):
        try:
            _ = record.access_level
        except IntegrityError as exc:
            # Fail closed: a record whose access level cannot be read is not searchable.
            report.damaged.append(f"{record.id}: {exc}")
            continue
        try:
            text = archive.read_text(record.text_sha256, record.status)
        except (IntegrityError, UnicodeDecodeError, OSError) as exc:
            report.damaged.append(
                f"{record.id}: its text cannot be read ({exc}); indexed without it"
            )
            text = ""
        yield document_for(record, text)


def index_records(
    archive: Archive,
    index: SearchIndex,
    record_ids: Iterable[str],
    progress: Callable[[int], None] | None = None,
) -> IndexingReport:
    """Index the records, committing every ``BATCH_RECORDS`` (bounded memory)."""
    report = IndexingReport()
    wanted = list(record_ids)
    for start in range(0, len(wanted), BATCH_RECORDS):
        chunk = wanted[start : start + BATCH_RECORDS]
        report.indexed += index.add(_documents(archive, chunk, report))
        index.commit()
        if progress is not None:
            progress(len(chunk))
    return report


def differences(archive: Archive, index: SearchIndex) -> tuple[list[str], list[str]]:
    """(records to index, ids to drop): what the index lacks or holds with another stamp,
    and what the archive no longer has."""
    archived = archive.record_stamps()
    indexed = index.stamps()
    stale = sorted(set(indexed) - set(archived))
    missing = sorted(rid for rid, stamp in archived.items() if indexed.get(rid) != stamp)
    return missing, stale


def catch_up(
    archive: Archive, index: SearchIndex, progress: Callable[[int], None] | None = None
) -> IndexingReport:
    missing, stale = differences(archive, index)
    if stale:
        index.remove(stale)
    report = index_records(archive, index, missing, progress) if missing else IndexingReport()
    report.removed = len(stale)
    return report


class Batcher:
    """Collects sealed records during an ingest and indexes them together, every
    ``COMMIT_EVERY_RECORDS`` records or ``COMMIT_EVERY_SECONDS`` seconds, and at ``flush``.
    A record sealed but not yet committed to the index when a run is killed is found by the
    next catch-up."""

    def __init__(
        self,
        archive: Archive,
        index: SearchIndex,
        in_use: Callable[[], SearchIndex] | None = None,
    ) -> None:
        self.archive = archive
        self.index = self.started_on = index
        # The index in use at each commit: a rebuild may swap in another while an ingest runs.
        self.in_use = in_use
        self.pending: list[str] = []
        self._since = time.monotonic()
        self.report = IndexingReport()

    def add(self, record_id: str) -> None:
        if not self.pending:
            self._since = time.monotonic()
        self.pending.append(record_id)
        if (
            len(self.pending) >= COMMIT_EVERY_RECORDS
            or time.monotonic() - self._since >= COMMIT_EVERY_SECONDS
        ):
            self.flush()

    def flush(self) -> None:
        """Index what is pending; raises ``SearchUnavailable`` with the records still pending
        (the caller reports them; the next catch-up indexes them)."""
        if not self.pending:
            return
        if self.in_use is not None:
            self.index = self.in_use()
        done = index_records(self.archive, self.index, self.pending)
        self.report.indexed += done.indexed
        self.report.damaged += done.damaged
        self.pending = []


def rebuild(
    archive: Archive,
    directory: Path,
    chosen: Engine,
    progress: Callable[[int, int], None] | None = None,
) -> IndexingReport:
    """Build the whole index in a new generation, resuming an unfinished one, and swap it in.
    The index in use stays as it was until the new one is complete. Records sealed while it
    was built are indexed into it after the swap (an ingest running meanwhile indexed them
    into the generation it replaced)."""
    with rebuild_lock(directory):
        report = _rebuild(archive, directory, chosen, progress)
    swapped_in = open_current(directory, chosen)
    if swapped_in is not None:
        try:
            late = catch_up(archive, swapped_in)
        finally:
            swapped_in.close()
        report.indexed += late.indexed
        # A damaged record is tried again by that catch-up: said once.
        report.damaged += [said for said in late.damaged if said not in report.damaged]
    return report


def _rebuild(
    archive: Archive,
    directory: Path,
    chosen: Engine,
    progress: Callable[[int, int], None] | None,
) -> IndexingReport:
    building = building_generation(directory, chosen)
    fresh = chosen.open(building)
    try:
        missing, stale = differences(archive, fresh)
        if stale:
            fresh.remove(stale)
        total, done = len(missing), 0

        def advance(count: int) -> None:
            nonlocal done
            done += count
            if progress is not None:
                progress(done, total)

        report = index_records(archive, fresh, missing, advance)
    finally:
        fresh.close()
    publish(directory, building)
    return report


def open_or_rebuild(
    archive: Archive, directory: Path, chosen: Engine
) -> tuple[SearchIndex, IndexingReport | None]:
    """The index in use; when there is none (deleted, another engine or schema, damaged), a
    rebuild from the archive first."""
    try:
        opened = open_current(directory, chosen)
    except SearchUnavailable as exc:
        log.warning("the search index cannot be opened (%s); rebuilding it", exc)
        opened = None
    if opened is not None:
        return opened, None
    with rebuild_lock(directory):
        opened = open_current(directory, chosen)  # built by another process meanwhile?
        if opened is not None:
            return opened, None
        report = _rebuild(archive, directory, chosen, None)
    reopened = open_current(directory, chosen)
    if reopened is None:
        raise SearchUnavailable(f"the search index at {directory} could not be rebuilt")
    return reopened, report
