"""Audited reads committed together: every row once, each read answered only after its
batch is committed, a failed batch raised to each read in it, on a real archive too."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from api.group_commit import GroupCommit, Row
from api.services import Services
from archive.models import AccessLevel
from tests.conftest import seal_pdf


def _in_threads(count: int, work) -> list[BaseException | None]:  # type: ignore[no-untyped-def]
    outcomes: list[BaseException | None] = [None] * count
    start = threading.Barrier(count)

    def run(n: int) -> None:
        start.wait()
        try:
            work(n)
        except BaseException as exc:  # noqa: BLE001 - what each thread saw is the result
            outcomes[n] = exc

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return outcomes


def _wait_for(condition) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + 30
    while not condition():
        assert time.monotonic() < deadline, "the commits never got there"
        time.sleep(0.001)


def test_rows_that_wait_share_a_commit_and_each_is_written_once() -> None:
    batches: list[list[Row]] = []
    committed: set[int] = set()

    def write(batch: list[Row]) -> None:
        time.sleep(0.02)  # a disk flush
        batches.append(batch)
        committed.update(row["n"] for row in batch)

    commits = GroupCommit(write)

    def keep(n: int) -> None:
        commits.keep({"n": n})
        assert n in committed, "answered before its row was committed"

    assert _in_threads(16, keep) == [None] * 16
    written = sorted(row["n"] for batch in batches for row in batch)
    assert written == list(range(16))
    assert len(batches) < 16, "every row waited for a commit of its own"


def test_a_failed_batch_fails_every_read_in_it_and_the_next_batch_goes_on() -> None:
    gate = threading.Event()
    calls: list[list[Row]] = []

    def write(batch: list[Row]) -> None:
        calls.append(batch)
        if len(calls) == 1:
            gate.wait(30)  # the first batch holds the writer while four rows queue
        elif len(calls) == 2:
            raise OSError("disk full")

    commits = GroupCommit(write)
    first = threading.Thread(target=commits.keep, args=({"n": 0},))
    first.start()
    _wait_for(lambda: bool(calls))
    outcomes: list[BaseException | None] = [None] * 4

    def queued(n: int) -> None:
        try:
            commits.keep({"n": n + 1})
        except OSError as exc:
            outcomes[n] = exc

    waiting = [threading.Thread(target=queued, args=(n,)) for n in range(4)]
    for thread in waiting:
        thread.start()
    _wait_for(lambda: len(commits._waiting) == 4)
    gate.set()
    first.join(30)
    for thread in waiting:
        thread.join(30)
    assert [len(batch) for batch in calls] == [1, 4]
    assert all(isinstance(exc, OSError) and "disk full" in str(exc) for exc in outcomes)
    commits.keep({"n": 5})
    assert calls[-1] == [{"n": 5}]


def test_concurrent_audited_reads_are_all_kept(archive_home, tmp_path: Path) -> None:
    with Services.open(archive_home) as services:
        record_id = seal_pdf(services, tmp_path, "Cong van mat", AccessLevel.CONFIDENTIAL)
        record = services.archive.get(record_id, AccessLevel.SECRET)

        def read(n: int) -> None:
            for turn in range(5):
                services.audit_read(record, f"can.bo.{n}", f"record {turn}")

        assert _in_threads(8, read) == [None] * 8
        events = services.archive.history(record_id).events
    kept = {(e.agent, e.detail) for e in events if e.kind == "read"}
    assert kept == {(f"can.bo.{n}", f"record {t}") for n in range(8) for t in range(5)}


def test_a_public_read_is_not_audited(archive_home, tmp_path: Path) -> None:
    with Services.open(archive_home) as services:
        record_id = seal_pdf(services, tmp_path, "Cong van cong khai", AccessLevel.PUBLIC)
        record = services.archive.get(record_id, AccessLevel.PUBLIC)
        services.audit_read(record, "can.bo", "record")
        events = services.archive.history(record_id).events
    assert [e for e in events if e.kind == "read"] == []
