"""Statements compiled once and run on the database driver's own cursor, their rows typed as
SQLAlchemy types them.

A record read over the API is five statements that each take SQLite some 10 µs; through
SQLAlchemy's execution (its statement cache, parameter processing, result machinery) each
cost 40 µs more (bench/RESULTS.md). A ``PreparedQuery`` is compiled for the engine's dialect
when made, takes its columns' result processors then, and runs as the driver's
``cursor.execute`` and one named tuple a row, with the same values and attribute names as
SQLAlchemy's rows (a test holds the two equal, on SQLite and on PostgreSQL).

Only what needs no processing on the way in may be bound: parameters are passed to the driver
as given (strings, numbers), so a statement whose parameters SQLAlchemy would convert is
refused when it is prepared.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, Select
from sqlalchemy.engine import Dialect

from archive.db import database_faults, describe_url
from archive.errors import StorageError

Processor = Callable[[Any], Any]


class PreparedQuery:
    """One SELECT, compiled for ``dialect``; ``rows`` runs it on a driver cursor."""

    def __init__(self, statement: Select[*tuple[Any, ...]], dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        if compiled._bind_processors:
            raise ValueError(f"parameters of this statement need processing: {compiled.string}")
        self.sql = compiled.string
        # The values the statement holds itself (clearance levels, limits), and the order
        # a positional driver (SQLite's '?') takes them in.
        self._defaults = dict(compiled.params)
        self._order = list(compiled.positiontup or []) if compiled.positional else None
        columns = list(statement.selected_columns)
        self._row: Any = namedtuple("Row", [c.name for c in columns])  # type: ignore[misc]
        found = [c.type.dialect_impl(dialect).result_processor(dialect, None) for c in columns]
        self._processors: list[tuple[int, Processor]] = [
            (i, p) for i, p in enumerate(found) if p is not None
        ]

    def _parameters(self, given: Mapping[str, Any]) -> Any:
        values = {**self._defaults, **given}
        if self._order is None:
            return values
        return tuple(values[name] for name in self._order)

    def rows(self, cursor: Any, **given: Any) -> list[Any]:
        """Every row, as named tuples whose attributes are the statement's columns."""
        cursor.execute(self.sql, self._parameters(given))
        make, processors = self._row._make, self._processors
        if not processors:
            return [make(row) for row in cursor.fetchall()]
        found = []
        for row in cursor.fetchall():
            values = list(row)
            for i, process in processors:
                values[i] = process(values[i])
            found.append(make(values))
        return found

    def first(self, cursor: Any, **given: Any) -> Any | None:
        found = self.rows(cursor, **given)
        return found[0] if found else None


@contextmanager
def driver_cursor(engine: Engine) -> Iterator[Any]:
    """A cursor of a pooled connection, in one read transaction (one snapshot for every
    statement); a driver's failure is a ``StorageError`` that says which database."""
    driver_error: type[Exception] = engine.dialect.loaded_dbapi.Error
    with database_faults(engine):  # a failure to connect comes wrapped by SQLAlchemy
        connection = engine.raw_connection()
    try:
        cursor = connection.cursor()
        if engine.dialect.name == "sqlite":
            # Python's sqlite3 begins no transaction for a SELECT: each would read the file as
            # it is when it runs, and a record's files could be read from after an edit.
            cursor.execute("BEGIN")
        yield cursor
    except driver_error as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise StorageError(
            f"cannot use the database {describe_url(str(engine.url))}: {reason}"
        ) from None
    finally:
        connection.close()  # back to the pool, which rolls the read transaction back
