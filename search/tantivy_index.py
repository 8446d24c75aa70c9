"""The default search engine: tantivy, on disk under the archive home's index/ directory.

Two copies of the searchable text are indexed: ``body`` as written (lowercased) and
``body_folded`` without diacritics. Each query word must match in one of them; a match in
``body`` weighs more, so exact Vietnamese spelling ranks first.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import tantivy

from archive.errors import SearchUnavailable
from archive.models import AccessLevel
from archive.text import fold, normalize
from search.contracts import IndexDocument, SearchHit, SearchResults
from search.text import make_snippet, tokenize

EXACT_BOOST = 2.0
WRITER_HEAP_BYTES = 64 * 1024 * 1024
# tantivy allows one writer per index across processes; another ingest holds it for at most
# one commit, so waiting a little is enough, and an index that stays locked is reported.
WRITER_WAIT_SECONDS = 30.0
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

    @contextmanager
    def _writer(self) -> Iterator[tantivy.IndexWriter]:
        """The index writer for one commit, released (lock and threads) when the block ends,
        whatever happens: a writer left to the garbage collector keeps the lock."""
        deadline = time.monotonic() + WRITER_WAIT_SECONDS
        pause = 0.02
        while True:
            try:
                writer = self._index.writer(WRITER_HEAP_BYTES, 1)
                break
            except ValueError as exc:
                if time.monotonic() >= deadline:
                    raise SearchUnavailable(
                        f"the search index stayed locked by another writer for "
                        f"{WRITER_WAIT_SECONDS:.0f} s: {exc}"
                    ) from exc
                time.sleep(pause)
                pause = min(pause * 2, 0.5)
        try:
            yield writer
        finally:
            writer.wait_merging_threads()
            del writer
        self._index.reload()

    def add(self, documents: Iterable[IndexDocument]) -> int:
        count = 0
        with self._writer() as writer:
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
        return count

    def remove(self, record_ids: Iterable[str]) -> None:
        with self._writer() as writer:
            for record_id in record_ids:
                writer.delete_documents_by_term("record_id", record_id)
            writer.commit()

    def clear(self) -> None:
        with self._writer() as writer:
            writer.delete_all_documents()
            writer.commit()

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
        # ``count`` exists when count=True; the package's stub leaves it out.
        total = getattr(result, "count", None)
        return SearchResults(int(total or 0), hits)

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
