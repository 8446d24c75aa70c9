"""Distributed OCR with real parts: `luutru worker` processes on this machine's Redis and
RabbitMQ, the archive on its PostgreSQL, the real tesseract. A worker is killed with SIGKILL
while tesseract reads a page; its input is done by another worker, sealed once, and the same
batch run again is all duplicates.

Brokers that do not answer skip these tests loudly, or fail them with
``LUUTRU_REQUIRE_BROKERS=1`` (``.ci/run`` sets it)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from archive.fsutil import remove_stale_temp_directories
from archive.home import BROKER_URL_ENV, DATABASE_URL_ENV, KEYS_DIR_ENV, ArchiveHome
from archive.models import LogEntry, Record
from archive.repository import Archive
from tests.conftest import IngestedArchive, ingest_lines, start_ingest

BROKERS = {
    "redis": os.environ.get("LUUTRU_TEST_REDIS", "redis://127.0.0.1:6379/0"),
    "rabbitmq": os.environ.get("LUUTRU_TEST_RABBITMQ", "amqp://guest:guest@127.0.0.1:5672//"),
}
REQUIRE_ENV = "LUUTRU_REQUIRE_BROKERS"
# Redis gives a killed worker's task back only once it has been unacknowledged this long:
# longer than any one input of these tests takes, shorter than a test should wait.
REDIS_VISIBILITY_SECONDS = 20


def _reachable(url: str) -> str | None:
    from kombu import Connection

    try:
        with Connection(url, connect_timeout=3) as connection:
            connection.ensure_connection(max_retries=1)
    except Exception as exc:  # noqa: BLE001 - kombu raises each transport's own errors
        return f"{type(exc).__name__}: {exc}"
    return None


@pytest.fixture(params=sorted(BROKERS))
def broker(request: pytest.FixtureRequest) -> str:
    url = BROKERS[request.param]
    problem = _reachable(url)
    if problem is not None:
        reason = f"no {request.param} broker at {url}: {problem}"
        if os.environ.get(REQUIRE_ENV) == "1":
            pytest.fail(f"the brokers are required ({REQUIRE_ENV}=1): {reason}")
        pytest.skip(reason)
    return url


@pytest.fixture
def distributed_home(
    tmp_path: Path, postgres_database: str, broker: str, monkeypatch: pytest.MonkeyPatch
) -> ArchiveHome:
    """An archive on PostgreSQL whose workers and ingests find the broker in the
    environment, as a deployment's units set it. The signing keys are outside the home, as
    on a sealing machine that shares its home with workers: the workers run without them."""
    monkeypatch.setenv(DATABASE_URL_ENV, postgres_database)
    monkeypatch.setenv(BROKER_URL_ENV, broker)
    monkeypatch.setenv("LUUTRU_BROKER_VISIBILITY_TIMEOUT", str(REDIS_VISIBILITY_SECONDS))
    monkeypatch.setenv(KEYS_DIR_ENV, str(tmp_path / "sealing-keys"))
    home = ArchiveHome(tmp_path / "home")
    Archive.initialise(home)
    assert not (home.root / "keys").exists()
    return home


class Worker:
    """One `luutru worker` process, in a session of its own so that a kill takes its
    tesseract with it."""

    def __init__(self, home: ArchiveHome, name: str, log_dir: Path) -> None:
        self.log = log_dir / f"{name}.log"
        without_keys = {k: v for k, v in os.environ.items() if k != KEYS_DIR_ENV}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "api.cli", "--home", str(home.root), "worker", "--name", name],
            stdout=self.log.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env=without_keys,
        )

    def wait_ready(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if " ready." in self.log.read_text(errors="replace"):
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.2)
        pytest.fail(f"the worker did not start:\n{self.log.read_text(errors='replace')}")

    def reading_a_page(self) -> bool:
        """Whether a tesseract of this worker's is running."""
        for status in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = status.read_text().rsplit(")", 1)
                command = status.with_name("comm").read_text().strip()
            except OSError:
                continue
            if command == "tesseract" and int(fields[1].split()[2]) == self.process.pid:
                return True
        return False

    def kill(self) -> None:
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[list[Worker]]:
    started: list[Worker] = []
    yield started
    for worker in started:
        worker.stop()


def test_a_killed_worker_loses_nothing_and_seals_nothing_twice(
    distributed_home: ArchiveHome,
    broker: str,
    sample_scans: list[Path],
    ingested: IngestedArchive,
    workers: list[Worker],
    tmp_path: Path,
) -> None:
    home = distributed_home
    first = Worker(home, "first", tmp_path)
    workers.append(first)
    first.wait_ready()
    ingest = start_ingest(home, sample_scans, "--distributed")

    deadline = time.monotonic() + 120
    while not first.reading_a_page():
        assert time.monotonic() < deadline, "the worker never started tesseract"
        assert ingest.poll() is None, ingest.communicate()
        time.sleep(0.05)
    first.kill()
    if broker.startswith("redis"):
        # Redis hands the task back once it is older than the visibility timeout.
        time.sleep(REDIS_VISIBILITY_SECONDS + 1)
    second = Worker(home, "second", tmp_path)
    workers.append(second)
    second.wait_ready()

    lines = ingest_lines(ingest)
    assert sorted(line["status"] for line in lines) == ["sealed"] * len(sample_scans)
    assert {line["record_id"] for line in lines} == {r.record_id for r in ingested.results}
    assert set(lines[0]) == {"path", "status", "record_id", "sha256", "reason", "warning"}

    with Archive.open(home) as archive, archive.session() as session:
        assert session.scalar(select(func.count()).select_from(Record)) == len(sample_scans)
        assert session.scalar(select(func.count()).select_from(LogEntry)) == len(sample_scans)
        described = {r.id: (r.title, r.doc_number, r.type_name, r.issuer, r.page_count)
                     for r in session.scalars(select(Record))}  # fmt: skip
    with Archive.open(ingested.home) as archive, archive.session() as session:
        # The same steps ran, on another machine's process: the same description.
        assert described == {r.id: (r.title, r.doc_number, r.type_name, r.issuer, r.page_count)
                             for r in session.scalars(select(Record))}  # fmt: skip

    verified = subprocess.run(
        [sys.executable, "-m", "api.cli", "--home", str(home.root), "verify"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert verified.returncode == 0, verified.stdout + verified.stderr

    again = ingest_lines(start_ingest(home, sample_scans, "--distributed"))
    assert [line["status"] for line in again] == ["duplicate"] * len(sample_scans)

    second.stop()
    assert second.process.returncode == 0, second.log.read_text(errors="replace")
    # The killed worker's folder is unlocked: the next run over a minute later removes it.
    left = list((home.root / "tmp").glob(".run-*"))
    for folder in left:
        os.utime(folder, (time.time() - 120,) * 2)
    assert remove_stale_temp_directories(home.root / "tmp", ".run-") == len(left)
    assert not list((home.root / "tmp").iterdir())
    assert not (home.root / "keys").exists(), "a worker made keys of its own"
