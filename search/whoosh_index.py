"""The second search engine: Whoosh (the maintained ``whoosh-reloaded`` fork), a pure-Python
index for small archives (``LUUTRU_SEARCH_ENGINE=whoosh``). Its analyzers are still those of
``search.text``, which are tantivy's: the two engines index the very same terms.

It keeps the contract of ``search.contracts`` as ``search.tantivy_index`` does, with the same
fields and weights (imported from there, so that the two cannot drift apart):

- text is indexed as written (``head``, ``body``) and without diacritics (``head_f``,
  ``body_f``) by ``VietTokenizer``; positions are kept for phrases, and a dropped (over-long)
  word leaves a gap in them, as in tantivy;
- the query is Whoosh query objects built from ``ParsedQuery``, never Whoosh's query parser;
- the reader's clearance is a clause of that query, and the total and the facets are counted
  over it in the same pass as the hits (no block skipping, which would make them estimates);
- ``add`` buffers documents in memory, the last one per record id winning (a Whoosh writer
  cannot delete what it has not committed); ``commit`` takes Whoosh's write lock, deletes the
  old versions, writes the batch and lets go. A lock another process holds is waited for
  (``WRITER_WAIT_SECONDS``), then reported as ``SearchUnavailable`` with the batch kept for
  the next ``commit``. A batch past ``MAX_PENDING_*`` is committed early (bounded memory);
- one lock per object serialises its reads and writes: Whoosh does not promise that a
  searcher may be shared between threads, and the GIL would serialise the work anyway.

It is slower than tantivy by one to two orders of magnitude (``bench/``): fine for some
thousands of records, not for hundreds of thousands.
"""

from __future__ import annotations

import pickle
import threading
import time
from collections.abc import Iterable, Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

import tantivy
from whoosh import analysis, collectors, columns, fields, sorting, writing  # type: ignore[import-untyped, unused-ignore]
from whoosh import index as whoosh_index  # type: ignore[import-untyped, unused-ignore]
from whoosh import query as q  # type: ignore[import-untyped, unused-ignore]
from whoosh.filedb.filestore import FileStorage  # type: ignore[import-untyped, unused-ignore]

from archive.errors import SearchUnavailable
from archive.models import AccessLevel
from archive.text import normalize
from search.contracts import (
    FACETS,
    FacetCount,
    IndexDocument,
    SearchHit,
    SearchRequest,
    SearchResults,
    Sort,
    grouped_issuers,
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
from search.tantivy_index import BOOST, FACET_SIZE, NUMBER_BOOST
from search.text import ANALYZERS, EXACT, FOLDED, MAX_TOKEN_BYTES, make_snippet

# 2: ``doc_type_f``, the doc type folded (``doc_type_term``).
SCHEMA_VERSION = "2"
WRITER_WAIT_SECONDS = 30.0
# A batch bigger than this is committed without waiting for the caller (bounded memory).
MAX_PENDING_DOCUMENTS = 2000
MAX_PENDING_CHARS = 64 * 1024 * 1024
# Another process's commit may delete the segment files a reader is about to open.
OPEN_ATTEMPTS = 3
_INDEX_NAME = "MAIN"  # Whoosh's default; its write lock is the file MAIN_WRITELOCK
# A damaged index, or a schema pickled by another version of this module (Attribute/Import).
_OPEN_ERRORS: tuple[type[BaseException], ...] = (OSError, ValueError, EOFError, AttributeError)
_OPEN_ERRORS += (ImportError, pickle.UnpicklingError, whoosh_index.IndexError)

# tantivy's simple tokenizer with no filter: every word, long ones included, so that a
# position is counted for each (tantivy drops long words after numbering them).
_SPLITTER = tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple()).build()


def _analyzed(word: str) -> tuple[str, str]:
    """The exact and folded term of one word ('' when it is dropped), by the analyzers of
    ``search.text`` themselves."""
    exact = ANALYZERS[EXACT].analyze(word)
    folded = ANALYZERS[FOLDED].analyze(word)
    return (exact[0] if exact else "", folded[0] if folded else "")


