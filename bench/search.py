"""The search issue's measurements: luutru's engines side by side with raw baselines, one run.

    python -m bench.search                                  # every section at 100k records
    python -m bench.search --records 2000 --quick            # a small run of every section
    python -m bench.search --records 1000000 --sections speed --engines tantivy --baselines tantivy

Sections (``--sections``, comma-separated; all by default):

- ``relevance``: the relevance set (``bench.relevance``: 67 queries with planted answers) over
  the speed corpus, for luutru on each engine and for the raw baselines: recall@10, MRR, top-1,
  wrong answers and leaks, per kind and overall. luutru gets each query as a
  ``SearchRequest`` (``parse_query`` of the text, the case's filters as ``Filters``, public
  clearance, top 10); the baselines get its plain words (their engines have no query language).
- ``speed``: one corpus (``bench.search_corpus``), the same ``latency_queries``, top 10 with the
  total count, public records only, for luutru (the full request: facets and snippets; then the
  engine alone, with facets and snippets off, and each added back) against raw tantivy and
  SQLite FTS5 (``bench.search_baselines``). Every index is built in a child process
  (``measure_child``: wall time and peak RSS) straight from the generator.
- ``reindex``: an archive home under ``bench/.work/search/`` with ``--archive-records`` corpus
  records sealed through ``Archive.seal`` (made once and kept: sealing 100k takes a while), then
  ``python -m api.cli --home H reindex`` in a child against raw tantivy's build of the same texts
  read from the same database and blobs, in a child; then luutru search through
  ``Services.search`` (which checks every hit against the database) on that archive.
- ``snippets``: a page of 10 hits over a corpus of 200 KB documents, with and without snippets,
  against SQLite FTS5's ``snippet()`` on the same documents.
- ``sealing``: records/s of sealing through ``Archive.seal`` with the index fed as ingest feeds
  it (``search.indexer.Batcher``) and without it, same records, fresh homes, alternated.

luutru's SearchRequest has no switch for snippets; "snippets off" replaces the engine module's
``make_snippet`` by one returning "" for those timings only.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import re
import shutil
import sqlite3
import statistics
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from unittest import mock

import tantivy

from archive.errors import ConfigError
from archive.home import ArchiveHome
from archive.models import AccessLevel, FileRole
from archive.repository import Archive, Description, IncomingFile, Placement
from archive.text import normalize
from bench.relevance import RelevanceQuery, RelevanceReport, compare_markdown, score_engine
from bench.search_baselines import (
    ACCESS_RANK,
    TANTIVY_HEAP,
    ChildRun,
    EngineRun,
    Fts5Baseline,
    Latency,
    fold_fast,
    measure_child,
    plain_words,
    run_engine,
    size_mib,
)
from bench.search_baselines import _tantivy_schema as raw_tantivy_schema
from bench.search_corpus import CorpusRecord, generate, latency_queries, restricted_ids
from search import indexer as search_indexer
from search.contracts import IndexDocument, SearchIndex, SearchRequest, SearchResults
from search.engines import engine
from search.indexer import Batcher, stamp_of
from search.query import Filters, parse_query

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "bench" / ".work" / "search"
WARMUP = 20
ADD_BATCH = 1000
COMMIT_EVERY = 100_000
ALL_SECTIONS = ("relevance", "speed", "reindex", "snippets", "sealing")
ENGINES = ("tantivy", "whoosh")  # luutru's; Whoosh when search.whoosh_index imports
BASELINES = ("tantivy", "fts5")  # bench.search_baselines
PUBLIC = AccessLevel.PUBLIC

# The targets.
P95_RATIO_TARGET = 3.0  # luutru p95 / raw tantivy p95 at 100k
P95_1M_MS = 20.0
REINDEX_SECONDS = 40.0  # at 100k records
REINDEX_RATIO = 3.0  # ≈ raw tantivy's build of the same text, times 3
REINDEX_RSS_MIB = 500.0
SNIPPET_PAGE_MS = 20.0
SEALING_RATIO = 0.8


# --- From the corpus to luutru -------------------------------------------------------------------


def corpus_document(record: CorpusRecord) -> IndexDocument:
    """A corpus record as luutru's indexer would see it once sealed: its metadata normalised as
    ``Archive.seal`` stores it (NFC, Ð read as Đ), its text as given (OCR text is stored as
    read), the stamp of an unsealed record."""
    return IndexDocument(
        record_id=record.record_id,
        title=normalize(record.subject),
        number=normalize(record.number),
        date=date.fromisoformat(record.date),
        access=AccessLevel(record.access),
        series_code=record.series_code,
        body=record.body,
        doc_type=normalize(record.doc_type),
        type_name=normalize(record.type_name),
        issuer=normalize(record.issuer),
        subject=normalize(record.subject),
        keywords=tuple(normalize(k) for k in record.keywords),
        stamp=stamp_of(record.access, None),
    )


def relevance_filters(filters: dict[str, str]) -> Filters:
    """A relevance case's filters (ISO dates, the issuer's full name, a type abbreviation,
    a schedule code) as luutru's."""
    return Filters(
        doc_type=filters.get("doc_type"),
        issuer=filters.get("issuer"),
        series=filters.get("series"),
        date_from=date.fromisoformat(filters["date_from"]) if "date_from" in filters else None,
        date_to=date.fromisoformat(filters["date_to"]) if "date_to" in filters else None,
    )


