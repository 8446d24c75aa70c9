"""Vietnamese text for the index: the two analyzers, and snippets that highlight a word
however its diacritics were typed.

Two analyzers, the same for indexing and for building queries, so terms always meet:
``exact`` splits on what is not a letter or digit, drops tokens over 40 bytes and lowercases
(Đ and đ stay themselves); ``folded`` also removes diacritics (tantivy's ASCII folding:
``chính phủ`` → ``chinh phu``, ``đ`` → ``d``). Text is NFC with Ð read as Đ before either
sees it (``archive.text.normalize``).

Snippets never fold a whole document: each query word becomes a pattern that matches any of
its spellings with or without marks; its first matches in the document's first 64 KB find
the window where most query words stand together, and only that window is cut, escaped and
highlighted. A 200 KB report costs about what a 64 KB one does.
"""

from __future__ import annotations

import codecs
import html
import re
import unicodedata
from functools import lru_cache

import tantivy

from archive.text import fold, normalize

MAX_TOKEN_BYTES = 40
SNIPPET_CHARS = 200
# Matches looked at to choose the snippet's window; later ones cannot change it much.
MAX_ANCHOR_MATCHES = 64
# Only the start of a long document is searched for the window: a 200 KB report costs what
# its first 64 KB do (a match further on still finds the record; its snippet is the start).
SCAN_CHARS = 65536

EXACT = "vi_exact"
FOLDED = "vi_folded"


def _analyzer(folded: bool) -> tantivy.TextAnalyzer:
    builder = tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
    builder = builder.filter(tantivy.Filter.remove_long(MAX_TOKEN_BYTES)).filter(
        tantivy.Filter.lowercase()
    )
    if folded:
        builder = builder.filter(tantivy.Filter.ascii_fold())
    return builder.build()


ANALYZERS = {EXACT: _analyzer(False), FOLDED: _analyzer(True)}


def exact_tokens(text: str) -> list[str]:
    return list(ANALYZERS[EXACT].analyze(normalize(text)))


def folded_tokens(text: str) -> list[str]:
    return list(ANALYZERS[FOLDED].analyze(normalize(text)))


def tokenize(text: str) -> list[str]:
    """The exact tokens of ``text`` (lower case, diacritics kept)."""
    return exact_tokens(text)


def _variants() -> dict[str, str]:
    """For each folded letter, every letter that folds to it (both cases)."""
    found: dict[str, set[str]] = {}
    for code in [*range(0x30, 0x7B), *range(0xC0, 0x250), *range(0x1E00, 0x1F00)]:
        char = chr(code)
        if not char.isalnum():
            continue
        base = fold(char).lower()
        if len(base) == 1:
            found.setdefault(base, {base}).update({char, char.lower(), char.upper()})
    return {base: "".join(sorted(chars)) for base, chars in found.items()}


_VARIANTS = _variants()


def _pattern_of(word: str) -> str:
    """A regex matching ``word`` with any (or no) diacritics, in any case."""
    return "".join(_pieces(word))


@lru_cache(maxsize=4096)
def _pieces(word: str) -> tuple[str, ...]:
    """``word``'s pattern, a piece per character: the class of its variants (or the character
    itself when it has none)."""
    parts = []
    for char in fold(normalize(word)).lower():
        variants = _VARIANTS.get(char)
        parts.append(f"[{re.escape(variants)}]" if variants else re.escape(char))
    return tuple(parts)


# --- Finding words fast ----------------------------------------------------------------------
#
# The patterns above are costly for ``re``: each piece is a class of dozens of letters, which
# takes ~0.2 ms to compile (a query of three words, ~5 ms) and is slow to scan. So a text is
# first coded one byte a character (ASCII, every Vietnamese letter in both cases, the marks of
# decomposed text, common punctuation; anything else becomes ``?``), and a word is looked for
# with a pattern of small byte classes, cheap to compile and fast to scan: each class holds
# the byte of every coded character its piece matches, and ``?``. It matches wherever the real
# pattern matches; where it put ``?`` for a character, that character is tested against the
# real piece (``_Matches``). What is found is exactly what the real pattern finds.


_NO_CODE = 0xFF  # a byte no character is coded as