# A language's vocabulary is small: words are analysed once. Longer words (OCR debris, which
# the analyzers drop anyway) are not kept, so the cache stays some tens of MB at most.
_cached_terms = lru_cache(maxsize=1 << 17)(_analyzed)


def _terms_of(word: str) -> tuple[str, str]:
    return _cached_terms(word) if len(word) <= MAX_TOKEN_BYTES else _analyzed(word)


def analyze(text: str, folded: bool) -> Iterator[tuple[int, str]]:
    """(position, term) of ``text`` as tantivy indexes it with ``vi_exact``/``vi_folded``."""
    which = 1 if folded else 0
    for position, word in enumerate(_SPLITTER.analyze(normalize(text))):
        term = _terms_of(word)[which]
        if term:
            yield position, term


class VietTokenizer(analysis.Tokenizer):  # type: ignore[misc, unused-ignore]
    """A Whoosh tokenizer giving the terms of ``search.text``'s analyzers. Whoosh pickles it
    into the index's schema: it must stay importable here, and a change to what it yields
    needs a new ``SCHEMA_VERSION``."""

    def __init__(self, folded: bool = False) -> None:
        self.folded = folded

    def __eq__(self, other: object) -> bool:
        return isinstance(other, VietTokenizer) and other.folded == self.folded

    def __hash__(self) -> int:
        return hash(self.folded)

    def __call__(
        self,
        value: str,
        positions: bool = False,
        chars: bool = False,
        removestops: bool = True,
        start_pos: int = 0,
        mode: str = "",
        **kwargs: Any,
    ) -> Iterator[Any]:
        token = analysis.Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        for position, term in analyze(value, self.folded):
            # Whoosh reuses one token object for the whole stream (its own convention).
            token.text, token.boost, token.stopped = term, 1.0, False
            if positions:
                token.pos = start_pos + position
            if chars:
                token.startchar = token.endchar = 0  # offsets are not used: snippets are ours
            yield token


def _schema() -> Any:
    exact, folded = VietTokenizer(False), VietTokenizer(True)
    return fields.Schema(
        record_id=fields.ID(stored=True, unique=True),
        id_stamp=fields.COLUMN(columns.VarBytesColumn()),  # read per live document by ``stamps``
        title=fields.STORED(),
        number=fields.STORED(),
        number_key=fields.ID(),
        doc_type=fields.ID(stored=True, sortable=True),  # sortable: a column, for facets
        doc_type_key=fields.ID(),
        doc_type_f=fields.ID(),
        issuer=fields.ID(stored=True, sortable=True),
        issuer_f=fields.TEXT(analyzer=folded, phrase=True),
        series_key=fields.ID(),
        date_num=fields.NUMERIC(int, stored=True, sortable=True),
        year=fields.NUMERIC(int, sortable=True),
        access_rank=fields.NUMERIC(int),
        head=fields.TEXT(analyzer=exact, phrase=True),
        head_f=fields.TEXT(analyzer=folded, phrase=True),
        body=fields.TEXT(analyzer=exact, phrase=True, stored=True),
        body_f=fields.TEXT(analyzer=folded, phrase=True),
    )


def _date_num(doc: IndexDocument) -> int:
    return doc.date.year * 10000 + doc.date.month * 100 + doc.date.day if doc.date else 0


def _fields(doc: IndexDocument) -> dict[str, Any]:
    """What Whoosh stores and indexes of a document; None leaves an empty key unindexed."""
    head = "\n".join(
        part for part in (doc.number, doc.title, doc.subject, doc.issuer, *doc.keywords) if part
    )
    return {
        "record_id": doc.record_id,
        "id_stamp": f"{doc.record_id}|{doc.stamp}".encode(),
        "title": doc.title,
        "number": doc.number,
        "number_key": notation_key(doc.number) if doc.number else None,
        "doc_type": doc.doc_type,
        "doc_type_key": key_of(doc.doc_type) or None,
        "doc_type_f": doc_type_key_f(doc.doc_type) or None,
        "issuer": doc.issuer,
        "issuer_f": doc.issuer,
        "series_key": key_of(doc.series_code or "") or None,
        "date_num": _date_num(doc),
        "year": doc.date.year if doc.date else 0,
        "access_rank": doc.access.rank,
        "head": head,
        "head_f": head,
        "body": doc.body,
        "body_f": doc.body,
    }