def relevance_request(query: RelevanceQuery) -> SearchRequest:
    return SearchRequest(
        parse_query(query.query), PUBLIC, filters=relevance_filters(query.filters), limit=10
    )


def _batches(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def build_luutru(name: str, path: Path, records: Iterable[CorpusRecord]) -> int:
    """Index ``records`` with luutru's ``name`` engine through ``SearchIndex.add``/``commit``,
    in batches, committing every ``COMMIT_EVERY`` records and at the end."""
    shutil.rmtree(path, ignore_errors=True)
    index = engine(name).open(path)
    count = since = 0
    try:
        for batch in _batches((corpus_document(r) for r in records), ADD_BATCH):
            added = index.add(batch)
            count += added
            since += added
            if since >= COMMIT_EVERY:
                index.commit()
                since = 0
        index.commit()
    finally:
        index.close()
    return count


def engine_available(name: str) -> str | None:
    """None when luutru's ``name`` engine can be opened, else why not."""
    try:
        engine(name)
    except ConfigError as exc:
        return str(exc)
    return None


@contextlib.contextmanager
def snippets_off(index: SearchIndex) -> Iterator[bool]:
    """The engine's ``make_snippet`` replaced by one returning "" (yields whether it could)."""
    module = sys.modules[type(index).__module__]
    if not hasattr(module, "make_snippet"):
        yield False
        return
    with mock.patch.object(module, "make_snippet", lambda *_a, **_k: ""):
        yield True


# --- Child processes -----------------------------------------------------------------------------


def _child(args: Sequence[str]) -> tuple[ChildRun, dict[str, Any]]:
    run = measure_child([sys.executable, "-m", "bench.search", *args])
    return run, json.loads(run.output.strip().splitlines()[-1])


def _child_build(argv: Sequence[str]) -> None:
    """``_build ENGINE PATH COUNT SEED BODY_CHARS``: a luutru index from the generator."""
    name, path, count, seed, body_chars = argv[0], Path(argv[1]), *map(int, argv[2:5])
    start = time.perf_counter()
    docs = build_luutru(name, path, generate(count, seed, body_chars))
    print(json.dumps({"docs": docs, "seconds": time.perf_counter() - start}))


def _archive_texts(home: Path) -> Iterator[tuple[str, int, str]]:
    """(record id, access rank, OCR text) of every record, read with sqlite3 and open()."""
    db = sqlite3.connect(home / "luutru.db")
    rows = db.execute(
        "SELECT r.id, r.access, f.sha256 FROM records r JOIN record_files f "
        "ON f.record_id = r.id AND f.role = ?",
        (FileRole.OCR_TEXT.value,),
    )
    blobs = home / "blobs"
    for record_id, access, sha256 in rows:
        text = (blobs / sha256[:2] / sha256[2:4] / sha256).read_bytes().decode("utf-8")
        yield record_id, ACCESS_RANK[access], text
    db.close()


def _child_raw_archive(argv: Sequence[str]) -> None:
    """``_raw_archive HOME PATH``: raw tantivy (``bench.search_baselines``' schema: folded text,
    record id, access rank) over the archive's texts, from its database and blobs."""
    home, path = Path(argv[0]), Path(argv[1])
    start = time.perf_counter()
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    index = tantivy.Index(raw_tantivy_schema(), path=str(path))
    writer = index.writer(TANTIVY_HEAP, 1)
    count = 0
    for record_id, rank, text in _archive_texts(home):
        writer.add_document(
            tantivy.Document(record_id=record_id, text=fold_fast(text), access=rank)
        )
        count += 1
    writer.commit()
    writer.wait_merging_threads()
    print(json.dumps({"docs": count, "seconds": time.perf_counter() - start}))


# --- Markdown ------------------------------------------------------------------------------------


def _table(columns: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    return "\n".join([*lines, *("| " + " | ".join(row) + " |" for row in rows), ""])


def _ms(value: float) -> str:
    return f"{value:.2f}" if value < 100 else f"{value:.0f}"


def _verdict(ok: bool) -> str:
    return "yes" if ok else "**no**"


# --- Relevance and speed -------------------------------------------------------------------------


@dataclass
class LuutruRun:
    engine: str
    records: int
    build: ChildRun
    build_seconds: float
    index_mib: float
    # label -> latency: "full" (facets and snippets), "engine" (neither), "+facets", "+snippets"
    latency: dict[str, Latency] = field(default_factory=dict)
    cpu: dict[str, Latency] = field(default_factory=dict)  # the same, in CPU time
    counts: list[int] = field(default_factory=list)
    relevance: RelevanceReport | None = None
    notes: list[str] = field(default_factory=list)


def cold_caches() -> None:
    """Forget what luutru's search modules (and ``re``) cached from earlier queries, so that
    every timed variant starts alike: warm-up, then queries of which many are new."""
    for name in ("search.text", "search.query", "search.tantivy_index", "search.whoosh_index"):
        module = sys.modules.get(name)
        for value in vars(module).values() if module else ():
            if callable(getattr(value, "cache_clear", None)):
                value.cache_clear()
    re.purge()


def time_both(
    search: Callable[[str], object], queries: Sequence[str], warmup: int = WARMUP
) -> tuple[Latency, Latency]:
    """``time_queries``, with each query's CPU time of this process too (what a machine busy
    with other work disturbs less than the wall clock)."""
    for query in queries[:warmup]:
        search(query)
    wall, cpu = [], []
    for query in queries:
        start, used = time.perf_counter(), time.process_time()
        search(query)
        wall.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - used) * 1000)
    return Latency.of(wall), Latency.of(cpu)


