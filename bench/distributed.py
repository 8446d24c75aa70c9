"""Pages a minute through the broker (`luutru worker` processes, `luutru ingest --distributed`)
against the embedded path (`luutru ingest --workers N`), over the same pages on this machine.

    python -m bench.distributed --pages 48      # about five minutes on 2 cores

Every run starts from a fresh archive home; the distributed runs and one embedded run keep the
archive on PostgreSQL (a throwaway ``luutru_bench_dist_<pid>_<n>`` database on 127.0.0.1), the
other embedded runs on SQLite, so the broker's cost is told apart from the database's. Workers
are started and ready before the clock starts: what is timed is the ingest command, from
start to its last record sealed. `bench.run` puts the table in RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine
from sqlalchemy import text as sql

from archive.home import BROKER_URL_ENV, DATABASE_URL_ENV, ArchiveHome
from archive.repository import Archive
from ingest.sample_scans import SAMPLES, render_page

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "bench" / ".work" / "distributed"
POSTGRES_SERVER = os.environ.get("LUUTRU_BENCH_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1")
BROKER = os.environ.get("LUUTRU_BENCH_BROKER", "redis://127.0.0.1:6379/0")
READY_SECONDS = 120


@dataclass(frozen=True)
class Run:
    label: str
    postgres: bool
    ingest_workers: int  # --workers of the ingest command
    broker_workers: int  # `luutru worker` processes; 0: the embedded path


RUNS = [
    Run("embedded, SQLite, --workers 1", False, 1, 0),
    Run("embedded, SQLite, --workers 2", False, 2, 0),
    Run("embedded, PostgreSQL, --workers 2", True, 2, 0),
    Run("distributed, PostgreSQL + Redis, 1 worker", True, 1, 1),
    Run("distributed, PostgreSQL + Redis, 2 workers", True, 2, 2),
]


def _pages(folder: Path, count: int) -> None:
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for n in range(count):
        page = render_page(SAMPLES[n % len(SAMPLES)], dpi=200, seed=n)
        page.save(folder / f"page{n:03d}.png", dpi=(200, 200))


@contextmanager
def _database(name: str) -> Iterator[str]:
    admin = create_engine(f"{POSTGRES_SERVER}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(sql(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{POSTGRES_SERVER}/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _start_worker(
    home: Path, name: str, env: dict[str, str]
) -> tuple[subprocess.Popen[bytes], Path]:
    log = home.parent / f"{home.name}-{name}.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "--home", str(home), "worker", "--name", name],
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
        env=env,
    )
    return process, log


def _wait_ready(process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + READY_SECONDS
    while time.monotonic() < deadline:
        if " ready." in log.read_text(errors="replace"):
            return
        if process.poll() is not None:
            break
        time.sleep(0.2)
    raise RuntimeError(f"a worker did not start:\n{log.read_text(errors='replace')}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _timed_ingest(home: Path, scans: Path, run: Run, env: dict[str, str]) -> float:
    command = [sys.executable, "-m", "api.cli", "--home", str(home), "ingest", str(scans)]
    command += ["--workers", str(run.ingest_workers), "--json", "--access", "public"]
    if run.broker_workers:
        command.append("--distributed")
    start = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{run.label}: ingest exited {done.returncode}:\n{done.stderr}")
    lines = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    sealed = sum(line.get("status") == "sealed" for line in lines)
    pages = len(list(scans.iterdir()))
    if sealed != pages:
        raise RuntimeError(f"{run.label}: {sealed} of {pages} pages sealed:\n{done.stdout}")
    return elapsed


def measure(run: Run, scans: Path, number: int) -> float:
    """Wall seconds of the ingest of ``scans`` in a fresh home, as ``run`` says."""
    home = WORK / f"home-{number}"
    shutil.rmtree(home, ignore_errors=True)
    env = {k: v for k, v in os.environ.items() if k not in (DATABASE_URL_ENV, BROKER_URL_ENV)}
    with _maybe_database(run, number) as url:
        if url:
            env[DATABASE_URL_ENV] = url
        env[BROKER_URL_ENV] = BROKER
        _initialise(home, env)
        workers = [_start_worker(home, f"w{n}", env) for n in range(run.broker_workers)]
        try:
            for process, log in workers:
                _wait_ready(process, log)
            return _timed_ingest(home, scans, run, env)
        finally:
            for process, _ in workers:
                _stop(process)


def _initialise(home: Path, env: dict[str, str]) -> None:
    """A throwaway home (under bench/.work, so forced) on the run's database."""
    saved = os.environ.get(DATABASE_URL_ENV)
    if DATABASE_URL_ENV in env:
        os.environ[DATABASE_URL_ENV] = env[DATABASE_URL_ENV]
    try:
        Archive.initialise(ArchiveHome(home), force=True)
    finally:
        if saved is None:
            os.environ.pop(DATABASE_URL_ENV, None)
        else:
            os.environ[DATABASE_URL_ENV] = saved


@contextmanager
def _maybe_database(run: Run, number: int) -> Iterator[str]:
    if not run.postgres:
        yield ""
        return
    with _database(f"luutru_bench_dist_{os.getpid()}_{number}") as url:
        yield url


def table(pages: int) -> tuple[list[str], list[list[str]], str]:
    """The columns, rows and a note of the comparison over ``pages`` pages."""
    scans = WORK / "scans"
    _pages(scans, pages)
    seconds = {run.label: measure(run, scans, n) for n, run in enumerate(RUNS)}
    baseline = seconds[RUNS[1].label]
    rows = [
        [
            run.label,
            f"{seconds[run.label]:.1f}",
            f"{pages * 60 / seconds[run.label]:.1f}",
            f"{baseline / seconds[run.label]:.2f}",
        ]
        for run in RUNS
    ]
    note = (
        f"{pages} A4 pages rendered at 200 dpi (`ingest.sample_scans`), broker {BROKER}. "
        "Ratio: pages/min against the embedded path with two workers on SQLite (the default "
        "install). Everything runs on this one 2-core machine: the sealing process, "
        "PostgreSQL, Redis and the workers share the same two cores, so the distributed rows "
        "show what the broker path costs at equal parallelism; on separate machines each "
        "worker brings its own cores."
    )
    return ["run", "wall s", "pages/min", "vs embedded --workers 2"], rows, note


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=48)
    options = parser.parse_args()
    columns, rows, note = table(options.pages)
    print("| " + " | ".join(columns) + " |")
    print("|" + "---|" * len(columns))
    for row in rows:
        print("| " + " | ".join(row) + " |")
    print()
    print(note)


if __name__ == "__main__":
    main()
