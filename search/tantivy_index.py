"""The default search engine: tantivy, on disk under the archive home's index/ directory.

Each searchable text is indexed with the two analyzers of ``search.text``: as written
(``head``, ``body``) and without diacritics (``head_f``; ``all_f``, head and body together).
``head`` is what a record says of itself (number, title, subject, issuer, keywords) and
weighs more than ``body`` (the document's text, where other documents are cited); exact
spellings weigh more than folded ones; a document number matches its record's own
``number_key`` far above any citation.

Whether a document matches is ``all_f``'s alone: a token as written folds to the same token
at the same place, so whatever matches as written matches folded. The other fields only add
to the score of what ``all_f`` found, so a query walks one posting list a word, not four.

Writes are buffered: ``add`` hands documents to one writer held by this object, ``commit``
makes them durable. tantivy allows one writer per index across processes, so another
process's commit may make ours wait a moment (``WRITER_WAIT_SECONDS``); the writer is
released after every commit, so a long ingest never holds the lock between batches.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import tantivy

from archive.errors import SearchUnavailable
from archive.models import AccessLevel
from archive.text import fold
from search.contracts import (
    FACETS,
    FacetCount,
    IndexDocument,
    SearchHit,
    SearchRequest,
    SearchResults,
    Sort,
    grouped_issuers,
    issuer_key,
)
from search.query import (
    Filters,
    Item,
    Notation,
    Words,
    doc_type_key_f,
    doc_type_term,
    key_of,
    notation_key,
)
from search.text import ANALYZERS, EXACT, FOLDED, make_snippet, snippet_source

# 3: the body is no longer stored whole, only what snippets read of it (``snippet_source``)
# and its length: a page of hits on 200 KB documents loaded 2 MB of text for 10 snippets.
# 4: ``all_f`` (head and body, folded) decides matches, in place of ``body_f``.
# 5: ``doc_type_f``, the doc type folded, so that ``QD`` finds QĐ (``doc_type_term``);
# ``issuer_key``, so that the facet counts an issuer's case variants as one.
SCHEMA_VERSION = "5"
WRITER_HEAP_BYTES = 128 * 1024 * 1024
WRITER_THREADS = 2
WRITER_WAIT_SECONDS = 30.0
FACET_SIZE = 15
MATCHES = "_matches"  # the aggregation that counts, beside the facets'
FORMS, FORMS_SHOWN = "forms", 8  # an issuer's forms as written, the most frequent of them
META_FILE = "meta.json"  # what tantivy rewrites on every commit
# Score weights (every engine's): a record's own words above its text, exact spelling above
# folded. Here ``MATCHING`` takes ``body_f``'s weight and the others add to it.
BOOST = {"head": 6.0, "head_f": 4.0, "body": 2.0, "body_f": 1.0}
NUMBER_BOOST = 40.0
MATCHING = "all_f"
_ADDED = {field: boost for field, boost in BOOST.items() if field != "body_f"}
_AS_WRITTEN = ("head", "body")
MUST, SHOULD, MUST_NOT = tantivy.Occur.Must, tantivy.Occur.Should, tantivy.Occur.MustNot


def _schema() -> tantivy.Schema:
    b = tantivy.SchemaBuilder()
    b.add_text_field("record_id", stored=True, tokenizer_name="raw")
    b.add_text_field("id_stamp", tokenizer_name="raw", index_option="basic")
    b.add_text_field("title", stored=True, tokenizer_name="raw", index_option="basic")
    b.add_text_field("number", stored=True, tokenizer_name="raw", index_option="basic")
    b.add_text_field("number_key", tokenizer_name="raw", index_option="basic")
    b.add_text_field("doc_type", stored=True, fast=True, tokenizer_name="raw")
    b.add_text_field("doc_type_key", tokenizer_name="raw", index_option="basic")
    b.add_text_field("doc_type_f", tokenizer_name="raw", index_option="basic")
    b.add_text_field("issuer", stored=True, fast=True, tokenizer_name="raw")
    b.add_text_field("issuer_f", tokenizer_name=FOLDED)
    b.add_text_field("issuer_key", fast=True, tokenizer_name="raw", index_option="basic")
    b.add_text_field("series_key", tokenizer_name="raw", index_option="basic")
    b.add_integer_field("date_num", stored=True, indexed=True, fast=True)
    b.add_integer_field("year", indexed=True, fast=True)
    b.add_integer_field("access_rank", indexed=True, fast=True)
    b.add_text_field("head", tokenizer_name=EXACT)
    b.add_text_field("head_f", tokenizer_name=FOLDED)
    b.add_text_field("body", tokenizer_name=EXACT)
    b.add_text_field(MATCHING, tokenizer_name=FOLDED)
    b.add_bytes_field("snippet_source", stored=True)  # UTF-8; stored, not indexed
    b.add_integer_field("body_chars", stored=True)
    return b.build()


def _likeliest(forms: list[dict[str, Any]]) -> str:
    """The form an issuer's facet shows, of its forms' buckets, by ``grouped_issuers``'s rule."""
    return grouped_issuers((str(f["key"]), int(f["doc_count"])) for f in forms)[0].value