class WhooshIndex:
    name = "whoosh"

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.directory.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._index = _open_or_create(directory)
        self._searcher: Any = None
        self._pending: dict[str, IndexDocument] = {}
        self._pending_chars = 0

    # --- writing -----------------------------------------------------------------------

    def add(self, documents: Iterable[IndexDocument]) -> int:
        count = 0
        with self._lock:
            for doc in documents:
                old = self._pending.pop(doc.record_id, None)
                self._pending_chars += len(doc.body) - (len(old.body) if old else 0)
                self._pending[doc.record_id] = doc
                count += 1
                if (
                    len(self._pending) >= MAX_PENDING_DOCUMENTS
                    or self._pending_chars >= MAX_PENDING_CHARS
                ):
                    self._write()
        return count

    def commit(self) -> None:
        with self._lock:
            if self._pending:
                self._write()

    def remove(self, record_ids: Iterable[str]) -> None:
        with self._lock:
            gone = list(record_ids)
            for record_id in gone:
                old = self._pending.pop(record_id, None)
                self._pending_chars -= len(old.body) if old else 0
            self._write(gone)

    def clear(self) -> None:
        with self._lock:
            self._pending.clear()
            self._pending_chars = 0
            self._write(clear=True)

    def close(self) -> None:
        with self._lock:
            self.commit()
            if self._searcher is not None:
                self._searcher.close()
                self._searcher = None

    def _write(self, removed: Iterable[str] = (), clear: bool = False) -> None:
        """One Whoosh commit: the old versions of the batch (and ``removed``) deleted, the
        batch added. Raises SearchUnavailable, keeping the batch, if the lock stays taken."""
        writer = _take_writer(self._index)
        batch = list(self._pending.values())
        self._pending.clear()
        self._pending_chars = 0
        try:
            gone = [*removed, *(doc.record_id for doc in batch)]
            if gone and not clear:
                with writer.searcher() as searcher:
                    terms = [q.Term("record_id", record_id) for record_id in gone]
                    writer.delete_by_query(q.Or(terms), searcher=searcher)
            for doc in batch:
                writer.add_document(**_fields(doc))
            writer.commit(mergetype=writing.CLEAR if clear else None)
        except BaseException:
            # Like tantivy's rollback: the batch is lost, and ``stamps`` shows what is missing.
            if not writer.is_closed:
                writer.cancel()
            raise

    # --- reading -----------------------------------------------------------------------

    def _current(self) -> Any:
        """A searcher on the latest commit (of any process)."""
        for attempt in range(OPEN_ATTEMPTS):
            try:
                if self._searcher is not None and not self._searcher.up_to_date():
                    # Not ``Searcher.refresh()``: the readers it reuses keep the deletions
                    # of the commit they were opened at, so removed records would stay.
                    self._searcher.close()
                    self._searcher = None
                if self._searcher is None:
                    self._searcher = self._index.searcher()
                return self._searcher
            except OSError as exc:
                self._searcher = None
                if attempt == OPEN_ATTEMPTS - 1:
                    raise SearchUnavailable(
                        f"cannot read the search index at {self.directory}: {exc}"
                    ) from exc
                time.sleep(0.05)
        raise AssertionError("unreachable")  # the last attempt returns or raises

    def stamps(self) -> dict[str, str]:
        found: dict[str, str] = {}
        with self._lock:
            for leaf, _offset in self._current().leaf_searchers():
                reader = leaf.reader()
                if not reader.has_column("id_stamp"):
                    continue  # an empty index
                column = reader.column_reader("id_stamp")
                for docnum in reader.all_doc_ids():  # live documents only
                    record_id, _, stamp = bytes(column[docnum]).decode().partition("|")
                    found[record_id] = stamp
        return found

    def search(self, request: SearchRequest) -> SearchResults:
        built = _query(request)
        if built is None:
            return SearchResults(0, [])
        words = request.query.highlight_words()
        prefixes = request.query.highlight_prefixes()
        with self._lock:
            searcher = self._current()
            collector = _collector(request)
            searcher.search_with_collector(built, collector)
            results = collector.results()
            ranked = results.top_n[request.offset : request.offset + request.limit]
            scored = request.sort is Sort.RELEVANCE
            hits = [
                _hit(searcher.stored_fields(docnum), score if scored else 0.0, words, prefixes)
                for score, docnum in ranked
            ]
            facets = _facets(results) if request.facets else {}
            return SearchResults(len(results), hits, facets)