def _code_table() -> list[str]:
    tones = ("", "\u0300", "\u0301", "\u0303", "\u0309", "\u0323")
    vowels = "aăâeêioôơuưyAĂÂEÊIOÔƠUƯY"
    letters = [unicodedata.normalize("NFC", v + t) for v in vowels for t in tones] + ["đ", "Đ"]
    marks = list("\u0300\u0301\u0303\u0309\u0323\u0302\u0306\u031b")
    others = [c for c in letters if not c.isascii()] + marks + list("ðÐ“”‘’–—…«»°•\u00a0")
    table = ["\ufffe"] * 256  # unassigned
    table[0] = "\x00"
    for code in (9, 10, 13, *range(32, 127)):
        table[code] = chr(code)
    free = [code for code in range(1, _NO_CODE) if table[code] == "\ufffe"]
    assert len(others) <= len(free)
    for code, char in zip(free, others, strict=False):
        table[code] = char
    return table


_CODE = _code_table()
_ENCODING = codecs.charmap_build("".join(_CODE))
_CODED = [(code, char) for code, char in enumerate(_CODE) if char != "\ufffe"]
_OTHER = ord("?")


_ETH = ("\u00d0", "\u00f0")


def _normalize(text: str) -> str:
    """``normalize(text)``: its translate (Ð read as Đ) costs 0.1 µs a character, and is only
    needed where there is an eth; NFC cannot make one."""
    if _ETH[0] in text or _ETH[1] in text:
        return normalize(text)
    return unicodedata.normalize("NFC", text)


def _encode(text: str) -> bytes:
    """``text`` one byte a character (``?`` for what the code lacks), so positions agree."""
    return codecs.charmap_encode(text, "replace", _ENCODING)[0]


class _Matches(dict[str, bool]):
    """Whether a character matches one piece of a pattern, as ``re`` decides it; asked once
    per character, then a dictionary look-up."""

    def __init__(self, piece: str, flags: int) -> None:
        super().__init__()
        self._fullmatch = re.compile(piece, flags).fullmatch

    def __missing__(self, char: str) -> bool:
        found = self[char] = self._fullmatch(char) is not None
        return found


@lru_cache(maxsize=4096)
def _matches(piece: str, flags: int) -> _Matches:
    return _Matches(piece, flags)


@lru_cache(maxsize=4096)
def _byte_class(piece: str, flags: int) -> bytes:
    test = _matches(piece, flags)
    return b"[" + re.escape(bytes(code for code, char in _CODED if test[char]) + b"?") + b"]"


@lru_cache(maxsize=2048)
def _finder(word: str, flags: int = 0) -> tuple[re.Pattern[bytes], tuple[_Matches, ...]]:
    """The coded pattern of ``word`` and the tests of its pieces."""
    pieces = _pieces(word)
    coded = re.compile(b"".join(_byte_class(piece, flags) for piece in pieces))
    return coded, tuple(_matches(piece, flags) for piece in pieces)


def _matched(text: str, encoded: bytes, at: int, end: int, tests: tuple[_Matches, ...]) -> bool:
    """Whether the coded pattern's match ``at..end`` is one of the real pattern: only the
    characters coded ``?`` are left to test."""
    span = encoded[at:end]
    if b"?" not in span:
        return True
    return all(
        test[char] for test, char, code in zip(tests, text[at:end], span, strict=True)
        if code == _OTHER
    )  # fmt: skip


def _fold_table() -> tuple[bytes, bytes]:
    """For coded text: the byte of each character's folded letter (the one letter whose
    variants it is among), and the bytes of characters among the variants of several."""
    owners: dict[str, set[str]] = {}
    for base, variants in _VARIANTS.items():
        for char in variants:
            owners.setdefault(char, set()).add(base)
    code_of = {char: code for code, char in _CODED}
    table, shared = bytearray(range(256)), bytearray()
    for code, char in _CODED:
        found = owners.get(char, set())
        if len(found) > 1:
            shared.append(code)
        elif found:
            # A folded letter the code lacks gets a byte no coded character has.
            table[code] = code_of.get(next(iter(found)), _NO_CODE)
    return bytes(table), bytes(shared)


_FOLD, _SHARED = _fold_table()
_CODE_OF = {char: code for code, char in _CODED}
# The same for text not yet lowercased: each coded character as its lowercase folds (every
# coded character's lowercase is one coded character, a letter or digit if it is one).
_FOLD_ANY_CASE = bytes(
    _FOLD[_CODE_OF[char.lower()]] if char in _CODE_OF else code for code, char in enumerate(_CODE)
)
_SHARED_ANY_CASE = bytes(code for code, char in _CODED if _CODE_OF[char.lower()] in _SHARED)


