"""Search on PostgreSQL full text, in the archive's own database (``search_engine =
"postgres"``), for deployments without a local index. It keeps the contract of
``search.contracts`` as ``search.tantivy_index`` does, with its analyzers and weights:

- a table per generation: ``search_`` and the generation folder's name without
  ``.building`` (the table a rebuild fills is the one readers open once it is published);
  the folder holds nothing. ``search_generations`` says which index folder each table is of:
  opening an index drops the tables whose folder is gone (``publish`` removed it), ``drop``
  and ``drop_generation`` drop one. One archive home per database;
- each record's terms are one ``tsvector`` (``search.postgres_terms``: head words weighted
  A/B, body words C/D, as written and folded, and its number key) under a GIN index; ``head``
  is its head alone; btree indexes serve the filters;
- a request is one WHERE: the ``tsquery`` built as data from ``ParsedQuery``, the filters, and
  the reader's clearance (``access_rank <= rank``), so the total, hits and facets never count
  what the reader may not see. The GIN index must find the words (``enable_seqscan`` is off
  for this engine's sessions): read row by row, every match's terms would be decompressed;
- rank: ``ts_rank`` with weights head 6, head folded 4, body 2, body folded 1 (tantivy's
  ``BOOST``) over the log of the length (the shorter of two equal matches first, as BM25),
  plus ``NUMBER_BOOST`` for a record whose own number is asked. Ranking reads each match's
  terms, so past ``FULL_RANK_MAX`` matches only their heads are ranked, equal scores newest
  first. One statement, in a REPEATABLE READ snapshot: what matches is scored once into a
  materialized CTE of narrow rows; the page, its total and the facets (``GROUPING SETS``)
  come from it;
- ``add`` buffers (the last document per record id wins; a big batch is committed early),
  ``commit`` upserts the batch in one transaction (a failed batch is kept for the next);
  ``remove`` and ``clear`` are durable when they return. Database errors are
  ``SearchUnavailable``.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import TSQUERY, TSVECTOR
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine import Engine, make_url

from archive.db import describe_url, make_engine
from archive.errors import ConfigError, SearchUnavailable
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
)
from search.engines import BUILDING
from search.postgres_terms import clean, excluded_query, folded_words, row_of, tsquery_of
from search.query import Filters, doc_type_term, key_of, notation_key
from search.tantivy_index import BOOST, FACET_SIZE, NUMBER_BOOST
from search.text import make_snippet

log = logging.getLogger(__name__)

# 2: ``doc_type_f``, the doc type folded (``doc_type_term``).
SCHEMA_VERSION = "2"
REGISTRY = "search_generations"
# ts_rank's weights, {D, C, B, A}: body folded, body, head folded, head; at most 1.
_RANKED = ("body_f", "body", "head_f", "head")
WEIGHTS = "{" + ",".join(f"{BOOST[field] / BOOST['head']:.4f}" for field in _RANKED) + "}"
MAX_PENDING_DOCUMENTS = 2000
MAX_PENDING_CHARS = 64 * 1024 * 1024
UPSERT_ROWS = 500
# ts_rank divided by 1 + log(the vector's length): of two equal matches the shorter text
# first, as BM25 does in tantivy.
LENGTH_NORMALIZATION = 1
# Ranking reads every match's terms; past this many matches, only their heads are ranked.
FULL_RANK_MAX = 500
LOCK_TIMEOUT = "2s"  # dropping an old table waits this long for its last readers
_LOCK_KEY = 0x6C75757472  # pg_advisory_xact_lock: one DDL at a time ("luutr")


# --- Tables --------------------------------------------------------------------------------


def table_name(directory: Path) -> str:
    """``search_`` and the generation folder's name, sanitised; short enough for its index
    names (PostgreSQL cuts names at 63 bytes)."""
    folder = directory.name.removesuffix(BUILDING)
    safe = re.sub(r"[^a-z0-9]+", "_", fold(folder).lower()).strip("_") or "index"
    if len(safe) > 32:
        digest = hashlib.blake2b(folder.encode("utf-8", "replace"), digest_size=4).hexdigest()
        safe = f"{safe[:23]}_{digest}"
    return f"search_{safe}"


def _table(name: str) -> sa.Table:
    table = sa.Table(
        name,
        sa.MetaData(),
        sa.Column("record_id", sa.Text, primary_key=True),
        sa.Column("stamp", sa.Text, nullable=False),
        *(sa.Column(c, sa.Text, nullable=False) for c in ("title", "number", "number_key")),
        *(sa.Column(c, sa.Text, nullable=False) for c in ("doc_type", "doc_type_key", "issuer")),
        sa.Column("doc_type_f", sa.Text, nullable=False),
        sa.Column("issuer_key", sa.Text, nullable=False),  # folded words, a space each side
        sa.Column("series_key", sa.Text, nullable=False),
        sa.Column("date_num", sa.Integer, nullable=False),
        sa.Column("year", sa.Integer, nullable=False),
        sa.Column("access_rank", sa.SmallInteger, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("terms", TSVECTOR, nullable=False),
        # The head's terms alone (weights A and B), for ranking when too many match.
        sa.Column("head", TSVECTOR, sa.Computed("ts_filter(terms, '{a,b}')", persisted=True)),
    )
    sa.Index(f"{name}_terms", table.c.terms, postgresql_using="gin")
    # Not access_rank: four values, and a plan led by it reads every match's terms.
    for column in ("number_key", "doc_type_key", "doc_type_f", "series_key", "date_num", "year"):
        sa.Index(f"{name}_{column}", table.c[column])
    return table


_REGISTRY = sa.Table(
    REGISTRY,
    sa.MetaData(),
    sa.Column("table_name", sa.Text, primary_key=True),
    sa.Column("directory", sa.Text, nullable=False),  # the index folder the generation is in
    sa.Column("folder", sa.Text, nullable=False),  # the generation's folder name, published
)


def postgres_engine(database_url: str) -> Engine:
    """An engine on ``database_url``; anything but PostgreSQL is refused (``ConfigError``)."""
    try:
        url = make_url(database_url)
    except (sa.exc.ArgumentError, ValueError):
        url = None
    if url is None or url.get_backend_name() != "postgresql":
        raise ConfigError(
            f"the postgres search engine needs a PostgreSQL database_url, "
            f"not {describe_url(database_url) if database_url else 'none'}"
        )
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")  # the driver luutru installs
    engine = make_engine(url.render_as_string(hide_password=False))
    sa.event.listen(engine, "connect", _tune_session)
    return engine


def _tune_session(dbapi_connection: Any, _record: Any) -> None:
    with dbapi_connection.cursor() as cursor:
        # A prepared statement's generic plan guesses how many rows a tsquery matches; the
        # planner chooses better with the query in hand.
        cursor.execute("SET plan_cache_mode = force_custom_plan")
        # Words must be found by the GIN index: the planner does not count the cost of
        # reading a record's terms (out of line, compressed) and would test them row by row
        # when many match (100 times slower). Nothing else this engine asks needs a scan.
        cursor.execute("SET enable_seqscan = off")
    dbapi_connection.commit()


@contextmanager
def _faults(doing: str) -> Iterator[None]:
    """The database's errors are the index's trouble, said as such."""
    try:
        yield
    except sa.exc.DBAPIError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
        raise SearchUnavailable(
            f"the search index failed while {doing}: {reason} ('luutru reindex' rebuilds it)"
        ) from exc


def _folder_exists(directory: Path, folder: str) -> bool:
    return (directory / folder).is_dir() or (directory / (folder + BUILDING)).is_dir()


def drop_stale_generations(engine: Engine, directory: Path, keep: str = "") -> list[str]:
    """Drop the tables of ``directory``'s generations whose folder is gone; their names.
    A table still read past ``LOCK_TIMEOUT`` is left for the next time."""
    with _faults("listing its generations"), engine.connect() as conn:
        rows = conn.execute(
            sa.select(_REGISTRY.c.table_name, _REGISTRY.c.folder).where(
                _REGISTRY.c.directory == str(directory)
            )
        ).all()
    dropped = []
    for name, folder in rows:
        if name == keep or _folder_exists(directory, folder):
            continue
        try:
            _drop_table(engine, name)
            dropped.append(name)
        except sa.exc.OperationalError as exc:
            log.info("search table %s is still in use, dropped later: %s", name, exc.orig)
    return dropped


def _drop_table(engine: Engine, name: str) -> None:
    with engine.begin() as conn:
        conn.execute(sa.text(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))
        conn.execute(sa.text(f'DROP TABLE IF EXISTS "{name}"'))
        conn.execute(sa.delete(_REGISTRY).where(_REGISTRY.c.table_name == name))


def drop_generation(directory: Path, database_url: str) -> None:
    """Drop the table of the generation in ``directory`` (for ``publish``, which removes the
    folders of old generations: ``drop_generation(old, database_url)`` for each)."""
    engine = postgres_engine(database_url)
    try:
        with _faults("dropping a generation"):
            _drop_table(engine, table_name(directory))
    finally:
        engine.dispose()


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _day(num: int) -> str | None:
    return f"{num // 10000:04d}-{num // 100 % 100:02d}-{num % 100:02d}" if num else None


def _num(day: Any) -> int:
    return int(day.year * 10000 + day.month * 100 + day.day)


def _equals(column: Any, value: str) -> sa.ColumnElement[bool]:
    """``column = value``; no stored text holds a NUL, so a value with one matches nothing."""
    return sa.false() if "\x00" in value else column == clean(value)


def _facets_json(matched: Any) -> Any:
    """The facet counts of what matched, as one JSON array of [facet, value, count]."""
    m = matched.c
    groups = (
        sa.select(
            sa.case(
                (sa.func.grouping(m.doc_type) == 0, "doc_type"),
                (sa.func.grouping(m.issuer) == 0, "issuer"),
                else_="year",
            ).label("facet"),
            sa.func.coalesce(m.doc_type, m.issuer, sa.cast(m.year, sa.Text)).label("value"),
            sa.func.count().label("n"),
        )
        .group_by(
            sa.func.grouping_sets(sa.tuple_(m.doc_type), sa.tuple_(m.issuer), sa.tuple_(m.year))
        )
        .subquery()
    )
    g = groups.c
    return sa.select(
        sa.func.json_agg(sa.func.json_build_array(g.facet, g.value, g.n))
    ).scalar_subquery()


def _facet_counts(found: list[list[Any]] | None) -> dict[str, list[FacetCount]]:
    """Each facet's values, most frequent first, as many as tantivy gives; years newest first."""
    facets: dict[str, list[FacetCount]] = {name: [] for name in FACETS}
    for name, value, count in found or ():
        if value not in ("", "0", None):
            facets[name].append(FacetCount(str(value), int(count)))
    # Case variants as one, before the cut (``grouped_issuers``).
    facets["issuer"] = grouped_issuers((f.value, f.count) for f in facets["issuer"])
    for name, counts in facets.items():
        counts.sort(key=lambda f: (-f.count, f.value))
        del counts[FACET_SIZE * (3 if name == "year" else 1) :]
    facets["year"].sort(key=lambda f: f.value, reverse=True)
    return facets


