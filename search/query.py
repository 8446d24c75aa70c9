"""What an official types in the search box, read into a query every engine builds alike.

The syntax (documented in the README and on the page):

- words, typed with or without diacritics: each must match (``quyet dinh chuyen doi so``);
- ``"chính phủ điện tử"``: a phrase, its words in that order;
- ``-word`` or ``NOT word`` (also ``-"a phrase"``): leave out what matches;
- ``a OR b``: either (OR binds its neighbours; ``AND`` is the default and may be written);
- ``word*``: a prefix (at least two letters);
- a document number as written (``1482/QĐ-UBND``, ``1482/qd-ubnd``, ``30/2020/NĐ-CP``): the
  record with that number first, then the documents that cite it;
- fields: ``so:`` (``số:``, ``number:``), ``loai:`` (``type:``), ``coquan:`` (``issuer:``),
  ``nam:`` (``year:``), ``hoso:`` (``series:``), ``tu:`` / ``den:`` (``from:`` / ``to:``,
  YYYY-MM-DD or DD/MM/YYYY); a value with spaces goes in quotes (``coquan:"Bộ Nội vụ"``).

Nothing the user types reaches an engine's own query parser: the result is data (words,
phrases, numbers, filters), and each engine builds its query from it. Anything that is not
syntax here is text: ``body:x`` or ``access_rank:3`` are two words each, which match nothing
unless a record says them. Input is bounded (length, number of clauses), and parsing never
fails: at worst a query has nothing left to look for.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date

from archive.text import fold, normalize

MAX_QUERY_CHARS = 500
MAX_CLAUSES = 32
MIN_PREFIX_CHARS = 2

# Notations of Decree 30/2020 (Appendix I): 1482/QĐ-UBND, 30/2020/NĐ-CP, 7816/VPCP-TTĐT,
# and the Party's 14514-CV/VPTW.
_NOTATION = re.compile(
    r"^\d{1,6}(?:/\d{4})?/[^\W\d_][\w.]*(?:[-/][\w.]+)*$|^\d{1,6}-[^\W\d_]+/[\w.]+(?:[-/][\w.]+)*$"
)
_WORD = re.compile(r"[^\W_]+")
_FIELDS = {
    "so": "number",
    "number": "number",
    "loai": "doc_type",
    "type": "doc_type",
    "coquan": "issuer",
    "issuer": "issuer",
    "nam": "year",
    "year": "year",
    "hoso": "series",
    "series": "series",
    "tu": "date_from",
    "from": "date_from",
    "den": "date_to",
    "to": "date_to",
}
_TOKEN = re.compile(r'(-?)(?:(\w+):)?(?:"([^"]*)"?|(\S+))')


@dataclass(frozen=True)
class Filters:
    """Structured conditions, from the CLI/API options or from ``field:value`` in the query."""

    doc_type: str | None = None  # the abbreviation, e.g. "QĐ" (any case)
    issuer: str | None = None  # words of the issuer's name, as a phrase
    date_from: date | None = None
    date_to: date | None = None
    series: str | None = None
    year: int | None = None
    number: str | None = None  # a document number: that record only

    def merged(self, other: Filters) -> Filters:
        """``self`` with what ``other`` sets (the query's own fields win over nothing)."""
        values = {k: v for k, v in other.__dict__.items() if v is not None}
        return replace(self, **values)


@dataclass(frozen=True)
class Words:
    """One word, a prefix, or a phrase (its words in order); text as typed, normalised."""

    words: tuple[str, ...]
    phrase: bool = False
    prefix: bool = False


@dataclass(frozen=True)
class Notation:
    """A document number: ``key`` is how every form of it compares (no marks, lower case,
    no spaces); ``words`` are its parts, for finding it where documents cite it."""

    key: str
    text: str
    words: tuple[str, ...]


Item = Words | Notation


@dataclass(frozen=True)
class ParsedQuery:
    """``required``: groups that must each match (a group of several is an OR);
    ``excluded``: what must not match; ``filters``: from ``field:value``."""

    required: tuple[tuple[Item, ...], ...] = ()
    excluded: tuple[Item, ...] = ()
    filters: Filters = field(default_factory=Filters)

    @property
    def empty(self) -> bool:
        return not self.required

    def highlight_words(self) -> list[str]:
        """The words a snippet should show (not the excluded ones)."""
        found: list[str] = []
        for group in self.required:
            for item in group:
                found.extend(item.words)
        return found

    def highlight_prefixes(self) -> tuple[str, ...]:
        """The prefixes a snippet should show (``chuyển*``: words beginning so)."""
        return tuple(
            item.words[0]
            for group in self.required
            for item in group
            if isinstance(item, Words) and item.prefix
        )


def key_of(text: str) -> str:
    """How doc types and series compare as written: any case, any Unicode form (an OCR'd
    Icelandic Ð is Đ), HD and HĐ differ."""
    return " ".join(normalize(text).split()).lower()


def doc_type_key_f(doc_type: str) -> str:
    """A doc type's key without diacritics (``QĐ`` -> ``qd``), looked up by ``doc_type_term``."""
    return fold(key_of(doc_type))


# Decree 30's abbreviations written without a Đ that have a twin written with one: HD (hướng
# dẫn) and HĐ (hợp đồng), DA (dự án) and ĐA (đề án). tests/search/test_query.py checks the list
# against ingest.metadata.TYPE_NAMES (search may not import ingest).
PLAIN_TYPES_WITH_A_TWIN = frozenset({"hd", "da"})


def doc_type_term(value: str) -> tuple[str, str]:
    """The field and the key a doc-type filter looks up, in every engine.

    Typed without diacritics, every type that folds to it matches (``QD``, ``qd`` find QĐ),
    as words do in the text: a keyboard without Vietnamese input gives that. Typed with them,
    that type only, any case. HD and DA are types of their own, spelled right without a Đ
    (``PLAIN_TYPES_WITH_A_TWIN``): typed so, they are that type only, or a facet's link to
    Hướng dẫn (HD) would list the contracts (HĐ) too. Every facet's link carries the type as
    written, so it keeps to that one type."""
    key = key_of(value)
    plain = fold(key) == key and key not in PLAIN_TYPES_WITH_A_TWIN
    return ("doc_type_f", key) if plain else ("doc_type_key", key)


def doc_type_matches(typed: str, doc_type: str) -> bool:
    """Whether a doc-type filter ``typed`` keeps records of ``doc_type`` (``doc_type_term``)."""
    field, key = doc_type_term(typed)
    return (doc_type_key_f(doc_type) if field == "doc_type_f" else key_of(doc_type)) == key


def notation_key(text: str) -> str:
    """'1482/QĐ-UBND', '1482/qd-ubnd', ' 1482 / QD-UBND ' all give '1482/qd-ubnd'."""
    return "".join(fold(normalize(text)).lower().split())


def looks_like_notation(text: str) -> bool:
    return bool(_NOTATION.match("".join(normalize(text).split())))


def _words_of(text: str) -> tuple[str, ...]:
    return tuple(m.group(0) for m in _WORD.finditer(normalize(text)))


def _item(text: str, quoted: bool) -> Item | None:
    compact = "".join(normalize(text).split())
    if not quoted and _NOTATION.match(compact):
        return Notation(notation_key(compact), compact, _words_of(compact))
    prefix = not quoted and text.endswith("*") and len(text.rstrip("*")) >= MIN_PREFIX_CHARS
    words = _words_of(text)
    if not words:
        return None
    if prefix and len(words) == 1:
        return Words(words, prefix=True)
    return Words(words, phrase=quoted or len(words) > 1)


def _parse_date(text: str) -> date | None:
    found = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", text) or re.fullmatch(
        r"(\d{1,2})/(\d{1,2})/(\d{4})", text
    )
    if found is None:
        return None
    parts = [int(p) for p in found.groups()]
    year, month, day = parts if len(found.group(1)) == 4 else (parts[2], parts[1], parts[0])
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _filter(name: str, value: str) -> dict[str, object] | None:
    """The filter ``name:value`` sets, or None when the value does not fit the field."""
    value = normalize(value).strip()
    if not value:
        return None
    if name in ("date_from", "date_to"):
        when = _parse_date(value)
        return None if when is None else {name: when}
    if name == "year":
        return {"year": int(value)} if re.fullmatch(r"\d{4}", value) else None
    if name == "number":
        return {"number": value}
    return {name: value}


