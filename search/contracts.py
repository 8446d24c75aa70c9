"""The search index contract. Every engine (tantivy by default, Whoosh, PostgreSQL full text)
implements it, and one test suite runs on all of them.

Rules every index keeps:
- it is a cache: everything in it is derived from the archive and can be rebuilt; each
  document carries a ``stamp`` (its access level and seal) so that the archive and the index
  can be compared record by record (``stamps``) and what differs re-indexed;
- access filtering happens inside the engine's query, so ``total``, hits, facets and
  snippets only ever count or show records the reader's clearance permits;
- a query with and without Vietnamese diacritics finds the same records; exact diacritics
  rank higher; a match in a record's own number, title or subject outranks one in its body;
- the query is ``search.query.ParsedQuery`` data, never text handed to an engine's parser,
  so user input cannot inject engine syntax;
- ``add`` replaces any document with the same record id; it is durable when ``commit``
  returns (``add`` may buffer: callers commit in batches, by count and by time).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date
from enum import StrEnum
from typing import Any, Protocol

from archive.models import AccessLevel
from search.query import Filters, ParsedQuery, key_of, parse_query


@dataclass(frozen=True)
class IndexDocument:
    record_id: str
    title: str
    number: str
    date: date | None
    access: AccessLevel
    series_code: str | None
    body: str
    doc_type: str = ""
    type_name: str = ""
    issuer: str = ""
    subject: str = ""
    keywords: tuple[str, ...] = ()
    retention: str = ""
    # What the archive says of the record that decides who may see it: access and seal.
    stamp: str = ""


class Sort(StrEnum):
    RELEVANCE = "relevance"
    NEWEST = "newest"
    OLDEST = "oldest"


FACETS = ("doc_type", "issuer", "year")


@dataclass(frozen=True)
class SearchRequest:
    query: ParsedQuery
    clearance: AccessLevel
    filters: Filters = field(default_factory=Filters)
    sort: Sort = Sort.RELEVANCE
    limit: int = 10
    offset: int = 0
    facets: bool = True

    @classmethod
    def of(cls, text: str, clearance: AccessLevel, **options: Any) -> SearchRequest:
        return cls(parse_query(text), clearance, **options)

    @property
    def all_filters(self) -> Filters:
        """The options' filters with the query's own ``field:value`` on top."""
        return self.filters.merged(self.query.filters)


@dataclass(frozen=True)
class SearchHit:
    record_id: str
    title: str
    number: str
    date: str | None
    # The engine's relevance over the whole index, restricted records too: told only to a
    # reader cleared for every record (``SearchResults.for_reader``).
    score: float | None
    snippet: str
    doc_type: str = ""
    issuer: str = ""

    def as_json(self) -> dict[str, str | float | None]:
        return {
            "record_id": self.record_id,
            "title": self.title,
            "number": self.number,
            "date": self.date,
            "doc_type": self.doc_type,
            "issuer": self.issuer,
            "score": None if self.score is None else round(self.score, 4),
            "snippet": self.snippet,
        }


@dataclass(frozen=True)
class FacetCount:
    value: str
    count: int


def issuer_key(name: str) -> str:
    """What makes two issuers one in the facets and on the dashboard: the same name in any
    case, spacing or Unicode form (the page's capitals, ``ỦY BAN NHÂN DÂN TỈNH HÒA BÌNH``, and
    an edXML header's ``Ủy ban nhân dân tỉnh Hòa Bình``). Not without diacritics: names that
    differ by a mark are different words, and the issuer filter folds them anyway."""
    return key_of(name)


def grouped_issuers(counts: Iterable[tuple[str, int]]) -> list[FacetCount]:
    """Each issuer once, with its case variants' counts together, shown as written most often
    (of equals, the first in code-point order, capitals before small letters: any reader, any
    engine, sees the same); most frequent first, then by name."""
    groups: dict[str, dict[str, int]] = {}
    for value, count in counts:
        forms = groups.setdefault(issuer_key(value), {})
        forms[value] = forms.get(value, 0) + count
    found = [
        FacetCount(min(forms, key=lambda form: (-forms[form], form)), sum(forms.values()))
        for forms in groups.values()
    ]
    return sorted(found, key=lambda f: (-f.count, f.value))


@dataclass(frozen=True)
class SearchResults:
    total: int
    hits: list[SearchHit]
    facets: dict[str, list[FacetCount]] = field(default_factory=dict)

    def for_reader(self, clearance: AccessLevel) -> SearchResults:
        """What a reader of ``clearance`` is told: no scores below secret. A score weighs a
        word by how many records hold it, restricted ones too: the same public hit scored
        0.58 alone and 1.31 once three secret records said its word."""
        if clearance is AccessLevel.SECRET:
            return self
        return replace(self, hits=[replace(hit, score=None) for hit in self.hits])

    def as_json(self) -> dict[str, object]:
        return {
            "total": self.total,
            "hits": [hit.as_json() for hit in self.hits],
            "facets": {
                name: [{"value": f.value, "count": f.count} for f in counts]
                for name, counts in self.facets.items()
            },
        }


class SearchIndex(Protocol):
    name: str

    def add(self, documents: Iterable[IndexDocument]) -> int:
        """Index (or re-index) documents; return how many. Durable after ``commit``."""

    def commit(self) -> None:
        """Make what was added durable and searchable."""

    def remove(self, record_ids: Iterable[str]) -> None:
        """Drop documents (durable when it returns)."""

    def search(self, request: SearchRequest) -> SearchResults: ...

    def stamps(self) -> dict[str, str]:
        """Every indexed record id with the stamp it was indexed with."""

    def clear(self) -> None: ...

    def close(self) -> None: ...


def record_ids(index: SearchIndex) -> set[str]:
    return set(index.stamps())
