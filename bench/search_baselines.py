"""Raw baselines for search over the synthetic corpus, and the timing tools to measure any engine.

    python -m bench.search_baselines --records 100000     # prints markdown tables

Two engines without any of luutru's code, given the query as plain words (``plain_words``: no
phrases, exclusions, OR or filters) and asked for the top 10 with a total count, public
records only:
- raw tantivy: one text field holding ``fold(body)`` (default tokenizer), the record id stored,
  the access rank as a fast field; the searcher is opened once;
- SQLite FTS5: ``unicode61 remove_diacritics 2``, bm25 ranking, ``count(*)`` and ``snippet()``
  of the body as stored (NFC), the query words as typed.

Each index is built in a child process (``measure_child``: wall time and peak RSS from
``os.wait4``) straight from the generator, so the build of 1,000,000 records never holds the
corpus in memory, and luutru's own ``reindex`` can be measured the same way. ``time_queries``
is the latency harness the luutru engines reuse: a warm-up, then ``perf_counter`` per query and
nearest-rank percentiles.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import tantivy

from archive.text import normalize
from bench.relevance import (
    RelevanceQuery,
    RelevanceReport,
    compare_markdown,
    fold_fast,
    plain_words,
    score_engine,
)
from bench.search_corpus import CorpusRecord, generate, latency_queries, restricted_ids

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "bench" / ".work"
TANTIVY_HEAP = 128 * 1024 * 1024
FTS5_COMMIT_EVERY = 50_000
WARMUP = 20
ACCESS_RANK = {"public": 0, "internal": 1, "confidential": 2, "secret": 3}


# --- Timing --------------------------------------------------------------------------------------


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile: the smallest value with at least ``fraction`` of all at or below."""
    if not values:
        raise ValueError("percentile of no values")
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


@dataclass(frozen=True)
class Latency:
    count: int
    p50: float  # milliseconds
    p95: float
    p99: float
    mean: float
    max: float

    @classmethod
    def of(cls, millis: Sequence[float]) -> Latency:
        return cls(
            len(millis),
            percentile(millis, 0.50),
            percentile(millis, 0.95),
            percentile(millis, 0.99),
            sum(millis) / len(millis),
            max(millis),
        )


def time_queries(
    search: Callable[[str], object], queries: Sequence[str], warmup: int = 20
) -> Latency:
    """Run the first ``warmup`` queries untimed (caches, lazy loading), then time every query."""
    for query in queries[:warmup]:
        search(query)
    millis = []
    for query in queries:
        start = time.perf_counter()
        search(query)
        millis.append((time.perf_counter() - start) * 1000)
    return Latency.of(millis)


@dataclass(frozen=True)
class ChildRun:
    seconds: float  # wall time, start-up included
    peak_rss_mib: float  # the child's own peak resident set
    output: str


def measure_child(
    args: Sequence[str], cwd: Path = ROOT, env: dict[str, str] | None = None
) -> ChildRun:
    """Run ``args`` as a child process; its wall time, peak RSS and standard output."""
    start = time.perf_counter()
    child = subprocess.Popen(list(args), cwd=cwd, env=env, stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    output = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - start
    if child.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} exited with {child.returncode}")
    return ChildRun(seconds, usage.ru_maxrss / 1024, output)  # ru_maxrss is KiB on Linux


def size_mib(path: Path) -> float:
    files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
    return sum(p.stat().st_size for p in files) / (1 << 20)


class Baseline(Protocol):
    name: str

    def search(self, plain: Sequence[str], limit: int = 10) -> tuple[int, list[str]]:
        """The total count and the first ``limit`` record ids, public records only."""
        ...


# --- Raw tantivy ---------------------------------------------------------------------------------


def _tantivy_schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("record_id", stored=True, tokenizer_name="raw")
    builder.add_text_field("text", stored=False)
    builder.add_integer_field("access", indexed=True, fast=True)
    return builder.build()


def build_tantivy(path: Path, records: Iterable[CorpusRecord]) -> int:
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    index = tantivy.Index(_tantivy_schema(), path=str(path))
    writer = index.writer(TANTIVY_HEAP, 1)
    count = 0
    for record in records:
        writer.add_document(
            tantivy.Document(
                record_id=record.record_id,
                text=fold_fast(record.body),
                access=ACCESS_RANK[record.access],
            )
        )
        count += 1
    writer.commit()
    writer.wait_merging_threads()
    return count