@dataclass(frozen=True)
class _Plan:
    where: list[sa.ColumnElement[bool]]
    ranked: str  # the tsquery of every word asked, for ts_rank
    keys: list[str]  # the number keys asked


def _order(sort: Sort, score: Any, date_num: Any, record_id: Any) -> tuple[Any, ...]:
    """ORDER BY for ``sort``; equal scores newest first."""
    if sort is Sort.NEWEST:
        return (date_num.desc(), record_id)
    if sort is Sort.OLDEST:
        return (date_num.asc(), record_id)
    return (
        (date_num.desc(), record_id)
        if score is None
        else (score.desc(), date_num.desc(), record_id)
    )


class PostgresIndex:
    name = "postgres"

    def __init__(self, directory: Path, database_url: str) -> None:
        self.directory = directory
        self._engine = postgres_engine(database_url)
        directory.mkdir(parents=True, exist_ok=True)
        self.table = _table(table_name(directory))
        insert = pg_insert(self.table)
        self._upsert = insert.on_conflict_do_update(
            index_elements=[self.table.c.record_id],
            set_={
                c.name: insert.excluded[c.name]
                for c in self.table.columns
                if not c.primary_key and c.computed is None
            },
        )
        self._lock = threading.Lock()
        self._pending: dict[str, IndexDocument] = {}
        self._pending_chars = 0
        self._create()
        drop_stale_generations(self._engine, self._home(), keep=self.table.name)

    def _home(self) -> Path:
        """The index folder the generation is in, as the registry names it."""
        return self.directory.parent.resolve()

    def _create(self) -> None:
        with _faults("creating its table"), self._engine.begin() as conn:
            conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_LOCK_KEY)))
            _REGISTRY.create(conn, checkfirst=True)
            self.table.create(conn, checkfirst=True)
            row = {
                "table_name": self.table.name,
                "directory": str(self._home()),
                "folder": self.directory.name.removesuffix(BUILDING),
            }
            insert = pg_insert(_REGISTRY).values(row)
            conn.execute(insert.on_conflict_do_update(index_elements=["table_name"], set_=row))

    # --- writing -----------------------------------------------------------------------

    def add(self, documents: Iterable[IndexDocument]) -> int:
        count = 0
        for doc in documents:
            with self._lock:
                old = self._pending.pop(doc.record_id, None)
                self._pending[doc.record_id] = doc
                self._pending_chars += len(doc.body) - (len(old.body) if old else 0)
                full = (
                    len(self._pending) >= MAX_PENDING_DOCUMENTS
                    or self._pending_chars >= MAX_PENDING_CHARS
                )
            count += 1
            if full:
                self.commit()  # bounded memory
        return count

    def commit(self) -> None:
        with self._lock:
            batch, self._pending, self._pending_chars = self._pending, {}, 0
        if not batch:
            return
        try:
            rows = [row_of(doc) for doc in batch.values()]
            with _faults("committing"), self._engine.begin() as conn:
                for chunk in _chunks(rows, UPSERT_ROWS):
                    conn.execute(self._upsert, list(chunk))
        except BaseException:
            with self._lock:
                # Kept for the next commit, unless a newer version was added meanwhile.
                for record_id, doc in batch.items():
                    self._pending.setdefault(record_id, doc)
                self._pending_chars = sum(len(d.body) for d in self._pending.values())
            raise

    def remove(self, record_ids: Iterable[str]) -> None:
        ids = [clean(record_id) for record_id in record_ids]
        with self._lock:
            for record_id in ids:
                self._pending.pop(record_id, None)
        self.commit()
        with _faults("removing documents"), self._engine.begin() as conn:
            for chunk in _chunks(ids, 1000):
                conn.execute(sa.delete(self.table).where(self.table.c.record_id.in_(chunk)))

    def clear(self) -> None:
        with self._lock:
            self._pending, self._pending_chars = {}, 0
        with _faults("clearing"), self._engine.begin() as conn:
            conn.execute(sa.delete(self.table))

    def close(self) -> None:
        try:
            self.commit()
        finally:
            self._engine.dispose()

    def drop(self) -> None:
        """Drop this generation's table (what it buffers is forgotten)."""
        with self._lock:
            self._pending, self._pending_chars = {}, 0
        with _faults("dropping its table"):
            _drop_table(self._engine, self.table.name)

    # --- reading -----------------------------------------------------------------------

    @contextmanager
    def _reading(self) -> Iterator[sa.Connection]:
        """One snapshot for the hits, the total and the facets."""
        with _faults("searching"), self._engine.connect() as conn:
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                yield conn

    def stamps(self) -> dict[str, str]:
        columns = self.table.c
        with self._reading() as conn:
            rows = conn.execute(sa.select(columns.record_id, columns.stamp)).all()
        return {record_id: stamp for record_id, stamp in rows}

    def search(self, request: SearchRequest) -> SearchResults:
        plan = self._plan(request)
        if plan is None:
            return SearchResults(0, [])
        with self._reading() as conn:
            hits, summary = self._statements(request, plan, full=False)
            rows = conn.execute(hits).all()
            few = rows and int(rows[0].total) <= FULL_RANK_MAX
            if few and plan.ranked and request.sort is Sort.RELEVANCE:
                rows = conn.execute(self._statements(request, plan, full=True)[0]).all()
            # No page: nothing matches (then nothing to count) or it is past the end.
            nothing = not rows and request.offset <= 0 < request.limit
            found = rows[0] if rows else None if nothing else conn.execute(summary).one()
        total = int(found.total) if found is not None else 0
        facets = _facet_counts(found.facets if found is not None and request.facets else None)
        words = request.query.highlight_words()
        prefixes = request.query.highlight_prefixes()
        page = [
            SearchHit(
                record_id=row.record_id,
                title=row.title,
                number=row.number,
                date=_day(row.date_num),
                score=float(row.score),
                snippet=make_snippet(row.body, words, prefixes),
                doc_type=row.doc_type,
                issuer=row.issuer,
            )
            for row in rows
        ]
        return SearchResults(total, page, facets) if request.facets else SearchResults(total, page)

    def _statements(self, request: SearchRequest, plan: _Plan, full: bool) -> tuple[Any, Any]:
        """The page (with the total and the facets on each row), and the total and facets
        alone (for when the page is empty), both from one pass over what matches: scored once
        (by every term when ``full``, which reads each match's terms: done when few match;
        else by the head's), kept as narrow rows."""
        c = self.table.c
        score = None  # as tantivy: a date order has no scores
        if request.sort is Sort.RELEVANCE:
            score = self._score(plan, full)
        matched = (
            sa.select(c.record_id, c.date_num, c.doc_type, c.issuer, c.year)
            .add_columns((sa.literal_column("0.0") if score is None else score).label("score"))
            .where(*plan.where)
            .cte("matched")
            .prefix_with("MATERIALIZED")
        )
        ranked = None if score is None else matched.c.score
        chosen = (
            sa.select(matched.c.record_id, matched.c.date_num, matched.c.score)
            .order_by(*_order(request.sort, ranked, matched.c.date_num, matched.c.record_id))
            .limit(max(0, request.limit))
            .offset(max(0, request.offset))
            .subquery()
        )
        summary = [sa.select(sa.func.count()).select_from(matched).scalar_subquery()]
        if request.facets:
            summary.append(_facets_json(matched))
        labelled = [summary[0].label("total"), *(f.label("facets") for f in summary[1:])]
        ranked = None if score is None else chosen.c.score
        hits = (
            sa.select(c.record_id, c.title, c.number, c.date_num, c.doc_type, c.issuer, c.body)
            .add_columns(chosen.c.score, *labelled)
            .join_from(self.table, chosen, c.record_id == chosen.c.record_id)
            .order_by(*_order(request.sort, ranked, chosen.c.date_num, chosen.c.record_id))
        )
        return hits, sa.select(*labelled)

    # --- building queries --------------------------------------------------------------

    def _plan(self, request: SearchRequest) -> _Plan | None:
        """The WHERE of a request and what its score needs; None when it can match nothing."""
        built = tsquery_of(request.query)
        filters = request.all_filters
        if built is None or (not built[0] and filters == Filters()):
            return None
        match, ranked, keys = built
        terms = self.table.c.terms
        where = self._filter_clauses(filters, request.clearance)
        if match:
            where.append(terms.op("@@")(sa.cast(sa.literal(match), TSQUERY)))
        elif excluded := excluded_query(request.query):
            where.append(sa.not_(terms.op("@@")(sa.cast(sa.literal(excluded), TSQUERY))))
        return _Plan(where, ranked, [clean(key) for key in keys])

    def _score(self, plan: _Plan, full: bool) -> sa.ColumnElement[Any] | None:
        """ts_rank over every term (``full``) or the head's alone, plus the number bonus."""
        score: sa.ColumnElement[Any] | None = None
        if plan.ranked:
            vector = self.table.c.terms if full else self.table.c.head
            weights: sa.ColumnElement[Any] = sa.literal_column(f"'{WEIGHTS}'::float4[]")
            query = sa.cast(sa.literal(plan.ranked), TSQUERY)
            score = sa.func.ts_rank(weights, vector, query, LENGTH_NORMALIZATION)
        if plan.keys:
            bonus = sa.case((self.table.c.number_key.in_(plan.keys), NUMBER_BOOST), else_=0.0)
            score = bonus if score is None else score + bonus
        return score

    def _filter_clauses(
        self, filters: Filters, clearance: AccessLevel
    ) -> list[sa.ColumnElement[bool]]:
        c = self.table.c
        where: list[sa.ColumnElement[bool]] = [c.access_rank <= clearance.rank]
        if filters.doc_type:
            field, key = doc_type_term(filters.doc_type)
            where.append(_equals(c[field], key))
        if filters.series:
            where.append(_equals(c.series_key, key_of(filters.series)))
        if filters.number:
            where.append(_equals(c.number_key, notation_key(filters.number)))
        if filters.issuer:
            words = folded_words(clean(filters.issuer))
            phrase = " " + " ".join(words) + " "
            where.append(c.issuer_key.contains(phrase, autoescape=True) if words else sa.false())
        if filters.year:
            where.append(c.year == filters.year if abs(filters.year) < 1 << 31 else sa.false())
        if filters.date_from or filters.date_to:
            low = _num(filters.date_from) if filters.date_from else 1
            high = _num(filters.date_to) if filters.date_to else 99991231
            where.append(sa.and_(c.date_num >= low, c.date_num <= high))
        return where
