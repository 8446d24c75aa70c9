"""Wiring: the archive and its search index, opened together from an archive home.

This is the composition root: ingest results flow into the index here, so that ingest/ and
search/ never import each other.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Row, insert

from api.group_commit import GroupCommit
from archive import log
from archive.errors import ConfigError, SearchUnavailable
from archive.home import ArchiveHome
from archive.models import AccessLevel, Event, QuarantineEntry, Record
from archive.recovery import census, restore_all
from archive.repository import Archive
from ingest.agencies import read_names
from ingest.contracts import IngestContext, IngestResult, IngestSettings, Status, with_limits
from ingest.pipeline import ingest_one
from ingest.runner import Inputs, run_ingest
from ingest.signatures import TrustRoots
from ingest.tesseract_ocr import OCR_ENGINES, TesseractEngine
from ingest.watch import FolderWatch
from retention.schedule import SeriesRule, load_schedule
from search.contracts import SearchIndex, SearchRequest, SearchResults
from search.engines import CURRENT, Engine, GenerationWatch, engine, open_current
from search.indexer import Batcher, IndexingReport, catch_up, differences, open_or_rebuild, rebuild

if TYPE_CHECKING:
    from ingest.distributed import Dispatcher

ResultSink = Callable[[IngestResult], None]
# CA certificates (PEM or DER) whose signatures are trusted, in the archive home.
TRUST_ROOTS_DIR = "trust-roots"


# Built once: every read of a non-public record writes one.
_AUDITED_READ = insert(Event)


@dataclass
class IngestReport:
    """What a run did, input by input, and whether the index kept up."""

    results: list[IngestResult] = field(default_factory=list)
    # Sealed records the index could not take yet; the next ingest or 'luutru reindex' will.
    not_indexed: set[str] = field(default_factory=set)
    index_problem: str | None = None

    def count(self, status: Status) -> int:
        return sum(1 for r in self.results if r.status is status)


# An unreferenced blob younger than this may belong to an ingest still running: kept.
ORPHAN_GRACE_SECONDS = 24 * 3600


@dataclass
class Housekeeping:
    """What `luutru verify` finds around the records: the index and the blob store."""

    missing_from_index: list[str] = field(default_factory=list)
    stale_in_index: list[str] = field(default_factory=list)
    orphan_blobs: list[str] = field(default_factory=list)
    # Records whose signed manifests are in the blob store but not in the database (damage).
    lost_records: list[str] = field(default_factory=list)
    restored: list[str] = field(default_factory=list)
    repaired: bool = False
    # Said when the index was missing or could not be opened, and was rebuilt to compare.
    index_rebuilt: str | None = None
    # Records with a signed revision in the blob store newer than the database's (kept).
    newer_revisions: list[str] = field(default_factory=list)

    @property
    def unrestored(self) -> list[str]:
        """Lost records still lost (not restored by this run's repair)."""
        return [rid for rid in self.lost_records if rid not in self.restored]

    def repairable(self) -> bool:
        """Whether 'verify --repair' has something to do."""
        return bool(
            self.missing_from_index or self.stale_in_index or self.orphan_blobs or self.unrestored
        )

    def damage(self) -> list[str]:
        left = self.unrestored
        return [
            f"record {rid} is sealed in the blob store (its signed manifest is there) but "
            "missing from the database: was the database restored from an older backup? "
            "'luutru verify --repair' restores it from its manifest and seal"
            for rid in left
        ]

    def warnings(self) -> list[str]:
        found = []
        if self.missing_from_index:
            found.append(f"{len(self.missing_from_index)} record(s) missing from the search index")
        if self.stale_in_index:
            found.append(f"{len(self.stale_in_index)} index entries for no record")
        if self.orphan_blobs:
            found.append(
                f"{len(self.orphan_blobs)} blob(s) no record references (left by killed runs)"
            )
        found += [
            f"record {rid}: the blob store holds a signed revision of it newer than the one "
            "the database has (an edit that did not commit, or a database restored from "
            "before an edit; compare with a kept checkpoint: 'verify --checkpoint'); kept"
            for rid in self.newer_revisions
        ]
        return found


class Services:
    """The archive, and its search index opened when first needed (a command that does not
    search never waits for it)."""

    def __init__(self, archive: Archive, chosen: Engine) -> None:
        self.archive = archive
        self.engine = chosen
        # What opening the index found: a rebuilt index, or records caught up.
        self.index_note: str | None = None
        self._index: SearchIndex | None = None
        self._watch: GenerationWatch | None = None
        self._current_seen: tuple[int, int, int] | None = None  # CURRENT when last read
        # Audited reads are committed together, one batch at a time: the API's threads wait
        # for each other here, not in SQLite's busy handler, whose sleeps of up to 100 ms
        # made the tail of keyed reads, and share each commit's flush.
        self._audits = GroupCommit(self._write_audits)
        # The embedded SQLite file answers a read by key from its page cache in a fraction of
        # a millisecond, less than the API's hand-off to a worker thread and back costs
        # (bench/RESULTS.md): such reads run on the event loop. PostgreSQL answers over a
        # network, which may stall: its reads stay in worker threads.
        self.key_reads_on_loop = archive.engine.dialect.name == "sqlite"

    @classmethod
    def open(cls, home: ArchiveHome, catch_up_index: bool = False) -> Services:
        """The archive; with ``catch_up_index`` (``search``, ``serve``) the index is opened at
        once and what it lacks or holds with another access level or seal is indexed."""
        archive = Archive.open(home)
        try:
            settings = archive.settings
            services = cls(archive, engine(settings.search_engine, settings.database_url))
            if catch_up_index:
                _ = services.index
                services.index_note = services.index_note or services.catch_up_quietly()
            return services
        except BaseException:
            archive.close()
            raise

    @property
    def index(self) -> SearchIndex:
        """The index in use; a missing or unusable one is rebuilt from the archive first."""
        if self._index is None:
            directory = self.archive.home.index_dir
            self._index, rebuilt = open_or_rebuild(self.archive, directory, self.engine)
            self._watch = GenerationWatch(directory, self.engine)
            if rebuilt is not None:
                self.index_note = f"the search index was rebuilt ({rebuilt.indexed} records)"
        return self._index

    def catch_up_quietly(self) -> str | None:
        """Catch the index up; a problem is said, never raised: the archive is the truth."""
        try:
            done = catch_up(self.archive, self.index)
        except SearchUnavailable as exc:
            return f"the search index could not catch up: {exc}"
        if done.indexed or done.removed:
            return f"the search index caught up ({done.indexed} indexed, {done.removed} removed)"
        return None

    def _reopen_if_swapped(self) -> None:
        """A rebuild elsewhere swapped in a new generation: read that one from now on. A swap
        writes ``CURRENT`` anew (a new file renamed into place): until that file is another
        one, it is not read again."""
        try:
            found = os.stat(self.archive.home.index_dir / CURRENT)
            stamp: tuple[int, int, int] | None = (found.st_ino, found.st_mtime_ns, found.st_size)
        except OSError:
            stamp = None
        if stamp is not None and stamp == self._current_seen:
            return
        self._current_seen = stamp
        if self._watch is not None and self._watch.changed():
            reopened = open_current(self.archive.home.index_dir, self.engine)
            if reopened is not None and self._index is not None:
                self._index.close()
                self._index = reopened

    def search(self, request: SearchRequest) -> SearchResults:
        """Search, then check every hit against the database's clearance: a hit the index
        holds with an outdated access level is re-indexed and the search run again, so a
        record made secret since it was indexed never shows, nor counts. Told as a reader
        of that clearance may be told (``SearchResults.for_reader``)."""
        return self._checked_search(request).for_reader(request.clearance)

    def _checked_search(self, request: SearchRequest) -> SearchResults:
        self._reopen_if_swapped()
        results = self.index.search(request)
        ids = [hit.record_id for hit in results.hits]
        if not ids or self._hits_allowed(ids, request.clearance) == set(ids):
            return results
        self.catch_up_quietly()
        results = self.index.search(request)
        allowed = self._hits_allowed([hit.record_id for hit in results.hits], request.clearance)
        hits = [hit for hit in results.hits if hit.record_id in allowed]
        if len(hits) != len(results.hits):
            # The index cannot be trusted for counts now; say only what the database allows.
            return SearchResults(len(hits), hits, {})
        return results

    def _hits_allowed(self, ids: list[str], clearance: AccessLevel) -> set[str]:
        # A destroyed record is no hit, whatever the index still holds of it.
        return self.archive.visible(ids, clearance, destroyed=False)

    def all_matches(self, text: str, clearance: AccessLevel = AccessLevel.SECRET) -> list[str]:
        """Every record a query finds (a legal hold by query keeps them all), page by page."""
        found: list[str] = []
        while True:
            page = self.search(
                SearchRequest.of(text, clearance, limit=500, offset=len(found), facets=False)
            )
            found += [hit.record_id for hit in page.hits]
            if not page.hits or len(found) >= page.total:
                return found

    def reindex(self, progress: Callable[[int, int], None] | None = None) -> IndexingReport:
        """Rebuild the index beside the one in use and swap it in (resumable)."""
        report = rebuild(self.archive, self.archive.home.index_dir, self.engine, progress)
        self._reopen_if_swapped()
        return report

    def close(self) -> None:
        try:
            if self._index is not None:
                self._index.close()
        finally:
            self.archive.close()

    def __enter__(self) -> Services:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    @staticmethod
    def audited(record: Record | Row[Any]) -> bool:
        """Whether a read of ``record`` (its ORM object or its row) is kept (``audit_read``):
        it is not public."""
        return record.access != AccessLevel.PUBLIC.value

    def audit_read(self, record: Record | Row[Any], reader: str | None, what: str) -> None:
        """Keep a read of a non-public record, over the API or the web page: who, what, when."""
        if not self.audited(record):
            return
        read = {"at": datetime.now(UTC), "kind": "read", "record_id": record.id,
                "outcome": "pass", "agent": reader or "anonymous", "detail": what}  # fmt: skip
        self._audits.keep(read)

    def _write_audits(self, reads: list[dict[str, Any]]) -> None:
        with self.archive.faults(), self.archive.engine.begin() as connection:
            connection.execute(_AUDITED_READ, reads)

    def schedule(self) -> dict[str, SeriesRule]:
        """The archive's retention schedule: ``schedule.toml`` in the home, else the default."""
        own = self.archive.home.root / "schedule.toml"
        return load_schedule(own) if own.is_file() else load_schedule()

    def ingest_settings(
        self,
        access: AccessLevel | None = None,
        series_code: str | None = None,
        closed_year: int | None = None,
    ) -> IngestSettings:
        """Settings for an ingest into this archive: the options given, the archive's own
        issuing bodies from ``agencies.txt`` in its home (``ingest.agencies``), the CA
        certificates in ``trust-roots/`` that incoming signatures are checked against, and
        the limits of its ``[ingest]`` table in luutru.toml."""
        own = self.archive.home.root / "agencies.txt"
        try:
            names = tuple(read_names(own)) if own.is_file() else ()
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"cannot read {own}: {exc}") from exc
        chosen = IngestSettings(
            access=access,
            series_code=series_code,
            closed_year=closed_year,
            agency_names=names,
            trust_roots=TrustRoots.load(self.archive.home.root / TRUST_ROOTS_DIR),
        )
        return with_limits(chosen, dict(self.archive.settings.ingest_limits))

    def dispatcher(self) -> Dispatcher:
        """The broker's client for distributed OCR (``luutru ingest --distributed``)."""
        # Imported here: Celery is the optional extra ``luutru[distributed]``.
        from ingest.distributed import Dispatcher, make_app

        url = self.archive.settings.broker_url
        if not url:
            raise ConfigError(
                "distributed OCR needs a message broker: set broker_url in luutru.toml or "
                "LUUTRU_BROKER_URL (redis://… or amqp://…)"
            )
        queue = self.broker_queue()
        return Dispatcher(make_app(url, queue), self.archive.home.root, queue)

    def broker_queue(self) -> str:
        """This archive's queue on the broker, shared by its workers and its ingests."""
        from ingest.distributed import queue_name

        with self.archive.session() as session:
            return queue_name(log.head(session).origin)

    def ingest(
        self,
        inputs: Inputs | list[Path],
        settings: IngestSettings,
        workers: int = 1,
        on_result: ResultSink | None = None,
        stop: threading.Event | None = None,
        report: IngestReport | None = None,
        distributed: bool = False,
    ) -> IngestReport:
        """Ingest, index sealed records in batches as they arrive, and report exactly what
        happened (into ``report`` as it goes, so a run that stops early still tells what it
        did).

        An indexing failure never fails the ingest: the record is sealed, the archive is the
        point of truth, and the index catches up on the next run."""
        report = report if report is not None else IngestReport()
        if isinstance(inputs, list):
            inputs = Inputs(files=inputs)
        steps = None
        if distributed:
            from ingest.distributed import distributed_pipeline

            dispatcher = self.dispatcher()
            dispatcher.check_workers()
            steps = distributed_pipeline(dispatcher)
        context, deliver, batcher = self._start_ingest(settings, report, on_result)
        for skipped in inputs.skipped:
            deliver(skipped)
        try:
            run_ingest(inputs.files, context, workers, deliver, stop, steps)
        finally:
            self._finish_indexing(batcher, report)
        return report

    def watch(
        self,
        folder: Path,
        settings: IngestSettings,
        stop: threading.Event,
        workers: int = 1,
        on_result: ResultSink | None = None,
        report: IngestReport | None = None,
        settle_seconds: float = 5.0,
    ) -> IngestReport:
        """Ingest what a scanner writes into ``folder`` until ``stop`` is set, each file once
        it has stopped changing (``ingest.watch``), with the guarantees of ``ingest``."""
        report = report if report is not None else IngestReport()
        context, deliver, batcher = self._start_ingest(settings, report, on_result)
        try:
            for ready, skipped in FolderWatch(folder, settle_seconds).batches(stop.wait):
                for passed_over in skipped:
                    deliver(passed_over)
                run_ingest(ready, context, workers, deliver, stop)
                self._flush(batcher, report)  # a watched folder's files are found at once
        finally:
            self._finish_indexing(batcher, report)
        return report

    def _start_ingest(
        self, settings: IngestSettings, report: IngestReport, on_result: ResultSink | None
    ) -> tuple[IngestContext, ResultSink, Batcher]:
        context = IngestContext(self.archive, ocr_engine(settings), settings)
        self.archive.remove_stale_temp_files()
        batcher = Batcher(self.archive, self.index, self._index_in_use)
        deliver = self._deliverer(report, on_result, batcher)
        # Records sealed by an earlier, killed run may not have reached the index yet.
        self._catch_up(report)
        return context, deliver, batcher

    def retry_quarantined(
        self,
        entries: list[QuarantineEntry],
        settings: IngestSettings,
        on_result: ResultSink | None = None,
        report: IngestReport | None = None,
    ) -> IngestReport:
        """Run the pipeline again on the kept copies (after a language pack was installed,
        say); an entry whose input is now archived leaves the quarantine."""
        report = report if report is not None else IngestReport()
        context = IngestContext(self.archive, ocr_engine(settings), settings)
        context.ocr.check(settings.ocr_languages)
        batcher = Batcher(self.archive, self.index, self._index_in_use)
        deliver = self._deliverer(report, on_result, batcher)
        shelf = self.archive.quarantine_shelf
        try:
            for entry in entries:
                copy = shelf.kept_copy(entry)
                if copy is None:
                    deliver(
                        IngestResult(
                            entry.source_path,
                            Status.QUARANTINED,
                            sha256=entry.sha256 or None,
                            reason=f"no copy was kept ({entry.reason}); ingest it from where it is",
                        )
                    )
                    continue
                result = ingest_one(copy, _as_given(context, entry), label=entry.source_path)
                if result.status in (Status.SEALED, Status.DUPLICATE):
                    shelf.release(entry)
                deliver(result)
        finally:
            self._finish_indexing(batcher, report)
        return report

    def housekeeping(self, repair: bool = False) -> Housekeeping:
        """Compare the index and the blob store with the archive; with ``repair``, index what
        is missing or outdated, drop what is stale and remove day-old unreferenced blobs."""
        blobs = census(self.archive, older_than=ORPHAN_GRACE_SECONDS)
        if repair and blobs.lost:
            # Lost records first: once restored they are indexed like any other.
            restored, _ = restore_all(self.archive, blobs)
        else:
            restored = []
        opened_before = self._index is not None
        missing, stale = differences(self.archive, self.index)
        found = Housekeeping(missing, stale, blobs.orphans, sorted(blobs.lost), restored,
                             newer_revisions=sorted(blobs.ahead))  # fmt: skip
        if not opened_before and self.index_note:
            found.index_rebuilt = f"{self.index_note}: it was missing or could not be opened"
        if repair and (missing or stale or blobs.orphans or restored):
            catch_up(self.archive, self.index)
            for sha256 in blobs.orphans:
                self.archive.blobs.discard(sha256)
            found.repaired = True
        return found

    def _deliverer(
        self, report: IngestReport, on_result: ResultSink | None, batcher: Batcher
    ) -> ResultSink:
        lock = threading.Lock()

        def deliver(result: IngestResult) -> None:
            with lock:
                report.results.append(result)
                if result.status is Status.SEALED and result.record_id:
                    pending = [*batcher.pending, result.record_id]
                    try:
                        batcher.add(result.record_id)
                    except SearchUnavailable as exc:
                        report.not_indexed.update(pending)
                        report.index_problem = str(exc)
                        batcher.pending = []
            if on_result is not None:
                on_result(result)

        return deliver

    def _flush(self, batcher: Batcher, report: IngestReport) -> None:
        pending = list(batcher.pending)
        try:
            batcher.flush()
        except SearchUnavailable as exc:
            report.not_indexed.update(pending)
            report.index_problem = str(exc)
            batcher.pending = []

    def _index_in_use(self) -> SearchIndex:
        self._reopen_if_swapped()
        return self.index

    def _finish_indexing(self, batcher: Batcher, report: IngestReport) -> None:
        self._flush(batcher, report)
        if report.not_indexed or self._index_in_use() is not batcher.started_on:
            # A rebuild swapped in another generation during the run: what this run indexed
            # into the one before may be missing from it.
            self._catch_up(report)

    def _catch_up(self, report: IngestReport) -> None:
        try:
            catch_up(self.archive, self.index)
        except SearchUnavailable as exc:
            report.index_problem = str(exc)
            return
        report.not_indexed.clear()


def _as_given(context: IngestContext, entry: QuarantineEntry) -> IngestContext:
    """The retry of a quarantined input is archived as the input was to be (its access level,
    series and closed year), unless the retry itself says otherwise."""
    settings = context.settings
    given = replace(
        settings,
        access=settings.access or (AccessLevel(entry.access) if entry.access else None),
        series_code=settings.series_code or entry.series_code,
        closed_year=settings.closed_year or entry.closed_year,
    )
    return replace(context, settings=given)


def ocr_engine(settings: IngestSettings) -> TesseractEngine:
    return OCR_ENGINES["tesseract"](page_timeout_seconds=settings.page_timeout_seconds)
