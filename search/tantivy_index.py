"""The default search engine: tantivy, on disk under the archive home's index/ directory.

Two copies of the searchable text are indexed: ``body`` as written (lowercased) and
``body_folded`` without diacritics. Each query word must match in one of them; a match in
``body`` weighs more, so exact Vietnamese spelling ranks first.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import tantivy

from archive.errors import SearchUnavailable
from archive.models import AccessLevel
from archive.text import fold, normalize
from search.contracts import IndexDocument, SearchHit, SearchResults
from search.text import make_snippet, tokenize

EXACT_BOOST = 2.0
WRITER_HEAP_BYTES = 64 * 1024 * 1024
SCHEMA_VERSION = "1"


def _schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("record_id", stored=True, tokenizer_name="raw")
    builder.add_text_field("title", stored=True)
    builder.add_text_field("number", stored=True, tokenizer_name="raw")
    builder.add_text_field("date", stored=True, tokenizer_name="raw")
    builder.add_text_field("series_code", stored=True, tokenizer_name="raw")
    builder.add_integer_field("access_rank", stored=True, indexed=True, fast=True)
    builder.add_text_field("body", stored=True)
    builder.add_text_field("body_folded", stored=False)
    return builder.build()


class TantivyIndex:
    name = "tantivy"

    def __init__(self, directory: Path) -> None:
        self.directory = directory / f"tantivy-v{SCHEMA_VERSION}"
        self.directory.mkdir(parents=True, exist_ok=True)
        self._schema = _schema()
        try:
            self._index = tantivy.Index(self._schema, path=str(self.directory), reuse=True)
        except (OSError, ValueError) as exc:
            raise SearchUnavailable(
                f"cannot open the search index at {self.directory}: {exc} "
                "(it is a cache: 'luutru reindex' rebuilds it)"
            ) from exc

    def _writer(self) -> tantivy.IndexWriter:
        try:
            return self._index.writer(WRITER_HEAP_BYTES, 1)
        except ValueError as exc:
            raise SearchUnavailable(f"the search index is locked by another writer: {exc}") from exc

    def add(self, documents: Iterable[IndexDocument]) -> int:
        writer = self._writer()
        count = 0
        try:
            for doc in documents:
                body = normalize(doc.body)
                writer.delete_documents_by_term("record_id", doc.record_id)
                writer.add_document(
                    tantivy.Document(
                        record_id=doc.record_id,
                        title=doc.title,
                        number=doc.number,
                        date=doc.date or "",
                        series_code=doc.series_code or "",
                        access_rank=doc.access.rank,
                        body=body,
                        body_folded=fold(body),
                    )
                )
                count += 1
            writer.commit()
        except BaseException:
            writer.rollback()
            raise
        finally:
            writer.wait_merging_threads()
        self._index.reload()
        return count

    def remove(self, record_ids: Iterable[str]) -> None:
        writer = self._writer()
        try:
            for record_id in record_ids:
                writer.delete_documents_by_term("record_id", record_id)
            writer.commit()
        finally:
            writer.wait_merging_threads()
        self._index.reload()

    def clear(self) -> None:
        writer = self._writer()
        try:
            writer.delete_all_documents()
            writer.commit()
        finally:
            writer.wait_merging_threads()
        self._index.reload()

    def _query(self, text: str, clearance: AccessLevel) -> tantivy.Query | None:
        words = tokenize(text)
        if not words:
            return None
        must = tantivy.Occur.Must
        should = tantivy.Occur.Should
        clauses = []
        for word in words:
            exact = tantivy.Query.boost_query(
                tantivy.Query.term_query(self._schema, "body", word), EXACT_BOOST
            )
            folded = tantivy.Query.term_query(self._schema, "body_folded", fold(word))
            clauses.append((must, tantivy.Query.boolean_query([(should, exact), (should, folded)])))
        clauses.append(
            (
                must,
                tantivy.Query.range_query(
                    self._schema, "access_rank", tantivy.FieldType.Integer, None, clearance.rank
                ),
            )
        )
        return tantivy.Query.boolean_query(clauses)

    def search(
        self, query: str, clearance: AccessLevel, limit: int = 10, offset: int = 0
    ) -> SearchResults:
        built = self._query(query, clearance)
        if built is None:
            return SearchResults(0, [])
        self._index.reload()
        searcher = self._index.searcher()
        result = searcher.search(built, limit=limit, count=True, offset=offset)
        hits = []
        for score, address in result.hits:
            doc = searcher.doc(address)
            hits.append(
                SearchHit(
                    record_id=doc["record_id"][0],
                    title=doc["title"][0],
                    number=doc["number"][0],
                    date=doc["date"][0] or None,
                    score=float(score),
                    snippet=make_snippet(doc["body"][0], query),
                )
            )
        return SearchResults(int(result.count or 0), hits)

    def record_ids(self) -> set[str]:
        self._index.reload()
        # The term dictionary still holds deleted documents' ids; filtering by a query counts
        # live documents only, and no stored document has to be loaded.
        terms = self._index.searcher().terms_with_prefix(
            "record_id", "", filter_query=tantivy.Query.all_query()
        )
        return {term for term, count in terms if count > 0}

    def close(self) -> None:
        return None