def _timed_luutru(
    index: SearchIndex, queries: Sequence[str], facets: bool, counts: list[int] | None = None
) -> tuple[Latency, Latency]:
    cold_caches()

    def one(text: str) -> SearchResults:
        found = index.search(SearchRequest.of(text, PUBLIC, facets=facets))
        if counts is not None:
            counts.append(found.total)
        return found

    return time_both(one, queries)


def run_luutru(
    name: str,
    work: Path,
    records: int,
    seed: int,
    body_chars: int,
    queries: Sequence[str],
    restricted: set[str] | None,
    parts: bool = True,
) -> LuutruRun:
    """Build luutru's ``name`` index in a child, then time ``queries`` (the full request, the
    engine alone, and with ``parts`` each part added back) and, unless ``restricted`` is None,
    score the relevance set."""
    path = work / f"luutru-{name}-{records}"
    _say(f"  building luutru on {name} ({records} records) …")
    build, built = _child(["_build", name, str(path), str(records), str(seed), str(body_chars)])
    index = engine(name).open(path)
    run = LuutruRun(name, records, build, built["seconds"], size_mib(path))
    try:
        gc.collect()
        counts: list[int] = []
        run.latency["full"], run.cpu["full"] = _timed_luutru(index, queries, True, counts)
        run.counts = counts[-len(queries) :]
        with snippets_off(index) as patched:
            if patched:
                run.latency["engine"], run.cpu["engine"] = _timed_luutru(index, queries, False)
                if parts:
                    run.latency["+facets"], run.cpu["+facets"] = _timed_luutru(index, queries, True)
            else:
                run.notes.append(f"{name}: make_snippet is not patchable; no breakdown")
        if parts and "engine" in run.latency:
            run.latency["+snippets"], run.cpu["+snippets"] = _timed_luutru(index, queries, False)
        if restricted is not None:
            run.relevance = score_engine(
                lambda q: [h.record_id for h in index.search(relevance_request(q)).hits],
                seed=seed,
                restricted=restricted,
            )
    finally:
        index.close()
    return run


SPEED_COLUMNS = [
    "engine", "what is timed", "records", "build s", "build peak RSS MiB", "index MiB",
    "p50 ms", "p95 ms", "p99 ms", "max ms", "p95 / raw tantivy", "CPU p50 ms", "CPU p95 ms",
    "CPU p95 / raw tantivy", "median count", "zero-hit",
]  # fmt: skip

_PARTS = {
    "full": "full request: facets, snippets",
    "engine": "engine only: facets off, snippets off",
    "+facets": "engine + facets",
    "+snippets": "engine + snippets",
}


def _latency_cells(latency: Latency, raw_p95: float | None) -> list[str]:
    ratio = f"{latency.p95 / raw_p95:.2f}" if raw_p95 else "-"
    return [
        _ms(latency.p50),
        _ms(latency.p95),
        _ms(latency.p99),
        _ms(latency.max),
        ratio,
    ]


