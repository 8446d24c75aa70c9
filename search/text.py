"""Word splitting and snippets, the same for every engine.

``tokenize`` matches tantivy's default tokenizer (split on what is not a letter or digit,
lowercase, drop tokens over 40 bytes), so terms built here meet the terms in the index.
"""

from __future__ import annotations

import html
import re

from archive.text import fold, normalize

_WORD = re.compile(r"[^\W_]+")
MAX_TOKEN_BYTES = 40
SNIPPET_CHARS = 200


def tokenize(text: str) -> list[str]:
    words = (m.group(0).lower() for m in _WORD.finditer(normalize(text)))
    return [w for w in words if len(w.encode("utf-8")) <= MAX_TOKEN_BYTES]


def folded_tokens(text: str) -> list[str]:
    return tokenize(fold(text))


def _fold_lower(text: str) -> str:
    """Folded and lowercased, still one character per character of ``text``."""
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in fold(text))


def _best_anchor(pattern: re.Pattern[str], folded: str, span: int) -> int:
    """Where the most distinct query words stand within ``span`` characters (earliest wins),
    so ``chinh phu`` shows "Chính phủ" rather than a lone "chính" earlier on."""
    best_start, best_count = 0, 0
    for match in pattern.finditer(folded):
        window = folded[match.start() : match.start() + span]
        count = len({m.group(0) for m in pattern.finditer(window)})
        if count > best_count:
            best_start, best_count = match.start(), count
    return best_start


def make_snippet(body: str, query: str, width: int = SNIPPET_CHARS) -> str:
    """An HTML-escaped excerpt of ``body`` around the first query word, words in ``<b>``.

    Matching is done on folded text, so ``chinh phu`` highlights ``chính phủ``; ``fold`` keeps
    positions, so the excerpt shows the original letters.
    """
    text = " ".join(normalize(body).split())
    folded = _fold_lower(text)
    terms = sorted(set(folded_tokens(query)), key=len, reverse=True)
    if not terms:
        return html.escape(text[:width])
    pattern = re.compile(r"(?<![^\W_])(?:" + "|".join(map(re.escape, terms)) + r")(?![^\W_])")
    anchor = _best_anchor(pattern, folded, width // 4)
    start = 0
    if anchor > width // 4:
        start = anchor - width // 4
        space = text.find(" ", start, anchor)
        if space >= 0:
            start = space + 1  # begin on a word, not inside one
    end = min(len(text), start + width)
    pieces: list[str] = ["…" if start > 0 else ""]
    cursor = start
    for match in pattern.finditer(folded, start, end):
        pieces.append(html.escape(text[cursor : match.start()]))
        pieces.append(f"<b>{html.escape(text[match.start() : match.end()])}</b>")
        cursor = match.end()
    pieces.append(html.escape(text[cursor:end]))
    pieces.append("…" if end < len(text) else "")
    return "".join(pieces)