def _open_or_create(directory: Path) -> Any:
    """The index in ``directory``, created under the write lock if there is none (so two
    processes starting at once cannot each create one over the other's)."""
    try:
        storage = FileStorage(str(directory))
        if not whoosh_index.exists_in(str(directory), _INDEX_NAME):
            lock = storage.lock(f"{_INDEX_NAME}_WRITELOCK")
            _wait_for(lock.acquire)
            try:
                if not whoosh_index.exists_in(str(directory), _INDEX_NAME):
                    storage.create_index(_schema(), indexname=_INDEX_NAME)
            finally:
                lock.release()
        opened = storage.open_index(_INDEX_NAME)
    except _OPEN_ERRORS as exc:
        raise SearchUnavailable(
            f"cannot open the search index at {directory}: {exc} "
            "(it is a cache: 'luutru reindex' rebuilds it)"
        ) from exc
    if set(opened.schema.names()) != set(_schema().names()):
        raise SearchUnavailable(
            f"the search index at {directory} has other fields than this version of luutru "
            "writes ('luutru reindex' rebuilds it)"
        )
    return opened


def _wait_for(acquire: Any) -> Any:
    """Call ``acquire`` until it gives something, for up to ``WRITER_WAIT_SECONDS``."""
    deadline = time.monotonic() + WRITER_WAIT_SECONDS
    pause = 0.02
    while True:
        try:
            got = acquire()
        except whoosh_index.LockError:
            got = None
        if got:
            return got
        if time.monotonic() >= deadline:
            raise SearchUnavailable(
                f"the search index stayed locked by another writer for {WRITER_WAIT_SECONDS:.1f} s"
            )
        time.sleep(pause)
        pause = min(pause * 2, 0.5)


def _take_writer(opened: Any) -> Any:
    # timeout=0: one try per call; the waiting (and its bound) is ours.
    return _wait_for(lambda: opened.writer(timeout=0.0))


def _collector(request: SearchRequest) -> Any:
    wanted = max(1, request.offset + request.limit)  # Whoosh refuses a limit of 0
    if request.sort is Sort.RELEVANCE:
        # Neither block-quality skipping nor matcher replacement: once the top N are found,
        # both skip documents that cannot enter it, and the total and facets would miss them.
        child = collectors.TopCollector(limit=wanted, usequality=False, replace=0)
    else:
        child = collectors.SortingCollector(
            sorting.FieldFacet("date_num"), limit=wanted, reverse=request.sort is Sort.NEWEST
        )
    if not request.facets:
        return child
    groups = {name: sorting.FieldFacet(name) for name in FACETS}
    return collectors.FacetCollector(child, groups, maptype=sorting.Count)