def parse_query(text: str) -> ParsedQuery:
    """Read a search box's text; never raises."""
    text = normalize(text)[:MAX_QUERY_CHARS]
    required: list[list[Item]] = []
    excluded: list[Item] = []
    filters: dict[str, object] = {}
    join_next = negate_next = False
    for match in _TOKEN.finditer(text):
        dash, name, quoted, bare = match.groups()
        raw = quoted if quoted is not None else bare
        if name is None and quoted is None and raw in ("OR", "AND", "NOT"):
            join_next = raw == "OR" and bool(required)
            negate_next = raw == "NOT"
            continue
        if name is not None:
            key = _FIELDS.get(fold(name).lower())
            found = _filter(key, raw) if key else None
            if found is not None:
                filters.update(found)
                join_next = negate_next = False
                continue
            raw = f"{name}:{raw}"  # not a field of ours: its words are searched
        item = _item(raw, quoted is not None)
        if item is None:
            continue
        if dash or negate_next:
            excluded.append(item)
        elif join_next:
            required[-1].append(item)
        else:
            required.append([item])
        join_next = negate_next = False
        if len(required) + len(excluded) >= MAX_CLAUSES:
            break
    return ParsedQuery(
        tuple(tuple(group) for group in required),
        tuple(excluded),
        Filters(**filters),  # type: ignore[arg-type]
    )
