"""Text into PostgreSQL ``tsvector`` text, and ``search.query.ParsedQuery`` into
``tsquery`` text, for ``search.postgres_index``.

Words are cut and folded by the analyzers of ``search.text`` (tantivy's), not by PostgreSQL,
so every engine indexes the very same terms. (PostgreSQL's parser reads ``30/2020/NĐ-CP`` as
``30/2020/n``, ``đ-cp``, ``đ``, ``cp``, and unaccented as the one word ``30/2020/nd-cp``: a
number cited in a body could not be found by its parts, nor ``nghi dinh 30/2020``.)

A record's terms, one ``tsvector``, with weights:
- each word as written (``số``) and, where that differs, folded and marked (``~so``): a word
  typed with its marks matches the first, a folded one either (``'so' | '~so'``);
- the head (number, title, subject, issuer, keywords) at positions from 1, weights A (as
  written) and B (folded); the body after a gap, so that no phrase spans the two, C and D;
- the record's number key, ``#1482/qd-ubnd``.
Positions are tantivy's (an over-long word, dropped, keeps its place). PostgreSQL keeps
positions up to 16,383 and 256 of them a word: past that a word is found, not a phrase; and a
tsvector holds 1 MB: of a longer body (some hundreds of KB of text), the start is indexed.

The query is built as data: analysed words, quoted and escaped, ``<->`` in phrases, ``:*`` for
prefixes (folded words only, as in tantivy), ``|`` between a word's forms and a group's
alternatives, ``&`` between groups, ``!`` before what is excluded. It is cast to ``tsquery``,
never handed to ``to_tsquery``: nothing typed is read as syntax.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from functools import lru_cache

import tantivy

from search.contracts import IndexDocument
from search.query import Item, Notation, ParsedQuery, Words, doc_type_key_f, key_of, notation_key
from search.text import ANALYZERS, EXACT, FOLDED

MAX_POSITION = 16383
MAX_PLACES = 256
MAX_KEY_BYTES = 1000
# A tsvector's text: each lexeme costs at most 3 bytes more in the value, and takes 6 here.
MAX_TERMS_BYTES = 600_000
_ETH = str.maketrans({"\u00d0": "\u0110", "\u00f0": "\u0111"})

# tantivy's simple tokenizer with no filter: every word, long ones included, so that a
# position is counted for each (tantivy drops long words after numbering them).
_SPLITTER = tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple()).build()


def clean(value: str) -> str:
    """What PostgreSQL text can hold: no NUL, no lone surrogate."""
    value = value.replace("\x00", "")
    return value if value.isascii() else value.encode("utf-8", "replace").decode("utf-8")


def _nfc(value: str) -> str:
    """``archive.text.normalize`` (NFC, Ð read as Đ), its translate only where there is an eth."""
    value = unicodedata.normalize("NFC", value)
    return value.translate(_ETH) if "\u00d0" in value or "\u00f0" in value else value


@lru_cache(maxsize=1 << 17)
def _terms_of(word: str) -> tuple[str, str]:
    """The exact and folded term of one word ('' when it is dropped); a language's
    vocabulary is small, so this is cached."""
    exact = ANALYZERS[EXACT].analyze(word)
    folded = ANALYZERS[FOLDED].analyze(word)
    return (exact[0] if exact else "", folded[0] if folded else "")


def _quote(lexeme: str) -> str:
    return "'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "'"


def _entries(lexemes: dict[str, list[int]], mark: str, weight: str, clamp: bool) -> list[str]:
    joiner = weight + ","
    out = []
    for lexeme, positions in lexemes.items():
        if clamp or len(positions) > MAX_PLACES:
            positions = sorted({min(p, MAX_POSITION) for p in positions})[:MAX_PLACES]
        # The tokenizer's words are letters and digits only: nothing in them to escape.
        if len(positions) == 1:
            out.append(f"'{mark}{lexeme}':{positions[0]}{weight}")
        else:
            out.append(f"'{mark}{lexeme}':{joiner.join(map(str, positions))}{weight}")
    return out


def _literal(value: str, start: int, weights: tuple[str, str]) -> tuple[str, int]:
    """``value``'s words as tsvector text from position ``start``, each as written and, where
    that differs, folded (``~``); and the position after its last word (a dropped, over-long
    word keeps its place, as in tantivy)."""
    words = _SPLITTER.analyze(_nfc(value))
    places: dict[str, list[int]] = {}
    for position, word in enumerate(words, start):
        found = places.get(word)
        if found is None:
            places[word] = [position]
        else:
            found.append(position)
    exact: dict[str, list[int]] = {}
    folded: dict[str, list[int]] = {}
    terms_of = _terms_of
    # Lists are shared between lexemes from here on, so never extended in place.
    for word, positions in places.items():
        written, plain = terms_of(word)
        if written:
            found = exact.get(written)
            exact[written] = positions if found is None else found + positions
            if plain != written:
                found = folded.get(plain)
                folded[plain] = positions if found is None else found + positions
    end = start + len(words)
    clamp = end > MAX_POSITION
    entries = _entries(exact, "", weights[0], clamp) + _entries(folded, "~", weights[1], clamp)
    return " ".join(entries), end


def terms_of(head: str, body: str, number_key: str) -> str:
    """The tsvector text of a document: its head (A as written, B folded), its body after it
    (C, D) and its number key (``#``). Of a body too long for one tsvector (PostgreSQL's limit
    is 1 MB: ``MAX_TERMS_BYTES`` of text stays well under it), the start is indexed."""
    head_text, end = _literal(head, 1, ("A", "B"))
    key = ""
    if number_key and len(number_key.encode("utf-8")) <= MAX_KEY_BYTES:
        key = f"{_quote('#' + number_key)}:1A"
    while True:
        body_text, _ = _literal(body, end + 1, ("C", ""))  # a gap: no phrase spans the two
        terms = " ".join(part for part in (head_text, body_text, key) if part)
        if len(terms) * 4 <= MAX_TERMS_BYTES or not body:
            return terms
        size = len(terms.encode("utf-8"))
        if size <= MAX_TERMS_BYTES:
            return terms
        body = body[: len(body) * MAX_TERMS_BYTES * 9 // (size * 10)]


# --- ParsedQuery into tsquery --------------------------------------------------------------


def _phrase(pieces: Sequence[str]) -> str:
    return pieces[0] if len(pieces) == 1 else "(" + " <-> ".join(pieces) + ")"


def _word_forms(item: Words) -> list[str]:
    """The tsquery of a word, prefix or phrase as written and folded (none when nothing is
    left of it once analysed); a prefix is looked for among folded words only, as in
    tantivy. A folded word is either a word written so (``x``) or folded to it (``~x``)."""
    exact = [t for word in item.words for t in ANALYZERS[EXACT].analyze(word)]
    folded = [t for word in item.words for t in ANALYZERS[FOLDED].analyze(word)]
    if not exact or not folded:
        return []
    if item.prefix:
        return [f"({_quote(folded[0])}:* | {_quote('~' + folded[0])}:*)"]
    plain = _phrase([f"({_quote(t)} | {_quote('~' + t)})" for t in folded])
    return [plain] if exact == folded else [_phrase([_quote(t) for t in exact]), plain]


def _item_forms(item: Item) -> list[str]:
    if isinstance(item, Notation):
        key = [_quote("#" + item.key)] if len(item.key.encode()) <= MAX_KEY_BYTES else []
        return key + _word_forms(Words(item.words, phrase=True))
    return _word_forms(item)


def _either(forms: Sequence[str]) -> str:
    return forms[0] if len(forms) == 1 else "(" + " | ".join(forms) + ")"


def _lexemes(form: str) -> list[str]:
    """The quoted lexemes (and prefixes) of a built form, for the rank query."""
    return [m.group(0) for m in re.finditer(r"'(?:[^']|'')*'(?::\*)?", form)]


def tsquery_of(parsed: ParsedQuery) -> tuple[str, str, list[str]] | None:
    """(what must match, what is ranked, the number keys asked) as tsquery text; None when a
    required group has nothing to look for (it matches nothing). Excluded items go into the
    first only when something is required ('' when nothing is)."""
    groups: list[str] = []
    ranked: dict[str, None] = {}
    for group in parsed.required:
        forms = [form for item in group for form in _item_forms(item)]
        if not forms:
            return None
        groups.append(_either(forms))
        for form in forms:
            ranked.update(dict.fromkeys(lx for lx in _lexemes(form) if not lx.startswith("'#")))
    excluded = [form for item in parsed.excluded for form in _item_forms(item)]
    if groups and excluded:
        groups.append("!" + _either(excluded))
    keys = [item.key for group in parsed.required for item in group if isinstance(item, Notation)]
    return " & ".join(groups), " | ".join(ranked), keys


def excluded_query(parsed: ParsedQuery) -> str:
    """What must not match when nothing is required (filters only)."""
    forms = [form for item in parsed.excluded for form in _item_forms(item)]
    return _either(forms) if forms else ""


def folded_words(value: str) -> list[str]:
    return [_terms_of(word)[1] for word in _SPLITTER.analyze(_nfc(value)) if _terms_of(word)[0]]


def _date_num(doc: IndexDocument) -> int:
    return doc.date.year * 10000 + doc.date.month * 100 + doc.date.day if doc.date else 0


def row_of(doc: IndexDocument) -> dict[str, object]:
    """A document as its table's row."""
    number_key = clean(notation_key(doc.number)) if doc.number else ""
    head = "\n".join(
        part for part in (doc.number, doc.title, doc.subject, doc.issuer, *doc.keywords) if part
    )
    body = clean(doc.body)
    return {
        "record_id": clean(doc.record_id),
        "stamp": clean(doc.stamp),
        "title": clean(doc.title),
        "number": clean(doc.number),
        "number_key": number_key,
        "doc_type": clean(doc.doc_type),
        "doc_type_key": clean(key_of(doc.doc_type)),
        "doc_type_f": clean(doc_type_key_f(doc.doc_type)),
        "issuer": clean(doc.issuer),
        # Spaces each side, so that a phrase of whole words is a substring.
        "issuer_key": " " + " ".join(folded_words(clean(doc.issuer))) + " ",
        "series_key": clean(key_of(doc.series_code or "")),
        "date_num": _date_num(doc),
        "year": doc.date.year if doc.date else 0,
        "access_rank": doc.access.rank,
        "body": body,
        "terms": terms_of(clean(head), body, number_key),
    }
