"""The synthetic corpus: deterministic, streaming, shaped like Vietnamese administrative records."""

from __future__ import annotations

import re
import statistics
import unicodedata
from collections import Counter

import pytest

from bench import corpus
from bench.relevance import PLANTED, planted_id, words
from bench.search_corpus import (
    SERIES_CODES,
    CorpusRecord,
    generate,
    latency_queries,
    planted_positions,
    record_at,
    restricted_ids,
)

COUNT = 1500


@pytest.fixture(scope="module")
def records() -> list[CorpusRecord]:
    return list(generate(COUNT))


def test_the_stream_is_deterministic_and_lazy(records: list[CorpusRecord]) -> None:
    stream = generate(COUNT)
    assert iter(stream) is stream  # a generator: nothing is built before it is asked for
    assert list(stream) == records
    assert record_at(417, COUNT) == records[417]
    assert next(generate(COUNT, seed=8)) != records[0]


def test_planted_records_do_not_depend_on_the_corpus_size(records: list[CorpusRecord]) -> None:
    small = {r.record_id: r for r in generate(len(PLANTED) * 2)}
    ids = {planted_id(p.key) for p in PLANTED}
    assert ids <= small.keys()
    assert ids <= {r.record_id for r in records}
    assert all(small[r.record_id] == r for r in records if r.record_id in ids)
    positions = sorted(planted_positions(COUNT))
    assert positions[0] > 0 and positions[-1] < COUNT - 1  # spread, not bunched at one end
    with pytest.raises(ValueError):
        planted_positions(len(PLANTED) - 1)


def test_records_look_like_administrative_documents(records: list[CorpusRecord]) -> None:
    assert len({r.record_id for r in records}) == COUNT
    assert all(re.fullmatch(r"[0-9a-f]{24}", r.record_id) for r in records)
    types = Counter(r.doc_type for r in records)
    assert len(types) >= 12 and types.most_common(1)[0][0] == "CV"
    assert all(r.type_name == corpus.TYPE_NAMES[r.doc_type] for r in records)
    assert all(r.type_name == "" for r in records if r.doc_type == "CV")
    assert len({r.issuer for r in records}) >= 40
    assert all("1995-01-01" <= r.date <= "2026-12-31" for r in records)
    assert {r.series_code for r in records} - {None} <= SERIES_CODES
    for record in records:  # the header holds the subject, whatever the noise
        assert " ".join(words(record.subject)) in " ".join(words(record.body))


def test_numbers_follow_decree_30_forms(records: list[CorpusRecord]) -> None:
    forms = Counter()
    for r in records:
        if re.fullmatch(r"\d{2,}/\d{4}/[^/-]+-[^/-]+", r.number):
            forms["legal"] += 1
            assert r.number.split("/")[1] == r.date[:4]  # the year inside is the year of issue
        elif re.fullmatch(r"\d+-[^/]+/[^/]+", r.number):
            forms["party"] += 1
        elif re.fullmatch(r"\d+/[^/]+-[^/]+", r.number):
            forms["plain"] += 1
    assert forms["legal"] and forms["party"] and forms["plain"] > COUNT * 0.8
    assert all(
        (r.doc_type in ("NĐ", "TT") and "/20" in r.number) or r.doc_type not in ("NĐ", "TT")
        for r in records
        if r.issuer == "Chính phủ"
    )


def test_access_mix_and_restricted_ids(records: list[CorpusRecord]) -> None:
    shares = Counter(r.access for r in records)
    assert 0.64 < shares["public"] / COUNT < 0.76
    assert shares["secret"] > 0 and shares["confidential"] > shares["secret"]
    assert set(restricted_ids(COUNT)) == {r.record_id for r in records if r.access != "public"}


def test_bodies_cite_documents_and_carry_ocr_noise(records: list[CorpusRecord]) -> None:
    bodies = [unicodedata.normalize("NFC", r.body) for r in records]
    assert sum("30/2020/NĐ-CP" in b or "30/2020/NÐ-CP" in b for b in bodies) > COUNT * 0.02
    assert sum(b.count("Căn cứ ") >= 2 for b in bodies) > COUNT * 0.3
    assert any(b != r.body for b, r in zip(bodies, records, strict=True))  # some are NFD
    assert any("\u00d0" in b for b in bodies)  # Ð for Đ
    assert 1600 < statistics.mean(len(r.body) for r in records) < 2600


def test_body_chars_scales_the_bodies() -> None:
    big = [r.body for r in generate(6, body_chars=20_000, with_answers=False)]
    assert 14_000 < statistics.mean(len(b) for b in big) < 26_000


def test_latency_queries_are_deterministic() -> None:
    queries = latency_queries(200)
    assert queries == latency_queries(200) and len(set(queries)) > 50
    assert any("/" in q for q in queries) and any(q.isascii() for q in queries)
