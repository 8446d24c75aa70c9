"""The timing harness and the raw baselines, on a tiny corpus."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from bench.relevance import plain_words, planted_id
from bench.search_baselines import (
    Fts5Baseline,
    Latency,
    TantivyBaseline,
    build_fts5,
    build_tantivy,
    measure_child,
    percentile,
    time_queries,
)
from bench.search_corpus import generate, restricted_ids

COUNT = 200


def test_percentiles_are_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert (percentile(values, 0.5), percentile(values, 0.95), percentile(values, 0.99)) == (
        50,
        95,
        99,
    )
    assert percentile([7.0], 0.99) == 7.0
    latency = Latency.of([3.0, 1.0, 2.0])
    assert (latency.count, latency.p50, latency.max, latency.mean) == (3, 2.0, 3.0, 2.0)


def test_time_queries_warms_up_then_times_every_query() -> None:
    seen: list[str] = []
    latency = time_queries(seen.append, ["a", "b", "c"], warmup=2)
    assert seen == ["a", "b", "a", "b", "c"] and latency.count == 3


def test_measure_child_reports_peak_rss() -> None:
    run = measure_child(
        [
            sys.executable,
            "-c",
            "x = bytearray(80 << 20); x[::4096] = b'1' * len(x[::4096]); print('ok')",
        ]
    )
    assert run.output.strip() == "ok" and run.peak_rss_mib >= 80
    with pytest.raises(RuntimeError):
        measure_child([sys.executable, "-c", "raise SystemExit(3)"])


@pytest.mark.parametrize("engine", ["tantivy", "fts5"])
def test_baselines_find_answers_and_only_public_records(engine: str, tmp_path: Path) -> None:
    path = tmp_path / engine
    build, opener = (
        (build_tantivy, TantivyBaseline) if engine == "tantivy" else (build_fts5, Fts5Baseline)
    )
    assert build(path, generate(COUNT)) == COUNT
    baseline = opener(path)
    total, ids = baseline.search(plain_words("7816/VPCP-TTĐT"))
    assert planted_id("num.vpcp") in ids and total >= 1
    total, ids = baseline.search(plain_words("kho lưu trữ Nà Ngoi"))
    assert ids == [planted_id("lk.public")] and total == 1  # three restricted records also match
    total, ids = baseline.search(plain_words("năm"))
    assert total > 50 and len(ids) == 10
    assert not set(ids) & set(restricted_ids(COUNT))
    assert baseline.search([]) == (0, [])
