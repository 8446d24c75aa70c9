"""The snippets as ``search.text`` made them with ``re`` alone, before its byte-coded
matching: the reference the faster code must agree with, character for character."""

from __future__ import annotations

import html
import re
from functools import lru_cache

from archive.text import fold, normalize
from search.text import _VARIANTS, MAX_ANCHOR_MATCHES, SCAN_CHARS, SNIPPET_CHARS


def _pattern_of(word: str) -> str:
    """A regex matching ``word`` with any (or no) diacritics, in any case."""
    parts = []
    for char in fold(normalize(word)).lower():
        variants = _VARIANTS.get(char)
        parts.append(f"[{re.escape(variants)}]" if variants else re.escape(char))
    return "".join(parts)


@lru_cache(maxsize=256)
def _highlighter(words: tuple[str, ...], prefixes: tuple[str, ...]) -> re.Pattern[str] | None:
    """One pattern for all query words, for highlighting inside the (short) snippet."""
    alternatives = sorted(
        {_pattern_of(w) + r"(?![^\W_])" for w in words if w}
        | {_pattern_of(p) + r"[^\W_]*" for p in prefixes if p},
        key=len,
        reverse=True,
    )
    if not alternatives:
        return None
    return re.compile(r"(?<![^\W_])(?:" + "|".join(alternatives) + ")", re.IGNORECASE)


@lru_cache(maxsize=1024)
def _finder(word: str) -> re.Pattern[str]:
    """A pattern for one word in lowercased text, beginning with its literal letters where it
    has some, so that ``re`` can skip ahead (no look-behind: boundaries are checked after)."""
    return re.compile(_pattern_of(word))


def _starts(text: str, word: str, prefix: bool) -> list[int]:
    found = []
    for match in _finder(word).finditer(text):
        before = text[match.start() - 1] if match.start() else " "
        after = text[match.end()] if match.end() < len(text) else " "
        if before.isalnum() or (not prefix and after.isalnum()):
            continue
        found.append(match.start())
        if len(found) >= MAX_ANCHOR_MATCHES // 4:
            break
    return found


def _anchor(text: str, words: list[str], prefixes: tuple[str, ...], span: int) -> int:
    """Where the most distinct query words stand within ``span`` characters (earliest wins),
    looking only at the start of the text (``SCAN_CHARS``)."""
    region = text[:SCAN_CHARS].lower()
    found = sorted(
        (at, word)
        for word, prefix in [*((w, False) for w in words), *((p, True) for p in prefixes)]
        for at in _starts(region, word, prefix)
    )
    best_start, best_count = 0, 0
    for i, (start, _) in enumerate(found):
        distinct = {word for at, word in found[i:] if at < start + span}
        if len(distinct) > best_count:
            best_start, best_count = start, len(distinct)
    return best_start


def make_snippet(
    body: str, words: list[str] | str, prefixes: tuple[str, ...] = (), width: int = SNIPPET_CHARS
) -> str:
    """An HTML-escaped excerpt of ``body`` around where the query words stand, each match in
    ``<b>``. ``words`` may be query text (it is split into words)."""
    if isinstance(words, str):
        words = [m.group(0) for m in re.finditer(r"[^\W_]+", normalize(words))]
    unique = sorted({w for w in words if w})
    pattern = _highlighter(tuple(unique), tuple(sorted(set(prefixes))))
    # Only the window is normalised; whitespace runs read as one space.
    start = 0
    if pattern is not None:
        anchor = _anchor(body, unique, prefixes, width // 4)
        # Shown from a little before the anchor, but never less than a snippet's width.
        start = max(0, min(anchor - width // 4, len(body) - width))
    window = " ".join(normalize(body[start : start + 2 * width]).split())
    if start > 0:
        space = window.find(" ", 0, width // 4)
        if space >= 0:
            window = window[space + 1 :]  # begin on a word, not inside one
    end = min(len(window), width)
    cut = window[:end]
    pieces = ["…" if start > 0 else ""]
    cursor = 0
    for match in pattern.finditer(cut) if pattern is not None else ():
        pieces.append(html.escape(cut[cursor : match.start()]))
        pieces.append(f"<b>{html.escape(match.group(0))}</b>")
        cursor = match.end()
    pieces.append(html.escape(cut[cursor:]))
    more = start + 2 * width < len(body) or end < len(window)
    pieces.append("…" if more else "")
    return "".join(pieces)