class TantivyBaseline:
    name = "raw tantivy (folded text, AND of words)"

    def __init__(self, path: Path) -> None:
        self._schema = _tantivy_schema()
        self._index = tantivy.Index(self._schema, path=str(path), reuse=True)
        self._searcher = self._index.searcher()
        self._public = tantivy.Query.range_query(
            self._schema, "access", tantivy.FieldType.Integer, None, 0
        )

    def search(self, plain: Sequence[str], limit: int = 10) -> tuple[int, list[str]]:
        terms = [fold_fast(word).lower() for word in plain]
        if not terms:
            return 0, []
        must = tantivy.Occur.Must
        clauses = [(must, tantivy.Query.term_query(self._schema, "text", term)) for term in terms]
        query = tantivy.Query.boolean_query([*clauses, (must, self._public)])
        result = self._searcher.search(query, limit=limit, count=True)
        ids = [self._searcher.doc(address)["record_id"][0] for _, address in result.hits]
        return int(getattr(result, "count", 0) or 0), ids


# --- SQLite FTS5 ---------------------------------------------------------------------------------


def build_fts5(path: Path, records: Iterable[CorpusRecord]) -> int:
    path.unlink(missing_ok=True)
    db = sqlite3.connect(path)
    db.execute(
        "CREATE VIRTUAL TABLE docs USING fts5(record_id UNINDEXED, access UNINDEXED, body, "
        "tokenize='unicode61 remove_diacritics 2')"
    )
    count = 0
    batch: list[tuple[str, int, str]] = []
    for record in records:
        batch.append((record.record_id, ACCESS_RANK[record.access], normalize(record.body)))
        count += 1
        if len(batch) >= 1000:
            db.executemany("INSERT INTO docs VALUES (?, ?, ?)", batch)
            batch.clear()
            if count % FTS5_COMMIT_EVERY == 0:
                db.commit()
    db.executemany("INSERT INTO docs VALUES (?, ?, ?)", batch)
    db.commit()
    db.close()
    return count


class Fts5Baseline:
    name = "SQLite FTS5 (unicode61 remove_diacritics 2, bm25, snippet)"

    def __init__(self, path: Path) -> None:
        self._db = sqlite3.connect(path)

    def search(self, plain: Sequence[str], limit: int = 10) -> tuple[int, list[str]]:
        if not plain:
            return 0, []
        match = " ".join(f'"{word}"' for word in plain)  # words only: no FTS5 syntax gets through
        where = "docs MATCH ? AND access <= 0"
        rows = self._db.execute(
            f"SELECT record_id, snippet(docs, 2, '<b>', '</b>', '…', 24) FROM docs WHERE {where} "
            "ORDER BY rank LIMIT ?",
            (match, limit),
        ).fetchall()
        total = self._db.execute(f"SELECT count(*) FROM docs WHERE {where}", (match,)).fetchone()[0]
        return int(total), [row[0] for row in rows]

    def close(self) -> None:
        self._db.close()


# --- The run -------------------------------------------------------------------------------------

BUILDERS: dict[str, Callable[[Path, Iterable[CorpusRecord]], int]] = {
    "tantivy": build_tantivy,
    "fts5": build_fts5,
}
OPENERS: dict[str, Callable[[Path], Baseline]] = {"tantivy": TantivyBaseline, "fts5": Fts5Baseline}


def _child_build(argv: Sequence[str]) -> None:
    """``_build ENGINE PATH COUNT SEED BODY_CHARS``: build (or, for ``none``, only generate) and
    print what was done as JSON."""
    engine, path, count, seed, body_chars = argv[0], Path(argv[1]), *map(int, argv[2:5])
    records = generate(count, seed, body_chars)
    start = time.perf_counter()
    if engine == "none":
        chars = docs = 0
        for record in records:
            chars += len(record.body)
            docs += 1
        print(json.dumps({"docs": docs, "seconds": time.perf_counter() - start, "chars": chars}))
        return
    docs = BUILDERS[engine](path, records)
    print(json.dumps({"docs": docs, "seconds": time.perf_counter() - start}))


def _build_in_child(
    engine: str, path: Path, count: int, seed: int, body_chars: int
) -> tuple[ChildRun, dict[str, Any]]:
    args = [
        sys.executable,
        "-m",
        "bench.search_baselines",
        "_build",
        engine,
        str(path),
        str(count),
        str(seed),
        str(body_chars),
    ]
    run = measure_child(args)
    return run, json.loads(run.output)