def _date_num(doc: IndexDocument) -> int:
    return doc.date.year * 10000 + doc.date.month * 100 + doc.date.day if doc.date else 0


@contextmanager
def _engine_faults(doing: str) -> Iterator[None]:
    """tantivy's own errors (a vanished generation, a damaged segment) are the index's
    trouble, said as such: the index is a cache and can be rebuilt."""
    try:
        yield
    except (ValueError, OSError) as exc:
        raise SearchUnavailable(
            f"the search index failed while {doing}: {exc} ('luutru reindex' rebuilds it)"
        ) from exc


class TantivyIndex:
    name = "tantivy"

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.directory.mkdir(parents=True, exist_ok=True)
        self._schema = _schema()
        try:
            self._index = tantivy.Index(self._schema, path=str(directory), reuse=True)
        except (OSError, ValueError) as exc:
            raise SearchUnavailable(
                f"cannot open the search index at {directory}: {exc} "
                "(it is a cache: 'luutru reindex' rebuilds it)"
            ) from exc
        for name, analyzer in ANALYZERS.items():
            self._index.register_tokenizer(name, analyzer)
        self._writer: tantivy.IndexWriter | None = None
        self._pending = 0
        # meta.json when the reader was last reloaded (inode, mtime, size).
        self._meta_seen: tuple[int, int, int] | None = None

    # --- writing -----------------------------------------------------------------------

    def _take_writer(self) -> tantivy.IndexWriter:
        if self._writer is not None:
            return self._writer
        deadline = time.monotonic() + WRITER_WAIT_SECONDS
        pause = 0.02
        while True:
            try:
                self._writer = self._index.writer(WRITER_HEAP_BYTES, WRITER_THREADS)
                return self._writer
            except ValueError as exc:
                if time.monotonic() >= deadline:
                    raise SearchUnavailable(
                        f"the search index stayed locked by another writer for "
                        f"{WRITER_WAIT_SECONDS:.0f} s: {exc}"
                    ) from exc
                time.sleep(pause)
                pause = min(pause * 2, 0.5)

    def _release_writer(self) -> None:
        """Give the writer (its lock and threads) back; a writer left to the garbage
        collector keeps the lock."""
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.wait_merging_threads()
            del writer

    def add(self, documents: Iterable[IndexDocument]) -> int:
        writer = self._take_writer()
        count = 0
        with _engine_faults("adding documents"):
            for doc in documents:
                writer.delete_documents_by_term("record_id", doc.record_id)
                writer.add_document(self._document(doc))
                count += 1
        self._pending += count
        return count

    def _document(self, doc: IndexDocument) -> tantivy.Document:
        head = "\n".join(
            part for part in (doc.number, doc.title, doc.subject, doc.issuer, *doc.keywords) if part
        )
        return tantivy.Document(
            record_id=doc.record_id,
            id_stamp=f"{doc.record_id}|{doc.stamp}",
            title=doc.title,
            number=doc.number,
            number_key=notation_key(doc.number) if doc.number else "",
            doc_type=doc.doc_type,
            doc_type_key=key_of(doc.doc_type),
            doc_type_f=doc_type_key_f(doc.doc_type),
            issuer=doc.issuer,
            issuer_f=doc.issuer,
            issuer_key=issuer_key(doc.issuer),
            series_key=key_of(doc.series_code or ""),
            date_num=_date_num(doc),
            year=doc.date.year if doc.date else 0,
            access_rank=doc.access.rank,
            head=head,
            head_f=head,
            body=doc.body,
            all_f=f"{head}\n{doc.body}",
            snippet_source=snippet_source(doc.body).encode("utf-8"),
            body_chars=len(doc.body),
        )

    def commit(self) -> None:
        if self._writer is None:
            return
        try:
            with _engine_faults("committing"):
                self._writer.commit()
        except BaseException:
            with suppress(ValueError, OSError):
                self._writer.rollback()
            raise
        finally:
            self._release_writer()
            self._pending = 0
        with _engine_faults("reloading"):
            self._index.reload()

    def remove(self, record_ids: Iterable[str]) -> None:
        writer = self._take_writer()
        for record_id in record_ids:
            writer.delete_documents_by_term("record_id", record_id)
        self.commit()

    def clear(self) -> None:
        self._take_writer().delete_all_documents()
        self.commit()

    def close(self) -> None:
        self.commit()

    # --- reading -----------------------------------------------------------------------

    def _reload_if_committed(self) -> None:
        """Read the newest commit, by this process or another, without reloading on every
        search: tantivy writes ``meta.json`` anew (a new file renamed into place) on every
        commit and merge, so the reader is reloaded only when that file is another one."""
        try:
            found = os.stat(self.directory / META_FILE)
            seen = (found.st_ino, found.st_mtime_ns, found.st_size)
        except OSError:
            seen = None  # tantivy will say what is wrong, if anything
        if seen is None or seen != self._meta_seen:
            self._index.reload()
            self._meta_seen = seen

    def stamps(self) -> dict[str, str]:
        # The term dictionary still holds deleted documents' terms; filtering by a query
        # counts live documents only, and no stored document has to be loaded.
        with _engine_faults("listing what it holds"):
            self._index.reload()
            terms = self._index.searcher().terms_with_prefix(
                "id_stamp", "", filter_query=tantivy.Query.all_query()
            )
        pairs = (term.split("|", 1) for term, count in terms if count > 0)
        return {pair[0]: pair[1] if len(pair) > 1 else "" for pair in pairs}

    def search(self, request: SearchRequest) -> SearchResults:
        built = self._query(request)
        if built is None:
            return SearchResults(0, [])
        with _engine_faults("searching"):
            self._reload_if_committed()
            searcher = self._index.searcher()
        # tantivy's top-docs collector panics on a limit of 0: ask for one, show none.
        options: dict[str, Any] = {"limit": max(1, request.limit), "offset": request.offset}
        if request.sort is not Sort.RELEVANCE:
            options["order_by_field"] = "date_num"
            options["order"] = (
                tantivy.Order.Desc if request.sort is Sort.NEWEST else tantivy.Order.Asc
            )
        # The facets' pass visits every match anyway and counts them (on the unscored query
        # of ``MATCHING`` alone); the scored search then only has to find the top hits.
        with _engine_faults("searching"):
            result = searcher.search(built, count=not request.facets, **options)
            counted = self._query(request, scored=False) if request.facets else None
            total, facets = (None, {}) if counted is None else self._facets(searcher, counted)
        words = request.query.highlight_words()
        prefixes = request.query.highlight_prefixes()
        hits = [
            self._hit(searcher.doc(address), score, words, prefixes)
            for score, address in result.hits[: max(0, request.limit)]
        ]
        if total is None:
            total = int(getattr(result, "count", 0) or 0)
        return SearchResults(total, hits, facets)

    def _hit(self, doc: Any, score: Any, words: list[str], prefixes: tuple[str, ...]) -> SearchHit:
        date_num = int(doc["date_num"][0]) if doc["date_num"] else 0
        date = f"{date_num // 10000:04d}-{date_num // 100 % 100:02d}-{date_num % 100:02d}"
        return SearchHit(
            record_id=doc["record_id"][0],
            title=doc["title"][0],
            number=doc["number"][0],
            date=date if date_num else None,
            score=float(score) if isinstance(score, float) else 0.0,
            snippet=make_snippet(
                bytes(doc["snippet_source"][0]).decode("utf-8"),
                words,
                prefixes,
                length=int(doc["body_chars"][0]),
            ),
            doc_type=doc["doc_type"][0],
            issuer=doc["issuer"][0],
        )

    def _facets(
        self, searcher: tantivy.Searcher, query: tantivy.Query
    ) -> tuple[int, dict[str, list[FacetCount]]]:
        """How many documents match, and the facets' counts among them."""
        fields = {"doc_type": "doc_type", "issuer": "issuer_key", "year": "year"}
        spec: dict[str, Any] = {
            name: {
                "terms": {"field": fields[name], "size": FACET_SIZE * (3 if name == "year" else 1)}
            }
            for name in FACETS
        }
        # An issuer's forms as written, to show the most frequent (``grouped_issuers``).
        spec["issuer"]["aggs"] = {FORMS: {"terms": {"field": "issuer", "size": FORMS_SHOWN}}}
        # Every document has a date_num (0 when undated): its values are the matches.
        spec[MATCHES] = {"value_count": {"field": "date_num"}}
        found = searcher.aggregate(query, spec)
        total = int(found.get(MATCHES, {}).get("value", 0))
        facets = {}
        for name in FACETS:
            buckets = found.get(name, {}).get("buckets", [])
            counts = [
                FacetCount(str(b["key"]), int(b["doc_count"]))
                for b in buckets
                if b["key"] not in ("", 0)
            ]
            if name == "issuer":  # each bucket a key; the name shown is its likeliest form
                counts = [
                    FacetCount(_likeliest(b[FORMS]["buckets"]), int(b["doc_count"]))
                    for b in buckets
                    if b["key"] != "" and b[FORMS]["buckets"]
                ]
            if name == "year":
                counts.sort(key=lambda c: c.value, reverse=True)
            facets[name] = counts
        return total, facets

    # --- building queries --------------------------------------------------------------

    def _term(self, field: str, text: str) -> tantivy.Query:
        return tantivy.Query.term_query(self._schema, field, text)

    def _words_query(self, field: str, item: Words) -> tantivy.Query | None:
        analyzer = ANALYZERS[FOLDED if field.endswith("_f") else EXACT]
        tokens = [t for word in item.words for t in analyzer.analyze(word)]
        if not tokens:
            return None
        if item.prefix:
            if not field.endswith("_f"):
                return None
            return tantivy.Query.regex_query(self._schema, field, _regex_escape(tokens[0]) + ".*")
        if len(tokens) == 1:
            return self._term(field, tokens[0])
        return tantivy.Query.phrase_query(self._schema, field, list[str | tuple[int, str]](tokens))

    def _item_query(self, item: Item, scored: bool = True) -> tantivy.Query | None:
        """One word, phrase, prefix or number: what matches it (``MATCHING``), and, when
        ``scored``, what adds to the score of a match."""
        clauses = self._item_clauses(item, scored)
        if clauses is None:
            return None
        if len(clauses) == 1 and clauses[0][0] == MUST:
            return clauses[0][1]
        return tantivy.Query.boolean_query(clauses)

    def _item_clauses(
        self, item: Item, scored: bool = True
    ) -> list[tuple[tantivy.Occur, tantivy.Query]] | None:
        """``_item_query`` as the clauses of a boolean query: the one that must match, and
        those that add to the score."""
        if isinstance(item, Notation):
            number = self._term("number_key", item.key)
            words = self._item_query(Words(item.words, phrase=True), scored)
            if scored:
                number = tantivy.Query.boost_query(number, NUMBER_BOOST)
            return [(MUST, number if words is None else _any_of([number, words]))]
        matched = self._words_query(MATCHING, item)
        if matched is None:
            return None
        if not scored:
            return [(MUST, matched)]
        if BOOST["body_f"] != 1.0:
            matched = tantivy.Query.boost_query(matched, BOOST["body_f"])
        clauses: list[tuple[tantivy.Occur, tantivy.Query]] = [(MUST, matched)]
        # Words typed without diacritics have no spelling to prefer: the fields as written
        # would only favour text that lacks them (OCR's "hồ so"), at the cost of two more
        # posting lists a word.
        typed_plain = all(fold(word) == word for word in item.words)
        for field, boost in _ADDED.items():
            if typed_plain and field in _AS_WRITTEN:
                continue
            query = self._words_query(field, item)
            if query is not None:
                clauses.append((SHOULD, tantivy.Query.boost_query(query, boost)))
        return clauses

    def _filter_clauses(self, filters: Filters, clearance: AccessLevel) -> list[Any]:
        # The ranks permitted, each as its term: a range query on the rank scans its column
        # and cost a quarter of a search; terms are posting lists the engine skips through.
        permitted = [
            self._term_int("access_rank", level.rank)
            for level in AccessLevel
            if clearance.permits(level)
        ]
        access = permitted[0] if len(permitted) == 1 else _any_of(permitted)
        clauses: list[Any] = [(MUST, access)]
        if filters.doc_type:
            clauses.append((MUST, self._term(*doc_type_term(filters.doc_type))))
        if filters.series:
            clauses.append((MUST, self._term("series_key", key_of(filters.series))))
        if filters.number:
            clauses.append((MUST, self._term("number_key", notation_key(filters.number))))
        if filters.issuer:
            issuer = self._words_query("issuer_f", Words((filters.issuer,), phrase=True))
            clauses.append((MUST, issuer or tantivy.Query.empty_query()))
        if filters.year:
            clauses.append((MUST, self._term_int("year", filters.year)))
        if filters.date_from or filters.date_to:
            low = _num(filters.date_from) if filters.date_from else 1
            high = _num(filters.date_to) if filters.date_to else 99991231
            clauses.append(
                (
                    MUST,
                    tantivy.Query.range_query(
                        self._schema, "date_num", tantivy.FieldType.Integer, low, high
                    ),
                )
            )
        return clauses

    def _term_int(self, field: str, value: int) -> tantivy.Query:
        return tantivy.Query.term_query(self._schema, field, value)

    def _query(self, request: SearchRequest, *, scored: bool = True) -> tantivy.Query | None:
        """The request as a query; ``scored=False``: the same matches, unscored, for
        counting them (``MATCHING`` alone)."""
        parsed, filters = request.query, request.all_filters
        clauses = self._filter_clauses(filters, request.clearance)
        for group in parsed.required:
            if len(group) == 1:
                # One clause list for all the words: the same matches and scores as a query
                # per word, without a scorer per word for the engine to combine.
                own = self._item_clauses(group[0], scored)
                if own is None:
                    return None  # a word that cannot be searched matches nothing
                clauses.extend(own)
                continue
            alternatives = [
                q for q in (self._item_query(item, scored) for item in group) if q is not None
            ]
            if not alternatives:
                return None
            clauses.append(
                (MUST, alternatives[0] if len(alternatives) == 1 else _any_of(alternatives))
            )
        for item in parsed.excluded:
            query = self._item_query(item, scored=False)
            if query is not None:
                clauses.append((MUST_NOT, query))
        if not parsed.required:
            if filters == Filters():
                return None  # nothing asked
            clauses.append((MUST, tantivy.Query.all_query()))
        return tantivy.Query.boolean_query(clauses)


def _any_of(queries: list[tantivy.Query]) -> tantivy.Query:
    return tantivy.Query.boolean_query([(SHOULD, query) for query in queries])


def _num(day: Any) -> int:
    return int(day.year * 10000 + day.month * 100 + day.day)


def _regex_escape(text: str) -> str:
    return "".join(f"\\{c}" if c in r".^$*+?()[]{}|\\" else c for c in text)
