"""The relevance set: answers planted and verified, folding of the answer keys, the metrics."""

from __future__ import annotations

import random
import unicodedata

import pytest

from archive.text import fold
from bench.relevance import (
    FILTER_KEYS,
    PLANTED,
    RelevanceQuery,
    check,
    fold_fast,
    notation_key,
    parse,
    plain_words,
    planted_id,
    recall_at,
    reciprocal_rank,
    relevance_set,
    score_engine,
    words,
)
from bench.search_corpus import generate


def test_the_set_covers_every_kind() -> None:
    queries = relevance_set()
    assert len(queries) >= 40
    kinds = {q.kind for q in queries}
    assert {
        "folded",
        "diacritics",
        "number",
        "number_cited",
        "phrase",
        "exclude",
        "or",
        "filter",
        "subject_vs_ocr",
        "leak",
    } <= kinds
    assert all(0 < len(q.relevant) <= 10 and set(q.filters) <= FILTER_KEYS for q in queries)
    assert len({p.key for p in PLANTED}) == len(PLANTED)


def test_answer_keys_hold_over_a_corpus() -> None:
    """Answers match, distractors tempt but do not match, no background record answers an
    exhaustive query or owns a planted number."""
    assert check(generate(1500), relevance_set()) == []


def test_check_finds_a_wrong_key() -> None:
    records = list(generate(len(PLANTED)))
    wrong = RelevanceQuery("chuyen doi so Sin Chai", {}, (planted_id("sohoa"),), "folded", "")
    problems = check(records, [wrong])
    assert any("does not match" in p for p in problems)
    assert any("unexpected matches" in p for p in problems)


@pytest.mark.parametrize(
    "text",
    [
        "Quyết định số 1482/QĐ-UBND",
        "Ðiều 1. hồ so",
        unicodedata.normalize("NFD", "Chuyển đổi số"),
        "đ\u0323",
        "漢字 Việt",
        "a\u0301\u0301",
        "ǅ Ǆ ẛ",
        "…–“”",
    ],
)
def test_fold_fast_is_fold(text: str) -> None:
    assert fold_fast(text) == fold(text)


def test_fold_fast_is_fold_on_corpus_and_random_text() -> None:
    assert all(fold_fast(r.body) == fold(r.body) for r in generate(100, with_answers=False))
    rng = random.Random(3)
    for _ in range(2000):
        text = "".join(
            chr(
                rng.choice(
                    (
                        rng.randint(32, 0x36F),
                        rng.randint(0x1E00, 0x1EFF),
                        rng.randint(0x370, 0xD7FF),
                    )
                )
            )
            for _ in range(8)
        )
        assert fold_fast(text) == fold(text)


def test_numbers_fold_to_one_key() -> None:
    forms = [
        "1482/QĐ-UBND",
        "1482/qđ-ubnd",
        "1482/QD-UBND",
        "1482/QÐ-UBND",
        " 1482 / QĐ-UBND",
        unicodedata.normalize("NFD", "1482/QĐ-UBND"),
    ]
    assert {notation_key(f) for f in forms} == {"1482/qd-ubnd"}
    assert notation_key("05/2025/TT-BNV") == notation_key("5/2025/tt-bnv")
    assert words("CHUYỂN ĐỔI SỐ") == words("chuyen doi so") == ["chuyen", "doi", "so"]


def test_the_query_language() -> None:
    clauses = parse('giống lúa OR ngô "Pà Cò" -cà -"hộ nghèo" 1482/QĐ-UBND')
    assert [(c.alternatives, c.negated) for c in clauses] == [
        ((("giong",),), False),
        ((("lua",), ("ngo",)), False),
        ((("pa", "co"),), False),
        ((("ca",),), True),
        ((("ho", "ngheo"),), True),
        ((("1482", "qd", "ubnd"),), False),  # the dash inside a number is not an exclusion
    ]
    assert plain_words('"trường mầm non" Nậm Pồ -ngô OR x') == [
        "trường",
        "mầm",
        "non",
        "nậm",
        "pồ",
        "x",
    ]


def test_recall_and_reciprocal_rank() -> None:
    assert recall_at(["a", "x", "b"], ["a", "b", "c", "d"]) == 0.5
    assert recall_at(["x"] * 10 + ["a"], ["a"]) == 0.0  # past k
    assert recall_at(["x", "a"], ["a"], k=1) == 0.0
    assert reciprocal_rank(["x", "y", "b", "a"], ["a", "b"]) == pytest.approx(1 / 3)
    assert reciprocal_rank([], ["a"]) == 0.0
    with pytest.raises(ValueError):
        recall_at(["a"], [])


def test_score_engine_counts_recall_order_wrong_hits_and_leaks() -> None:
    q1 = RelevanceQuery("a", {}, ("r1", "r2"), "k1", "", best_first=True)
    q2 = RelevanceQuery("b", {}, ("r3",), "k2", "", excluded=("x1",), restricted=("s1",))
    answers = {"a": ["r2", "r1"], "b": ["x1", "s1", "r3", "s9"]}
    report = score_engine(lambda q: answers[q.query], queries=[q1, q2], restricted={"s9"})
    k1, k2 = report.by_kind()
    assert (k1.recall, k1.mrr, k1.top1) == (1.0, 1.0, (0, 1))  # r2 first, r1 is the best
    assert (k2.recall, k2.mrr, k2.wrong, k2.leaks) == (1.0, pytest.approx(1 / 3), 1, 2)
    overall = report.overall()
    assert (overall.queries, overall.leaks, overall.mrr) == (2, 2, pytest.approx(2 / 3))
    table = report.markdown("fake")
    assert "| k2 | 1 | 1.00 | 0.33 | - | 1 | 2 |" in table and "**all**" in table
    assert len(report.failures()) == 2


def test_a_perfect_engine_scores_one() -> None:
    report = score_engine(lambda q: list(q.relevant))
    overall = report.overall()
    assert (overall.recall, overall.mrr, overall.wrong, overall.leaks) == (1.0, 1.0, 0, 0)
    assert overall.top1[0] == overall.top1[1] > 0