def _fold_coded(encoded: bytes, table: bytes = _FOLD, shared: bytes = _SHARED) -> bytes | None:
    """Coded text with each letter replaced by its folded letter, when that says exactly what
    the patterns match (every character coded, none among several letters' variants)."""
    if b"?" in encoded or any(code in encoded for code in shared):
        return None
    return encoded.translate(table)


@lru_cache(maxsize=4096)
def _folded_key(word: str) -> bytes | None:
    """``word`` folded and coded, when each of its pieces is the class of a coded letter."""
    key = bytearray()
    for char in fold(normalize(word)).lower():
        if char not in _VARIANTS or char not in _CODE_OF:
            return None
        key.append(_CODE_OF[char])
    return bytes(key) or None


def _starts(text: str, encoded: bytes, folded: bytes | None, word: str, prefix: bool) -> list[int]:
    """Where ``word`` starts in ``text`` (lowercased) as a whole word (``prefix``: at a word's
    start), its first ``MAX_ANCHOR_MATCHES // 4`` places: of the matches ``finditer`` gives
    for its pattern (in order, without overlap), those that stand alone. ``encoded``: the
    text coded; ``folded``: that folded (``_fold_coded``), where the word's pattern matches
    just where its folded key stands."""
    key = _folded_key(word) if folded is not None else None
    if key is not None:
        assert folded is not None
        return _key_starts(text, folded, key, prefix)
    coded, tests = _finder(word)
    search = coded.search
    length = len(tests)
    found: list[int] = []
    pos = 0
    while len(found) < MAX_ANCHOR_MATCHES // 4:
        match = search(encoded, pos)
        if match is None:
            break
        at = match.start()
        end = at + length
        if not _matched(text, encoded, at, end, tests):
            pos = at + 1  # the next match may begin inside this one
            continue
        before = text[at - 1] if at else " "
        after = text[end] if end < len(text) else " "
        if not (before.isalnum() or (not prefix and after.isalnum())):
            found.append(at)
        pos = end if end > at else at + 1
    return found


def _key_starts(text: str, folded: bytes, key: bytes, prefix: bool) -> list[int]:
    found: list[int] = []
    pos, size, length = 0, len(text), len(key)
    while len(found) < MAX_ANCHOR_MATCHES // 4:
        at = folded.find(key, pos)
        if at < 0:
            break
        end = at + length
        if not (
            (at and text[at - 1].isalnum()) or (not prefix and end < size and text[end].isalnum())
        ):
            found.append(at)
        pos = end
    return found


def _anchor(text: str, words: list[str], prefixes: tuple[str, ...], span: int) -> int:
    """Where the most distinct query words stand within ``span`` characters (earliest wins),
    looking only at the start of the text (``SCAN_CHARS``)."""
    head = text[:SCAN_CHARS]
    # Matched on the lowercased head; when the code holds all of it, lowercasing keeps every
    # position (only İ lowercases to two characters, and it is not coded) and folding the
    # coded head as its lowercase would fold is the same, without lowercasing it.
    folded = _fold_coded(_encode(head), _FOLD_ANY_CASE, _SHARED_ANY_CASE)
    lowered: tuple[str, bytes, bytes | None] | None = None
    found: list[tuple[int, str]] = []
    for word, prefix in [*((w, False) for w in words), *((p, True) for p in prefixes)]:
        key = _folded_key(word) if folded is not None else None
        if key is not None and folded is not None:
            starts = _key_starts(head, folded, key, prefix)
        else:
            if lowered is None:
                region = head.lower()
                encoded = _encode(region)
                lowered = (region, encoded, _fold_coded(encoded))
            starts = _starts(*lowered, word, prefix)
        found.extend((at, word) for at in starts)
    found.sort()
    every = len({word for _, word in found})
    best_start, best_count = 0, 0
    for i, (start, _) in enumerate(found):
        if best_count == every:
            break  # no later window can hold more
        distinct = set()
        j = i
        while j < len(found) and found[j][0] < start + span:
            distinct.add(found[j][1])
            j += 1
        if len(distinct) > best_count:
            best_start, best_count = start, len(distinct)
    return best_start


# One alternative of the highlighting pattern: its coded pattern, its pieces' tests, and
# whether it is a prefix (``[^\W_]*`` after it) or a word (``(?![^\W_])``).
_Alternative = tuple[re.Pattern[bytes], tuple[_Matches, ...], bool]


