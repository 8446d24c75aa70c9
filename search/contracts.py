"""The search index contract. Every engine (tantivy by default, Whoosh later) implements it.

Rules every index keeps:
- it is a cache: everything in it is derived from the archive and can be rebuilt;
- access filtering happens inside the query, so ``total``, hits and snippets only ever count
  or show records the reader's clearance permits;
- a query with and without Vietnamese diacritics finds the same records; exact diacritics rank
  higher; the query text is split into words by ``search.text.tokenize``, never parsed as
  engine syntax, so user input cannot inject query operators;
- ``add`` replaces any document with the same record id, and is durable when it returns.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from archive.models import AccessLevel


@dataclass(frozen=True)
class IndexDocument:
    record_id: str
    title: str
    number: str
    date: str | None
    access: AccessLevel
    series_code: str | None
    body: str


@dataclass(frozen=True)
class SearchHit:
    record_id: str
    title: str
    number: str
    date: str | None
    score: float
    snippet: str

    def as_json(self) -> dict[str, str | float | None]:
        return {
            "record_id": self.record_id,
            "title": self.title,
            "number": self.number,
            "date": self.date,
            "score": round(self.score, 4),
            "snippet": self.snippet,
        }


@dataclass(frozen=True)
class SearchResults:
    total: int
    hits: list[SearchHit]

    def as_json(self) -> dict[str, object]:
        return {"total": self.total, "hits": [hit.as_json() for hit in self.hits]}


class SearchIndex(Protocol):
    name: str

    def add(self, documents: Iterable[IndexDocument]) -> int:
        """Index (or re-index) documents; return how many."""

    def remove(self, record_ids: Iterable[str]) -> None: ...

    def search(
        self, query: str, clearance: AccessLevel, limit: int = 10, offset: int = 0
    ) -> SearchResults: ...

    def record_ids(self) -> set[str]: ...

    def clear(self) -> None: ...

    def close(self) -> None: ...