def _table(columns: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    return "\n".join([*lines, *("| " + " | ".join(row) + " |" for row in rows), ""])


@dataclass(frozen=True)
class EngineRun:
    name: str
    build: ChildRun
    build_seconds: float  # inside the child, start-up excluded
    index_mib: float
    latency: Latency
    counts: list[int]  # the total of each timed query
    relevance: RelevanceReport

    def row(self) -> list[str]:
        counts = sorted(self.counts)
        return [
            self.name,
            f"{self.build_seconds:.1f}",
            f"{self.build.peak_rss_mib:.0f}",
            f"{self.index_mib:.0f}",
            f"{self.latency.p50:.2f}",
            f"{self.latency.p95:.2f}",
            f"{self.latency.p99:.2f}",
            f"{self.latency.max:.1f}",
            str(counts[len(counts) // 2]),
            str(sum(c == 0 for c in counts)),
        ]


def run_engine(
    engine: str, work: Path, records: int, seed: int, body_chars: int, queries: Sequence[str],
    restricted: set[str],
) -> EngineRun:  # fmt: skip
    """Build ``engine`` in a child, then time ``queries`` and score the relevance set here."""
    path = work / ("tantivy" if engine == "tantivy" else "fts5.db")
    build_run, built = _build_in_child(engine, path, records, seed, body_chars)
    baseline = OPENERS[engine](path)
    counts: list[int] = []

    def timed(query: str) -> list[str]:
        total, ids = baseline.search(plain_words(query))
        counts.append(total)
        return ids

    def answers(query: RelevanceQuery) -> list[str]:
        return baseline.search(plain_words(query.query))[1]

    latency = time_queries(timed, queries, WARMUP)
    report = score_engine(answers, seed=seed, restricted=restricted)
    return EngineRun(
        baseline.name, build_run, built["seconds"], size_mib(path), latency,
        counts[-len(queries) :], report,
    )  # fmt: skip


LATENCY_COLUMNS = [
    "engine", "build s", "build peak RSS MiB", "index MiB", "p50 ms", "p95 ms", "p99 ms",
    "max ms", "median count", "zero-hit",
]  # fmt: skip


def run(
    records: int,
    seed: int,
    body_chars: int,
    query_count: int,
    engines: Sequence[str],
    work: Path,
    failures: bool,
) -> str:
    """Every table, as markdown."""
    work.mkdir(parents=True, exist_ok=True)
    gen_run, gen = _build_in_child("none", work / "none", records, seed, body_chars)
    corpus_row = [
        str(gen["docs"]),
        f"{gen['chars'] / gen['docs']:.0f}",
        f"{gen['seconds']:.1f}",
        f"{gen['docs'] / gen['seconds']:.0f}",
        f"{gen_run.peak_rss_mib:.0f}",
    ]
    queries = latency_queries(query_count, seed)
    restricted = set(restricted_ids(records, seed))
    runs = [run_engine(e, work, records, seed, body_chars, queries, restricted) for e in engines]
    out = [
        f"## Corpus ({records} records, seed {seed}, body_chars {body_chars})",
        "",
        _table(
            ["records", "mean body chars", "generation s", "records/s", "peak RSS MiB"],
            [corpus_row],
        ),
        f"## Build and query latency ({records} records, {len(queries)} queries)",
        "",
        _table(LATENCY_COLUMNS, [r.row() for r in runs]),
        f"Build s: generating and indexing in one child process (generation alone takes "
        f"{gen['seconds']:.1f} s, above); peak RSS is that child's. Queries: "
        "`bench.search_corpus.latency_queries` (topic words mostly without diacritics, issuer "
        "places, pasted numbers, very common words, misses), each as plain words, AND, public "
        "records only, top 10 and the total count; FTS5 also builds a snippet per hit. "
        f"Warm-up: {WARMUP} queries; then every query once, timed with perf_counter.",
        "",
        "## Relevance (plain words: no phrases, exclusions, OR or filters)",
        "",
        compare_markdown({r.name: r.relevance for r in runs}),
    ]
    for r in runs:
        out.append(r.relevance.markdown(r.name))
        if failures:
            out += ["```", *r.relevance.failures(), "```", ""]
    return "\n".join(out)


def main(argv: Sequence[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["_build"]:
        _child_build(argv[1:])
        return
    parser = argparse.ArgumentParser(
        description="Raw tantivy and SQLite FTS5 baselines on the bench corpus."
    )
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--body-chars", type=int, default=2000)
    parser.add_argument("--queries", type=int, default=500, help="latency queries")
    parser.add_argument("--engines", default="tantivy,fts5")
    parser.add_argument("--work", type=Path, default=WORK / "baselines")
    parser.add_argument(
        "--failures", action="store_true", help="list the queries each engine gets wrong"
    )
    options = parser.parse_args(argv)
    engines = [e for e in options.engines.split(",") if e]
    unknown = set(engines) - set(BUILDERS)
    if unknown:
        parser.error(f"unknown engines: {sorted(unknown)}")
    print(
        run(
            options.records,
            options.seed,
            options.body_chars,
            options.queries,
            engines,
            options.work,
            options.failures,
        )
    )


if __name__ == "__main__":
    main()
