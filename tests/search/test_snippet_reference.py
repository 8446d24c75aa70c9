"""The fast snippets of ``search.text`` against the plain ``re`` ones they replace
(``snippet_reference``): the same excerpt and the same highlights for any text and query,
and the same from a stored ``snippet_source`` as from the whole body."""

from __future__ import annotations

import re

from hypothesis import example, given, settings
from hypothesis import strategies as st

from search.text import make_snippet, snippet_source
from tests.search import snippet_reference

# Letters with and without marks in both cases, decomposed marks, digits, the eth that reads
# as Đ, İ (its lowercase is two characters), punctuation and whitespace.
ALPHABET = (
    "aăâeêioôơuưy AĂÂEÊIOÔƠUƯY đĐ ðÐ bcghklmnpqrstvx BCGHK 0123456789 "
    "àáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ ÀÁẢÃẠỲÝ "
    "\u0300\u0301\u0303\u0309\u0323\u0302\u0306\u031b İ ß ﬁ Ω ω 中 "
    "“”‘’–—…«»°•\u00a0 .,;:/-_()\n\t  "
)
WORDS = st.text(alphabet=ALPHABET, min_size=1, max_size=8)


def _a_word(text: str) -> bool:
    return re.fullmatch(r"[^\W_]+", text) is not None


@st.composite
def bodies_and_queries(draw: st.DrawFn) -> tuple[str, str, tuple[str, ...], int]:
    words = draw(st.lists(WORDS, min_size=1, max_size=40))
    separators = draw(st.lists(st.sampled_from([" ", "  ", "\n", ", ", ". ", "-", "/"]),
                               min_size=len(words), max_size=len(words)))  # fmt: skip
    body = "".join(w + s for w, s in zip(words, separators, strict=True))
    body = body * draw(st.integers(1, 30))
    query_words = draw(st.lists(st.sampled_from(words) | WORDS, max_size=4))
    # Prefixes come from the query parser: words, never punctuation.
    prefixes = tuple(draw(st.lists((st.sampled_from(words) | WORDS).filter(_a_word), max_size=2)))
    width = draw(st.sampled_from([20, 60, 200]))
    return body, " ".join(query_words), prefixes, width


@settings(max_examples=400, deadline=None)
@given(bodies_and_queries())
@example(("Đã số hóa theo Thông tư " * 50, "so hoa", ("thô",), 200))
@example(("İİİ chính phủ " * 40, "chinh phu", (), 60))
@example(("ÐĂNG KÝ ðăng ký " * 30, "dang ky", (), 60))
def test_fast_snippets_are_the_plain_ones(case: tuple[str, str, tuple[str, ...], int]) -> None:
    body, query, prefixes, width = case
    expected = snippet_reference.make_snippet(body, query, prefixes, width)
    assert make_snippet(body, query, prefixes, width) == expected
    stored = snippet_source(body, width)
    assert make_snippet(stored, query, prefixes, width, length=len(body)) == expected