def _facets(results: Any) -> dict[str, list[FacetCount]]:
    """The most frequent values first (ties by value); years newest first. Empty values
    (no type, no date) are not facets."""
    facets = {}
    for name in FACETS:
        size = FACET_SIZE * (3 if name == "year" else 1)
        counts = [
            FacetCount(str(value), int(count))
            for value, count in results.groups(name).items()
            if value not in ("", 0, None)
        ]
        if name == "issuer":  # case variants as one, before the cut (``grouped_issuers``)
            counts = grouped_issuers((c.value, c.count) for c in counts)
        counts.sort(key=lambda c: (-c.count, c.value))
        counts = counts[:size]
        if name == "year":
            counts.sort(key=lambda c: c.value, reverse=True)
        facets[name] = counts
    return facets


def _hit(
    stored: dict[str, Any], score: Any, words: list[str], prefixes: tuple[str, ...]
) -> SearchHit:
    date_num = int(stored.get("date_num") or 0)
    date = f"{date_num // 10000:04d}-{date_num // 100 % 100:02d}-{date_num % 100:02d}"
    return SearchHit(
        record_id=stored["record_id"],
        title=stored.get("title", ""),
        number=stored.get("number", ""),
        date=date if date_num else None,
        score=float(score) if isinstance(score, float) else 0.0,
        snippet=make_snippet(stored.get("body", ""), words, prefixes),
        doc_type=stored.get("doc_type", ""),
        issuer=stored.get("issuer", ""),
    )


# --- building queries (as ``TantivyIndex`` does, clause for clause) ------------------------


def _words_query(field: str, item: Words, boost: float = 1.0) -> Any:
    analyzer = ANALYZERS[FOLDED if field.endswith("_f") else EXACT]
    tokens = [t for word in item.words for t in analyzer.analyze(word)]
    if not tokens:
        return None
    if item.prefix:
        # Prefixes are looked up without diacritics only, as in tantivy.
        return q.Prefix(field, tokens[0], boost=boost) if field.endswith("_f") else None
    if len(tokens) == 1:
        return q.Term(field, tokens[0], boost=boost)
    return q.Phrase(field, tokens, boost=boost)


def _item_query(item: Item) -> Any:
    clauses = []
    if isinstance(item, Notation):
        clauses.append(q.Term("number_key", item.key, boost=NUMBER_BOOST))
        item = Words(item.words, phrase=True)
    for field, boost in BOOST.items():
        built = _words_query(field, item, boost)
        if built is not None:
            clauses.append(built)
    return q.Or(clauses) if clauses else None


def _filter_clauses(filters: Filters, clearance: AccessLevel) -> list[Any]:
    clauses: list[Any] = [q.NumericRange("access_rank", 0, clearance.rank)]
    if filters.doc_type:
        clauses.append(q.Term(*doc_type_term(filters.doc_type)))
    if filters.series:
        clauses.append(q.Term("series_key", key_of(filters.series)))
    if filters.number:
        clauses.append(q.Term("number_key", notation_key(filters.number)))
    if filters.issuer:
        issuer = _words_query("issuer_f", Words((filters.issuer,), phrase=True))
        clauses.append(issuer if issuer is not None else q.NullQuery)
    if filters.year:
        clauses.append(q.NumericRange("year", filters.year, filters.year))
    if filters.date_from or filters.date_to:
        low = _num(filters.date_from) if filters.date_from else 1
        high = _num(filters.date_to) if filters.date_to else 99991231
        clauses.append(q.NumericRange("date_num", low, high))
    return clauses


def _query(request: SearchRequest) -> Any:
    parsed, filters = request.query, request.all_filters
    clauses = _filter_clauses(filters, request.clearance)
    for group in parsed.required:
        alternatives = [b for b in (_item_query(item) for item in group) if b is not None]
        if not alternatives:
            return None  # a word that cannot be searched matches nothing
        clauses.append(alternatives[0] if len(alternatives) == 1 else q.Or(alternatives))
    if not parsed.required:
        if filters == Filters():
            return None  # nothing asked
        clauses.append(q.Every())
    built = q.And(clauses)
    excluded = [b for b in (_item_query(item) for item in parsed.excluded) if b is not None]
    return q.AndNot(built, q.Or(excluded)) if excluded else built


def _num(day: Any) -> int:
    return int(day.year * 10000 + day.month * 100 + day.day)
