"""Rows written durably and together (group commit), for the audit of reads.

Each read of a non-public record is kept as a row, committed before the read is answered: an
audit that a crash can lose is not an audit. Committed one by one, each waits for a disk
flush of its own, in turn, and under load the last of them waits for all the others (p99 of
keyed record reads 250 ms, bench/RESULTS.md). Here the rows that arrive while a commit is
under way wait for the next commit and share it: one flush for all of them, still before any
of them is answered.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

Row = dict[str, Any]


class GroupCommit:
    """``keep(row)`` returns once ``write`` has committed a batch holding ``row``, or raises
    what ``write`` raised for that batch. One batch is written at a time; the thread that
    finds none under way writes every row waiting, its own among them."""

    def __init__(self, write: Callable[[list[Row]], None]) -> None:
        self._write = write
        self._turn = threading.Condition()
        self._waiting: list[Row] = []
        self._next_ticket = 0
        # Tickets below this are settled: their batch was committed or failed.
        self._settled = 0
        self._failed: dict[int, BaseException] = {}
        self._writing = False

    def keep(self, row: Row) -> None:
        with self._turn:
            ticket = self._next_ticket
            self._next_ticket += 1
            self._waiting.append(row)
            while ticket >= self._settled:
                if self._writing:
                    self._turn.wait()
                else:
                    self._write_waiting()
            failure = self._failed.pop(ticket, None)
        if failure is not None:
            raise failure

    def _write_waiting(self) -> None:
        """Write the rows waiting (tickets ``_settled`` up to ``_next_ticket``), the lock
        released meanwhile so that later rows can queue for the next batch."""
        self._writing = True
        batch, self._waiting = self._waiting, []
        first, end = self._settled, self._next_ticket
        failure: BaseException | None = None
        self._turn.release()
        try:
            self._write(batch)
        except BaseException as exc:  # noqa: BLE001 - handed to every row of the batch
            failure = exc
        finally:
            self._turn.acquire()
            if failure is not None:
                self._failed.update(dict.fromkeys(range(first, end), failure))
            self._settled = end
            self._writing = False
            self._turn.notify_all()