def _count_cells(counts: Sequence[int]) -> list[str]:
    ordered = sorted(counts)
    return [str(ordered[len(ordered) // 2]), str(sum(c == 0 for c in ordered))] if counts else []


def _cpu_cells(cpu: Latency | None, raw_cpu: Latency | None) -> list[str]:
    if cpu is None:
        return ["-", "-", "-"]
    ratio = f"{cpu.p95 / raw_cpu.p95:.2f}" if raw_cpu else "-"
    return [_ms(cpu.p50), _ms(cpu.p95), ratio]


def speed_rows(result: SpeedResult) -> list[list[str]]:
    runs, baselines, records = result.runs, result.baselines, result.records
    raw = result.raw()
    raw_p95 = raw.latency.p95 if raw else None
    raw_cpu = result.baseline_cpu.get(raw.name) if raw else None
    rows = []
    for b in baselines:
        counts = _count_cells(b.counts)
        rows.append(
            [
                b.name,
                "top 10 + count" + (", snippet()" if "FTS5" in b.name else ""),
                str(records),
                f"{b.build_seconds:.1f}",
                f"{b.build.peak_rss_mib:.0f}",
                f"{b.index_mib:.0f}",
                *_latency_cells(b.latency, raw_p95),
                *_cpu_cells(result.baseline_cpu.get(b.name), raw_cpu),
                *counts,
            ]
        )
    for run in runs:
        for part, latency in run.latency.items():
            first = part == "full"
            rows.append(
                [
                    f"luutru on {run.engine}",
                    _PARTS[part],
                    str(run.records),
                    f"{run.build_seconds:.1f}" if first else "",
                    f"{run.build.peak_rss_mib:.0f}" if first else "",
                    f"{run.index_mib:.0f}" if first else "",
                    *_latency_cells(latency, raw_p95),
                    *_cpu_cells(run.cpu.get(part), raw_cpu),
                    *(_count_cells(run.counts) if first else ["", ""]),
                ]
            )
    return rows


def relevance_markdown(result: SpeedResult) -> str:
    reports: dict[str, RelevanceReport] = {}
    small = result.small.runs if result.small is not None else []
    for run in [*result.runs, *small]:
        if run.relevance is not None:
            size = f", {run.records} records" if run.records != result.records else ""
            reports[f"luutru on {run.engine} (its query language, filters{size})"] = run.relevance
    for b in result.baselines:
        reports[f"{b.name}, plain words, no filters"] = b.relevance
    out = [compare_markdown(reports)]
    for name, report in reports.items():
        out.append(report.markdown(name))
    return "\n".join(out)


@dataclass
class SpeedResult:
    records: int
    queries: int
    runs: list[LuutruRun]
    baselines: list[EngineRun]
    skipped: list[str]
    # Whoosh on a smaller corpus, with luutru on tantivy and raw tantivy at that size.
    small: SpeedResult | None = None
    baseline_cpu: dict[str, Latency] = field(default_factory=dict)  # raw tantivy, re-timed

    def raw(self) -> EngineRun | None:
        return next((b for b in self.baselines if b.name.startswith("raw tantivy")), None)


def _speed_at(
    records: int,
    seed: int,
    body_chars: int,
    queries: Sequence[str],
    engines: Sequence[str],
    baselines: Sequence[str],
    work: Path,
    relevance: bool,
    parts: Sequence[str],
) -> SpeedResult:
    work.mkdir(parents=True, exist_ok=True)
    restricted = set(restricted_ids(records, seed)) if relevance else None
    runs, skipped, done = [], [], []
    for baseline in baselines:
        _say(f"  building {baseline} ({records} records) …")
        done.append(
            run_engine(baseline, work, records, seed, body_chars, queries, restricted or set())
        )
    cpu = {}
    for b in done:
        if b.name.startswith("raw tantivy"):
            raw = _RawSearch(work / "tantivy")
            cpu[b.name] = time_both(raw, queries)[1]
    for name in engines:
        why = engine_available(name)
        if why is not None:
            skipped.append(f"luutru on {name}: not run ({why})")
            continue
        runs.append(
            run_luutru(name, work, records, seed, body_chars, queries, restricted, name in parts)
        )
    return SpeedResult(records, len(queries), runs, done, skipped, baseline_cpu=cpu)


def run_speed(
    records: int,
    seed: int,
    body_chars: int,
    query_count: int,
    engines: Sequence[str],
    baselines: Sequence[str],
    work: Path,
    relevance: bool,
    whoosh_records: int | None,
) -> SpeedResult:
    """Every engine on ``records``; Whoosh, when ``whoosh_records`` is fewer, on that many
    instead, beside luutru on tantivy and raw tantivy on as many."""
    queries = latency_queries(query_count, seed)
    apart = "whoosh" in engines and whoosh_records is not None and whoosh_records < records
    main = [e for e in engines if not (apart and e == "whoosh")]
    result = _speed_at(
        records, seed, body_chars, queries, main, baselines, work, relevance, ("tantivy",)
    )
    if apart:
        assert whoosh_records is not None
        why = engine_available("whoosh")
        if why is not None:
            result.skipped.append(f"luutru on whoosh: not run ({why})")
        else:
            result.small = _speed_at(
                whoosh_records, seed, body_chars, queries, ("tantivy", "whoosh"), ("tantivy",),
                work / f"at-{whoosh_records}", relevance, (),
            )  # fmt: skip
    return result


def _verdicts(result: SpeedResult) -> list[str]:
    out = [f"- {note}" for run in result.runs for note in run.notes]
    out += [f"- {note}" for note in result.skipped]
    raw = result.raw()
    for run in result.runs:
        if raw is None or "full" not in run.latency:
            continue
        full = run.latency["full"].p95
        ratio = full / raw.latency.p95
        line = (
            f"- luutru on {run.engine}, {run.records} records, full request: p95 {full:.2f} ms "
            f"= {ratio:.2f}× raw tantivy's {raw.latency.p95:.2f} ms (target ≤ "
            f"{P95_RATIO_TARGET:.0f}×: {_verdict(ratio <= P95_RATIO_TARGET)})"
        )
        if "engine" in run.latency:
            alone = run.latency["engine"].p95 / raw.latency.p95
            line += f"; the engine alone {alone:.2f}×"
        raw_cpu = result.baseline_cpu.get(raw.name)
        if raw_cpu is not None and "full" in run.cpu:
            line += f"; in CPU time {run.cpu['full'].p95 / raw_cpu.p95:.2f}×"
            if "engine" in run.cpu:
                line += f" (engine alone {run.cpu['engine'].p95 / raw_cpu.p95:.2f}×)"
        if run.records >= 1_000_000:
            line += f"; p95 ≤ {P95_1M_MS:.0f} ms at 1M: {_verdict(full <= P95_1M_MS)}"
        out.append(line)
    return out


def speed_markdown(result: SpeedResult, body_chars: int) -> str:
    out = [
        f"## Search speed ({result.records} records, {result.queries} queries, one run)",
        "",
        _table(SPEED_COLUMNS, speed_rows(result)),
        "Same corpus (`bench.search_corpus.generate`, seed 7, bodies about "
        f"{body_chars} characters) and the same `latency_queries` for every engine: topic "
        "words mostly typed without diacritics, issuer places, pasted numbers, very common "
        "words, misses. Every engine returns the top 10 and the total count of public records "
        "only. luutru gets `SearchRequest.of(text, public)` (its query language: a pasted "
        "number is a phrase and its record's own number); the baselines get the plain words, "
        "AND. Build: a child process generating and indexing (generation included, on every "
        f"row); peak RSS is that child's. Warm-up {WARMUP} queries, then each query once "
        '(perf_counter). "p95 / raw tantivy" divides by raw tantivy\'s p95 in this run. '
        "luutru's caches (compiled patterns) are emptied before each row, so each row meets "
        'the same new queries. "Snippets off" replaces the engine\'s `make_snippet` by one '
        'returning "" (SearchRequest has no switch for them).',
        "",
        *_verdicts(result),
        "",
    ]
    small = result.small
    if small is not None:
        out += [
            f"### Whoosh on {small.records} records (same queries)",
            "",
            _table(SPEED_COLUMNS, speed_rows(small)),
            f"Whoosh builds and searches one to two orders of magnitude slower than tantivy, so "
            f"it runs on {small.records} records (`--whoosh-records`), beside luutru on tantivy "
            "and raw tantivy on the same records.",
            "",
            *_verdicts(small),
            "",
        ]
    return "\n".join(out)


# --- Reindex of a sealed archive -----------------------------------------------------------------

SEALED_MARK = "bench-sealed.json"


def original_bytes(record: CorpusRecord) -> bytes:
    """The record's "scan": small synthetic bytes, distinct for every record."""
    return f"luutru bench original {record.record_id}\n{record.number}\n".encode()


def seal_record(archive: Archive, record: CorpusRecord, original: bytes | None = None) -> str:
    """Seal a corpus record as ingest would: its original (``original_bytes`` unless given),
    its text as the OCR text, its metadata as described."""
    name = f"{record.record_id}.png"
    scan = original_bytes(record) if original is None else original
    return archive.seal(
        [
            IncomingFile(FileRole.ORIGINAL, "image/png", name, data=scan),
            IncomingFile(
                FileRole.OCR_TEXT,
                "text/plain; charset=utf-8",
                f"{record.record_id}.txt",
                data=record.body.encode("utf-8"),
            ),
        ],
        Description(
            title=record.subject,
            doc_number=record.number,
            doc_type=record.doc_type,
            type_name=record.type_name,
            issuer=record.issuer,
            issued_date=date.fromisoformat(record.date),
            place=record.place,
            subject=record.subject,
        ),
        Placement(
            access=AccessLevel(record.access),
            series_code=record.series_code,
            closed_year=int(record.date[:4]),
        ),
        name,
    ).record_id


def new_home(path: Path) -> ArchiveHome:
    shutil.rmtree(path, ignore_errors=True)
    home = ArchiveHome(path)
    Archive.initialise(home, force=True)  # a throwaway home under bench/.work
    return home


def sealed_home(path: Path, records: int, seed: int, body_chars: int) -> tuple[ArchiveHome, str]:
    """An archive home with ``records`` corpus records sealed (no index), made once: a
    complete one is reused, an unfinished one resumed."""
    home = ArchiveHome(path)
    mark = path / SEALED_MARK
    wanted = {"records": records, "seed": seed, "body_chars": body_chars}
    if mark.is_file() and json.loads(mark.read_text()) == wanted:
        return home, f"reused {path} (sealed earlier)"
    if not (path / "luutru.db").is_file():
        new_home(path)
    with Archive.open(home) as archive:
        done = archive.count_records()
        start = time.perf_counter()
        _say(f"  sealing {records} records into {path} (from {done}) …")
        for n, record in enumerate(generate(records, seed, body_chars)):
            if n < done:
                continue  # sealed in order: an unfinished run is resumed where it stopped
            seal_record(archive, record)
            if (n + 1) % 5000 == 0:
                rate = (n + 1 - done) / (time.perf_counter() - start)
                _say(f"    {n + 1} sealed ({rate:.0f}/s)")
        seconds = time.perf_counter() - start
        assert archive.count_records() == records
    mark.write_text(json.dumps(wanted))
    return home, f"sealed {records - done} records in {seconds:.0f} s"


def _index_size(home: ArchiveHome) -> float:
    current = (home.index_dir / "CURRENT").read_text().strip()
    return size_mib(home.index_dir / current)


Timings = tuple[Latency, Latency]  # wall, CPU
SEARCH_COLUMNS = [
    "run", "p50 ms", "p95 ms", "p99 ms", "max ms", "p95 / raw tantivy",
    "CPU p50 ms", "CPU p95 ms", "CPU p95 / raw tantivy",
]  # fmt: skip


def _services_latency(home: ArchiveHome, queries: Sequence[str]) -> tuple[Timings, Timings]:
    """luutru search through ``Services.search`` (index, then each hit checked against the
    database) on the archive, and the index alone, same queries."""
    from api.services import Services

    with Services.open(home) as services:
        index = services.index
        cold_caches()
        alone = time_both(lambda q: index.search(SearchRequest.of(q, PUBLIC)), queries)
        cold_caches()
        through = time_both(lambda q: services.search(SearchRequest.of(q, PUBLIC)), queries)
    return through, alone


class _RawSearch:
    def __init__(self, path: Path) -> None:
        from bench.search_baselines import TantivyBaseline

        self.baseline = TantivyBaseline(path)

    def __call__(self, text: str) -> object:
        return self.baseline.search(plain_words(text))


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def run_reindex(
    records: int, seed: int, body_chars: int, work: Path, queries: Sequence[str]
) -> str:
    home, how = sealed_home(work / f"archive-{records}", records, seed, body_chars)
    cli = [sys.executable, "-m", "api.cli", "--home", str(home.root)]
    measure_child([*cli, "migrate"])  # a home sealed by an earlier luutru (untimed)
    _say(f"  luutru reindex of {records} records …")
    ours = measure_child([*cli, "reindex"])
    _say("  raw tantivy over the same texts …")
    raw_path = work / f"raw-archive-{records}"
    theirs, built = _child(["_raw_archive", str(home.root), str(raw_path)])
    assert built["docs"] == records, built
    ratio = ours.seconds / theirs.seconds
    rows = [
        [
            "raw tantivy: texts read with sqlite3 + open(), folded, one field",
            f"{theirs.seconds:.1f}",
            "1.00",
            f"{theirs.peak_rss_mib:.0f}",
            f"{size_mib(raw_path):.0f}",
        ],
        [
            "`luutru reindex` (python -m api.cli reindex)",
            f"{ours.seconds:.1f}",
            f"{ratio:.2f}",
            f"{ours.peak_rss_mib:.0f}",
            f"{_index_size(home):.0f}",
        ],
    ]
    _say("  luutru search through Services on that archive …")
    through, alone = _services_latency(home, queries)
    raw_wall, raw_cpu = time_both(_RawSearch(raw_path), queries)

    def row(name: str, wall: Latency, cpu: Latency) -> list[str]:
        return [name, *_latency_cells(wall, raw_wall.p95), *_cpu_cells(cpu, raw_cpu)]

    search_rows = [
        row("raw tantivy (same texts)", raw_wall, raw_cpu),
        row("luutru index.search (full request)", *alone),
        row("luutru Services.search (full request + database check of hits)", *through),
    ]
    return "\n".join(
        [
            f"## Reindex of a {records}-record archive from its database and blobs",
            "",
            _table(
                ["run", "wall s", "time ratio", "peak RSS MiB", "index MiB"],
                rows,
            ),
            f"The archive: {records} corpus records (seed {seed}) sealed through "
            "`Archive.seal` (original: small synthetic bytes; OCR text: the record's body), "
            f"{how}, kept at `{_shown(home.root)}` for re-runs. Both sides are child "
            "processes timed with start-up (`measure_child`, peak RSS from `wait4`). luutru "
            "reads the records with SQLAlchemy and each text through the blob store, and writes "
            "the full schema (head and body, exact and folded, stored fields, facets) in a new "
            f"generation with a commit every {search_indexer.BATCH_RECORDS} records; raw "
            "tantivy writes one folded "
            "field and commits once.",
            "",
            (
                f"- wall {ours.seconds:.1f} s ≤ {REINDEX_SECONDS:.0f} s: "
                f"{_verdict(ours.seconds <= REINDEX_SECONDS)}"
                if records >= 100_000
                else f"- wall {ours.seconds:.1f} s (the {REINDEX_SECONDS:.0f} s target is at 100k)"
            )
            + f"; ratio {ratio:.2f} ≤ {REINDEX_RATIO:.0f}: {_verdict(ratio <= REINDEX_RATIO)}; "
            f"peak RSS {ours.peak_rss_mib:.0f} MiB ≤ {REINDEX_RSS_MIB:.0f}: "
            f"{_verdict(ours.peak_rss_mib <= REINDEX_RSS_MIB)}",
            "",
            f"### Search on that archive ({len(queries)} queries)",
            "",
            _table(SEARCH_COLUMNS, search_rows),
            "`Services.search` is what `luutru search` and the web page call: the index's "
            "answer, then its hits checked against the database's clearance.",
            "",
        ]
    )


# --- Snippets on long documents ------------------------------------------------------------------


def run_snippets(
    records: int, seed: int, body_chars: int, work: Path, queries: Sequence[str]
) -> str:
    path = work / f"luutru-tantivy-long-{records}"
    _say(f"  building luutru on {records} records of {body_chars} characters …")
    build, built = _child(
        ["_build", "tantivy", str(path), str(records), str(seed), str(body_chars)]
    )
    fts_path = work / f"fts5-long-{records}.db"
    _say("  building FTS5 on the same …")
    from bench.search_baselines import _build_in_child

    fts_build, _ = _build_in_child("fts5", fts_path, records, seed, body_chars)
    index = engine("tantivy").open(path)
    try:
        gc.collect()
        counts: list[int] = []
        with_snippets, with_cpu = _timed_luutru(index, queries, False, counts)
        with snippets_off(index):
            without, without_cpu = _timed_luutru(index, queries, False)
        full, full_cpu = _timed_luutru(index, queries, True)
    finally:
        index.close()
    fts = Fts5Baseline(fts_path)
    fts_latency, fts_cpu = time_both(lambda q: fts.search(plain_words(q)), queries)
    fts.close()
    hits = sorted(min(c, 10) for c in counts[-len(queries) :])

    def row(name: str, wall: Latency, cpu: Latency) -> list[str]:
        return [name, *_latency_cells(wall, None)[:4], _ms(cpu.p50), _ms(cpu.p95)]

    rows = [
        row("SQLite FTS5, snippet() of each hit", fts_latency, fts_cpu),
        row("luutru, snippets off (facets off)", without, without_cpu),
        row("luutru, snippets on (facets off)", with_snippets, with_cpu),
        row("luutru, full request (facets, snippets)", full, full_cpu),
    ]
    cost = with_cpu.p50 - without_cpu.p50
    columns = ["run", "p50 ms", "p95 ms", "p99 ms", "max ms", "CPU p50 ms", "CPU p95 ms"]
    return "\n".join(
        [
            f"## A page of hits on long documents ({records} records of about {body_chars} "
            "characters)",
            "",
            _table(columns, rows),
            f"{len(queries)} `latency_queries`, top 10 and count, public records; "
            f"a page holds {hits[len(hits) // 2]} hits at the median. luutru's build: "
            f"{built['seconds']:.0f} s, peak RSS {build.peak_rss_mib:.0f} MiB, index "
            f"{size_mib(path):.0f} MiB; FTS5's: {fts_build.seconds:.0f} s. The snippets' cost "
            f"(CPU, median): {cost:.2f} ms a page; the rest is mostly loading the 10 "
            "hits' stored snippet sources.",
            "",
            f"- a page with snippets: p95 {with_snippets.p95:.2f} ms ≤ {SNIPPET_PAGE_MS:.0f} ms:"
            f" {_verdict(with_snippets.p95 <= SNIPPET_PAGE_MS)} (CPU p95 {with_cpu.p95:.2f} ms;"
            f" full request: p95 {full.p95:.2f} ms)",
            "",
        ]
    )


# --- Sealing with and without the index ----------------------------------------------------------


def _seal_run(
    path: Path, records: Sequence[CorpusRecord], indexed: bool
) -> tuple[float, float, float]:
    """Sealing ``records`` into a fresh home, with the index fed as ingest feeds it (a
    ``Batcher``, flushed at the end and closed) or without any index: (records a second,
    records a CPU second of this process, seconds spent in the index)."""
    from search.indexer import open_or_rebuild

    home = new_home(path)
    indexing = 0.0
    with Archive.open(home) as archive:
        batcher = None
        index = None
        if indexed:
            index, _ = open_or_rebuild(archive, home.index_dir, engine("tantivy"))
            batcher = Batcher(archive, index)
        gc.collect()
        start, cpu = time.perf_counter(), time.process_time()
        for record in records:
            record_id = seal_record(archive, record)
            if batcher is not None:
                before = time.perf_counter()
                batcher.add(record_id)
                indexing += time.perf_counter() - before
        if batcher is not None and index is not None:
            before = time.perf_counter()
            batcher.flush()
            index.close()
            indexing += time.perf_counter() - before
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    shutil.rmtree(path, ignore_errors=True)
    return len(records) / seconds, len(records) / cpu, indexing


def run_sealing(records: int, seed: int, body_chars: int, work: Path, repeats: int = 3) -> str:
    corpus = list(generate(records, seed, body_chars))
    runs: dict[bool, list[tuple[float, float, float]]] = {False: [], True: []}
    _say(f"  sealing {records} records, with and without the index, {repeats}× …")
    for _ in range(repeats):
        for indexed in (False, True):
            runs[indexed].append(_seal_run(work / "seal-home", corpus, indexed))

    def median(indexed: bool, i: int) -> float:
        return statistics.median(run[i] for run in runs[indexed])

    ratio = median(True, 0) / median(False, 0)
    cpu_ratio = median(True, 1) / median(False, 1)
    rows = [
        [
            "`Archive.seal`, no index",
            f"{median(False, 0):.1f}",
            "1.00",
            f"{median(False, 1):.1f}",
            "1.00",
            "-",
            _runs([run[0] for run in runs[False]]),
        ],
        [
            f"`Archive.seal` + `Batcher` (index every {search_indexer.COMMIT_EVERY_RECORDS} "
            f"records or {search_indexer.COMMIT_EVERY_SECONDS:g} s)",
            f"{median(True, 0):.1f}",
            f"{ratio:.2f}",
            f"{median(True, 1):.1f}",
            f"{cpu_ratio:.2f}",
            f"{median(True, 2):.2f}",
            _runs([run[0] for run in runs[True]]),
        ],
    ]
    columns = [
        "run", "records/s (median)", "rate ratio", "records per CPU s", "CPU ratio",
        "s in the index", "records/s, each run",
    ]  # fmt: skip
    return "\n".join(
        [
            f"## Sealing with and without indexing ({records} records, {repeats} runs each)",
            "",
            _table(columns, rows),
            "The same corpus records (about "
            f"{body_chars} characters of text each) sealed one after another into a fresh home "
            "each run (original: small synthetic bytes, OCR text: the body; no OCR), runs "
            "alternated. With the index, each sealed record is handed to "
            "`search.indexer.Batcher` as `Services.ingest` does, flushed and the index closed "
            'before the clock stops. "records per CPU s" counts this process\'s CPU time '
            "(the writer's threads included), which a busy machine disturbs less than the "
            "wall clock; sealing itself mostly waits for fsync.",
            "",
            f"- with indexing / without: {ratio:.2f} ≥ {SEALING_RATIO}: "
            f"{_verdict(ratio >= SEALING_RATIO)}",
            "",
        ]
    )


def _runs(values: Sequence[float]) -> str:
    return ", ".join(f"{v:.1f}" for v in values)


# --- The run -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sizes:
    records: int = 100_000
    queries: int = 500
    archive_records: int = 100_000
    long_records: int = 2000
    long_chars: int = 200_000
    seal_records: int = 1000
    whoosh_records: int | None = 5000  # Whoosh at 100k takes hours

    @classmethod
    def quick(cls) -> Sizes:
        return cls(2000, 200, 2000, 150, 200_000, 200, None)


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"{one:.1f} (5 min: {five:.1f})"


def run(
    sizes: Sizes,
    sections: Sequence[str],
    engines: Sequence[str],
    baselines: Sequence[str],
    seed: int = 7,
    body_chars: int = 2000,
    work: Path = WORK,
    emit: Callable[[str], None] | None = None,
) -> str:
    """Every asked section, as markdown (each also handed to ``emit`` when done)."""
    work.mkdir(parents=True, exist_ok=True)
    out: list[str] = []

    def done(text: str, began: str) -> None:
        text += f"Load average (2 cores) at the start: {began}; at the end: {_load()}.\n"
        out.append(text)
        if emit is not None:
            emit(text)

    queries = latency_queries(sizes.queries, seed)
    if "relevance" in sections or "speed" in sections:
        began = _load()
        _say(f"search: relevance and speed at {sizes.records} records …")
        result = run_speed(
            sizes.records, seed, body_chars, sizes.queries, engines, baselines, work,
            "relevance" in sections, sizes.whoosh_records,
        )  # fmt: skip
        if "relevance" in sections:
            done(
                "\n".join(
                    [
                        f"## Search relevance ({sizes.records} records, the relevance set of "
                        "`bench.relevance`)",
                        "",
                        relevance_markdown(result),
                    ]
                ),
                began,
            )
        if "speed" in sections:
            done(speed_markdown(result, body_chars), began)
    steps: list[tuple[str, str, Callable[[], str]]] = [
        ("reindex", f"reindex of {sizes.archive_records} sealed records",
         lambda: run_reindex(sizes.archive_records, seed, body_chars, work, queries)),
        ("snippets", "snippets on long documents",
         lambda: run_snippets(sizes.long_records, seed, sizes.long_chars, work, queries)),
        ("sealing", "sealing with and without indexing",
         lambda: run_sealing(sizes.seal_records, seed, body_chars, work)),
    ]  # fmt: skip
    for name, what, step in steps:
        if name in sections:
            began = _load()
            _say(f"search: {what} …")
            done(step(), began)
    return "\n".join(out)


def main(argv: Sequence[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    children: dict[str, Callable[[Sequence[str]], None]] = {
        "_build": _child_build,
        "_raw_archive": _child_raw_archive,
    }
    if argv[:1] and argv[0] in children:
        children[argv[0]](argv[1:])
        return
    parser = argparse.ArgumentParser(description="The search issue's measurements.")
    parser.add_argument("--records", type=int, help="records of the speed corpus (100000)")
    parser.add_argument("--queries", type=int, help="latency queries (500)")
    parser.add_argument("--archive-records", type=int, help="records sealed for reindex")
    parser.add_argument("--long-records", type=int, help="records of 200 KB for snippets")
    parser.add_argument("--seal-records", type=int, help="records sealed per sealing run")
    parser.add_argument("--whoosh-records", type=int, help="a smaller corpus for Whoosh")
    parser.add_argument("--quick", action="store_true", help="small sizes for every section")
    parser.add_argument("--sections", default=",".join(ALL_SECTIONS))
    parser.add_argument("--engines", default=",".join(ENGINES), help="luutru's engines")
    parser.add_argument("--baselines", default=",".join(BASELINES))
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--work", type=Path, default=WORK)
    options = parser.parse_args(argv)
    sizes = Sizes.quick() if options.quick else Sizes()
    given = {
        "records": options.records,
        "queries": options.queries,
        "archive_records": options.archive_records,
        "long_records": options.long_records,
        "seal_records": options.seal_records,
        "whoosh_records": options.whoosh_records,
    }
    from dataclasses import replace

    sizes = replace(sizes, **{k: v for k, v in given.items() if v is not None})
    sections = [s for s in options.sections.split(",") if s]
    unknown = set(sections) - set(ALL_SECTIONS)
    if unknown:
        parser.error(f"unknown sections: {sorted(unknown)} (known: {', '.join(ALL_SECTIONS)})")
    engines = [e for e in options.engines.split(",") if e]
    baselines = [b for b in options.baselines.split(",") if b]
    run(sizes, sections, engines, baselines, options.seed, work=options.work, emit=print)


if __name__ == "__main__":
    main()