@lru_cache(maxsize=256)
def _alternatives(words: tuple[str, ...], prefixes: tuple[str, ...]) -> tuple[_Alternative, ...]:
    """The highlighting pattern, ``(?<![^\\W_])(?:w1(?![^\\W_])|…|p1[^\\W_]*|…)`` with the
    longest alternatives first, case-insensitive, as its alternatives."""
    patterns = {_pattern_of(w) + r"(?![^\W_])": (w, False) for w in words if w}
    patterns |= {_pattern_of(p) + r"[^\W_]*": (p, True) for p in prefixes if p}
    ordered = sorted(patterns, key=lambda pattern: (-len(pattern), pattern))
    return tuple(
        (*_finder(patterns[pattern][0], re.IGNORECASE), patterns[pattern][1]) for pattern in ordered
    )


def _next_match(
    text: str, encoded: bytes, alternative: _Alternative, pos: int
) -> tuple[int, int] | None:
    """The first match of one alternative at or after ``pos``, boundaries included."""
    coded, tests, prefix = alternative
    size = len(text)
    while (match := coded.search(encoded, pos)) is not None:
        at = match.start()
        end = at + len(tests)
        if (not at or not text[at - 1].isalnum()) and _matched(text, encoded, at, end, tests):
            if prefix:
                while end < size and text[end].isalnum():
                    end += 1
                return at, end
            if end >= size or not text[end].isalnum():
                return at, end
        pos = at + 1
    return None


def _highlights(text: str, alternatives: tuple[_Alternative, ...]) -> list[tuple[int, int]]:
    """The spans the highlighting pattern's ``finditer`` finds in ``text``: the leftmost place
    where an alternative matches, the first alternative there, then on from its end."""
    encoded = _encode(text)
    # Per alternative: (searched from, its next match there or None).
    ahead: list[tuple[int, tuple[int, int] | None]] = [(-1, None)] * len(alternatives)
    spans: list[tuple[int, int]] = []
    pos = 0
    while True:
        best: tuple[int, int] | None = None
        for i, alternative in enumerate(alternatives):
            since, found = ahead[i]
            if since < 0 or (found is not None and found[0] < pos):
                found = _next_match(text, encoded, alternative, pos)
                ahead[i] = (pos, found)
            if found is not None and (best is None or found[0] < best[0]):
                best = found
        if best is None:
            return spans
        spans.append(best)
        pos = max(best[1], best[0] + 1)


def snippet_source(body: str, width: int = SNIPPET_CHARS) -> str:
    """All of ``body`` that ``make_snippet`` reads: the scanned start, and a window beyond it
    (lowercasing İ adds a character to the scanned start, so one more each). An index may
    store just this, and the body's length (``make_snippet(..., length=)``)."""
    return body[: SCAN_CHARS + body[:SCAN_CHARS].count("\u0130") + 2 * width]


def make_snippet(
    body: str,
    words: list[str] | str,
    prefixes: tuple[str, ...] = (),
    width: int = SNIPPET_CHARS,
    *,
    length: int | None = None,
) -> str:
    """An HTML-escaped excerpt of ``body`` around where the query words stand, each match in
    ``<b>``. ``words`` may be query text (it is split into words). ``body`` may be its
    ``snippet_source`` with ``length`` the length of the whole: the excerpt is the same."""
    size = len(body) if length is None else length
    if isinstance(words, str):
        words = [m.group(0) for m in re.finditer(r"[^\W_]+", normalize(words))]
    unique = sorted({w for w in words if w})
    alternatives = _alternatives(tuple(unique), tuple(sorted(set(prefixes))))
    # Only the window is normalised; whitespace runs read as one space.
    start = 0
    if alternatives:
        anchor = _anchor(body, unique, prefixes, width // 4)
        # Shown from a little before the anchor, but never less than a snippet's width.
        start = max(0, min(anchor - width // 4, size - width))
    window = " ".join(_normalize(body[start : start + 2 * width]).split())
    if start > 0:
        space = window.find(" ", 0, width // 4)
        if space >= 0:
            window = window[space + 1 :]  # begin on a word, not inside one
    end = min(len(window), width)
    cut = window[:end]
    pieces = ["…" if start > 0 else ""]
    cursor = 0
    for begin, finish in _highlights(cut, alternatives):
        pieces.append(html.escape(cut[cursor:begin]))
        pieces.append(f"<b>{html.escape(cut[begin:finish])}</b>")
        cursor = finish
    pieces.append(html.escape(cut[cursor:]))
    more = start + 2 * width < size or end < len(window)
    pieces.append("…" if more else "")
    return "".join(pieces)
