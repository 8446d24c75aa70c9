"""Search on PostgreSQL full text beside tantivy: the relevance set and query latency, side by
side, on one corpus.

    python -m bench.postgres_search --records 100000
    python -m bench.postgres_search --records 5000 --queries 200 --failures

Both engines are luutru's own (``search.engines``), given the same documents
(``bench.search.corpus_document``) through ``SearchIndex.add``/``commit`` and the same requests:

- relevance: the 67 queries of ``bench.relevance`` as ``bench.search.relevance_request``
  (``parse_query`` of the text, the case's filters, public clearance, top 10), scored by
  ``score_engine`` with every non-public record of the corpus counting as a leak;
- latency: ``bench.search_corpus.latency_queries`` as ``SearchRequest.of(text, PUBLIC)``, the
  full request (total, facets, snippets), then the engine alone (facets off, snippets off),
  timed by ``bench.search_baselines.time_queries`` (a warm-up, then each query once).

"build s" is the generation of the corpus and its indexing together (the same generator for
both). The PostgreSQL index goes into a throwaway database ``luutru_bench_pgsearch_<pid>`` on
``--server`` (the local server by default), dropped at the end; after the build the table is
``VACUUM ANALYZE``d, as autovacuum would do soon after a rebuild. tantivy's index goes to
``bench/.work/postgres_search/``. Prints markdown; writes nothing else.
"""

from __future__ import annotations

import argparse
import gc
import os
import shutil
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import create_engine, text

from archive.models import AccessLevel
from bench.relevance import RelevanceReport, compare_markdown, score_engine
from bench.search import corpus_document, relevance_request, snippets_off
from bench.search_baselines import Latency, size_mib, time_queries
from bench.search_corpus import CorpusRecord, generate, latency_queries, restricted_ids
from search.contracts import SearchIndex, SearchRequest
from search.engines import engine
from search.postgres_index import PostgresIndex

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "bench" / ".work" / "postgres_search"
SERVER = os.environ.get("LUUTRU_BENCH_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432")
ADD_BATCH = 1000
COMMIT_EVERY = 20_000
WARMUP = 20
PUBLIC = AccessLevel.PUBLIC


@dataclass
class Run:
    engine: str
    build_seconds: float = 0.0
    index_mib: float = 0.0
    latency: dict[str, Latency] = field(default_factory=dict)
    relevance: RelevanceReport | None = None


def build(index: SearchIndex, records: Iterable[CorpusRecord]) -> float:
    """Add every record in batches, committing every ``COMMIT_EVERY``; seconds taken."""
    start = time.perf_counter()
    batch, since = [], 0
    for record in records:
        batch.append(corpus_document(record))
        if len(batch) >= ADD_BATCH:
            since += index.add(batch)
            batch = []
        if since >= COMMIT_EVERY:
            index.commit()
            since = 0
    index.add(batch)
    index.commit()
    return time.perf_counter() - start


def measure(
    run: Run, index: SearchIndex, queries: Sequence[str], seed: int, restricted: set[str]
) -> None:
    gc.collect()

    def timed(facets: bool) -> Callable[[str], object]:
        return lambda q: index.search(SearchRequest.of(q, PUBLIC, facets=facets))

    run.latency["full request: total, facets, snippets"] = time_queries(
        timed(True), queries, WARMUP
    )
    with snippets_off(index):
        run.latency["engine only: facets off, snippets off"] = time_queries(
            timed(False), queries, WARMUP
        )
    run.relevance = score_engine(
        lambda q: [h.record_id for h in index.search(relevance_request(q)).hits],
        seed=seed,
        restricted=restricted,
    )


def run_tantivy(records: int, seed: int, body_chars: int, queries: Sequence[str]) -> Run:
    path = WORK / f"tantivy-{records}"
    shutil.rmtree(path, ignore_errors=True)
    index = engine("tantivy").open(path)
    run = Run("tantivy")
    try:
        run.build_seconds = build(index, generate(records, seed, body_chars))
        run.index_mib = size_mib(path)
        measure(run, index, queries, seed, set(restricted_ids(records, seed)))
    finally:
        index.close()
    return run


def run_postgres(
    records: int, seed: int, body_chars: int, queries: Sequence[str], server: str
) -> Run:
    admin = create_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT")
    name = f"luutru_bench_pgsearch_{os.getpid()}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    run = Run("postgres")
    try:
        index = PostgresIndex(WORK / "postgres-v1-1", f"{server}/{name}")
        try:
            run.build_seconds = build(index, generate(records, seed, body_chars))
            run.index_mib = _vacuum(f"{server}/{name}", index.table.name)
            measure(run, index, queries, seed, set(restricted_ids(records, seed)))
        finally:
            index.close()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    return run


def _vacuum(url: str, table: str) -> float:
    """VACUUM ANALYZE the table (autovacuum's work after a rebuild); its size in MiB."""
    db = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with db.connect() as conn:
            conn.execute(text(f'VACUUM (ANALYZE) "{table}"'))
            size = conn.execute(text(f"SELECT pg_total_relation_size('\"{table}\"')")).scalar()
    finally:
        db.dispose()
    return float(size or 0) / (1 << 20)


def _table(columns: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    return "\n".join([*lines, *("| " + " | ".join(row) + " |" for row in rows), ""])


def markdown(runs: Sequence[Run], records: int, queries: int, failures: bool) -> str:
    rows = []
    for run in runs:
        for i, (what, lat) in enumerate(run.latency.items()):
            rows.append(
                [
                    run.engine if not i else "",
                    what,
                    f"{run.build_seconds:.1f}" if not i else "",
                    f"{run.index_mib:.0f}" if not i else "",
                    *(f"{value:.2f}" for value in (lat.p50, lat.p95, lat.p99, lat.max)),
                ]
            )
    reports = {run.engine: run.relevance for run in runs if run.relevance is not None}
    out = [
        f"## Relevance ({records} records, {len(next(iter(reports.values())).outcomes)} "
        "queries, luutru's query language and filters)",
        "",
        compare_markdown(reports),
    ]
    for name, report in reports.items():
        out.append(report.markdown(f"luutru on {name}"))
        if failures:
            out += ["```", *report.failures(), "```", ""]
    out += [
        f"## Latency ({records} records, {queries} queries, public clearance, top 10)",
        "",
        _table(
            [
                "engine",
                "what is timed",
                "build s",
                "index MiB",
                "p50 ms",
                "p95 ms",
                "p99 ms",
                "max ms",
            ],
            rows,
        ),
    ]
    return "\n".join(out)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--body-chars", type=int, default=2000)
    parser.add_argument("--queries", type=int, default=1000, help="latency queries")
    parser.add_argument("--engines", default="tantivy,postgres")
    parser.add_argument("--server", default=SERVER, help="PostgreSQL server URL, no database")
    parser.add_argument("--failures", action="store_true", help="list each query that missed")
    options = parser.parse_args(argv)
    WORK.mkdir(parents=True, exist_ok=True)
    queries = latency_queries(options.queries, options.seed)
    runs = []
    for name in options.engines.split(","):
        print(f"building luutru on {name} ({options.records} records) …", flush=True)
        if name == "postgres":
            runs.append(
                run_postgres(
                    options.records, options.seed, options.body_chars, queries, options.server
                )
            )
        else:
            runs.append(run_tantivy(options.records, options.seed, options.body_chars, queries))
    print(markdown(runs, options.records, len(queries), options.failures))


if __name__ == "__main__":
    main()
