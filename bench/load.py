"""The read API under load, side by side with a minimal FastAPI app in the same run.

    python -m bench.load [--records 10000] [--seconds 20] [--connections 20]
    python -m bench.load hello --port 8123      # the minimal app alone (what the bench starts)

An archive of ``--records`` records is sealed once through ``Archive.seal`` (kept under
``bench/.work/load-home-<N>``): the metadata and body of ``bench.search_corpus.generate``,
small synthetic bytes as the original, the body as the OCR text, 30 % of the records above
public. It is indexed with ``luutru reindex``, served with ``luutru serve``, and beside it a
minimal FastAPI app (an ``async def`` and a ``def`` hello returning JSON) runs under uvicorn
with the same settings (``api.cli.UVICORN_SETTINGS``), one process each. wrk drives each
(one thread, ``--connections`` connections) through a Lua script that varies the query or
record id request by request; without wrk, a bounded Python load generator does.

Then the timing leak: a record above the reader's clearance must answer 404 exactly as an
absent one, in the same time. Requests for restricted and absent ids are interleaved on one
connection and their medians compared.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "bench" / ".work"
MARK = "bench-load.json"
SEED = 7
BODY_CHARS = 2000
QUERY_COUNT = 300
RECORD_SAMPLE = 2000  # distinct ids a record-read run cycles through
LEAK_REQUESTS = 600  # of each kind, interleaved
READERS = 32  # users "bench.reader-NN", clearance confidential: a load of many readers
TARGET_RATIO = 0.5
TARGET_P99_MS = 50.0


# --- the minimal app ---------------------------------------------------------------------


def hello_app(raw_index: Path | None = None) -> Any:
    """The hellos, and with ``raw_index`` the search engine alone behind the same framework:
    raw tantivy (``bench.search_baselines``: a folded text field, an AND of the query's
    words, the top 10 and a count, public records), no facets, snippets or clearance check."""
    from fastapi import FastAPI

    app = FastAPI()

    @app.get("/hello-async")
    async def hello_async() -> dict[str, str]:
        return {"hello": "world"}

    @app.get("/hello-sync")
    def hello_sync() -> dict[str, str]:
        return {"hello": "world"}

    if raw_index is not None:
        from bench.relevance import plain_words
        from bench.search_baselines import TantivyBaseline

        engine = TantivyBaseline(raw_index)

        @app.get("/search-raw")
        def search_raw(q: str = "") -> dict[str, Any]:
            total, ids = engine.search(plain_words(q))
            return {"total": total, "hits": ids}

    return app


def serve_hello(port: int, raw_index: Path | None = None) -> None:
    import uvicorn

    try:
        from api.cli import UVICORN_SETTINGS
    except ImportError:  # a luutru from before they were named (--source)
        UVICORN_SETTINGS = {"log_level": "info"}
    app = hello_app(raw_index)
    config = uvicorn.Config(app, host="127.0.0.1", port=port, **UVICORN_SETTINGS)
    uvicorn.Server(config).run()


# --- the archive ---------------------------------------------------------------------------


def _seal(archive: Any, record: Any) -> str:
    from bench.search import seal_record

    original = f"luutru load bench scan {record.record_id}\n{record.number}\n".encode()
    return seal_record(archive, record, original)


@dataclass(frozen=True)
class LoadHome:
    root: Path
    records: int
    keys: list[str]  # the API keys of the READERS
    by_access: dict[str, list[str]]  # record ids by access level


def build_home(records: int) -> tuple[LoadHome, str]:
    """The archive home of ``records`` sealed and indexed records, made once (an unfinished
    one is resumed: records are sealed in corpus order), with its readers."""
    from sqlalchemy import select

    from archive.home import ArchiveHome
    from archive.models import AccessLevel, Record
    from archive.repository import Archive
    from archive.users import Role, add_user
    from bench.search_corpus import generate

    root = WORK / f"load-home-{records}"
    home = ArchiveHome(root)
    mark = root / MARK
    wanted = {"records": records, "seed": SEED, "body_chars": BODY_CHARS}
    how = f"reused {root.relative_to(ROOT)}"
    if not mark.is_file() or json.loads(mark.read_text()) != wanted:
        if not (root / "luutru.db").is_file():
            shutil.rmtree(root, ignore_errors=True)
            Archive.initialise(home, force=True)  # a throwaway home under bench/.work
        start = time.perf_counter()
        with Archive.open(home) as archive:
            done = archive.count_records()
            print(f"  sealing {records} records into {root} (from {done}) …", flush=True)
            for n, record in enumerate(generate(records, SEED, BODY_CHARS)):
                if n < done:
                    continue  # sealed in corpus order: an unfinished run is resumed
                _seal(archive, record)
                if (n + 1) % 1000 == 0:
                    rate = (n + 1 - done) / (time.perf_counter() - start)
                    print(f"    {n + 1} sealed ({rate:.0f}/s)", flush=True)
            assert archive.count_records() == records
        sealing = time.perf_counter() - start
        print("  luutru reindex …", flush=True)
        start = time.perf_counter()
        subprocess.run(_cli(root, "reindex"), check=True, stdout=subprocess.DEVNULL)
        how = f"sealed in {sealing:.0f} s, indexed in {time.perf_counter() - start:.0f} s"
        mark.write_text(json.dumps(wanted))
    key_file = root / "bench-readers.json"
    keys: dict[str, str] = json.loads(key_file.read_text()) if key_file.is_file() else {}
    by_access: dict[str, list[str]] = {}
    with Archive.open(home) as archive:
        for n in range(READERS):
            name = f"bench.reader-{n:02d}"
            if name not in keys:  # each key is shown once: kept at once
                _, keys[name] = add_user(
                    archive, name, Role.OFFICIAL, AccessLevel.CONFIDENTIAL, "bench"
                )
                key_file.write_text(json.dumps(keys))
        with archive.session() as session:
            rows = session.execute(select(Record.id, Record.access).order_by(Record.id))
            for record_id, access in rows:
                by_access.setdefault(access, []).append(record_id)
    return LoadHome(root, records, [keys[k] for k in sorted(keys)], by_access), how


def build_raw_index(records: int) -> Path:
    """The raw tantivy index of the same corpus the archive holds, made once."""
    from bench.search_baselines import build_tantivy
    from bench.search_corpus import generate

    path = WORK / f"load-raw-tantivy-{records}"
    mark = WORK / f"load-raw-tantivy-{records}.json"
    wanted = {"records": records, "seed": SEED, "body_chars": BODY_CHARS}
    if not mark.is_file() or json.loads(mark.read_text()) != wanted:
        print(f"  raw tantivy index of {records} records …", flush=True)
        build_tantivy(path, generate(records, SEED, BODY_CHARS))
        mark.write_text(json.dumps(wanted))
    return path


def _cli(home: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "api.cli", "--home", str(home), *args]


# --- servers ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    name: str
    process: subprocess.Popen[bytes]
    port: int

    def cpu_seconds(self) -> float:
        """User + system CPU of the server process so far (all its threads)."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def started(
    name: str, args: list[str], port: int, ready: str, source: Path = ROOT
) -> Iterator[Server]:
    """A server process run in ``source``, once ``ready`` answers 200; stopped (SIGINT, as
    Ctrl-C) after."""
    log_path = WORK / f"load-{name}.log"
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(args, stdout=log_file, stderr=subprocess.STDOUT, cwd=source)
        try:
            deadline = time.monotonic() + 300  # serve catches the index up before it listens
            while True:
                if process.poll() is not None:
                    raise RuntimeError(f"{name} exited: see {log_path}")
                try:
                    if _get(port, ready)[0] == 200:
                        break
                except OSError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{name} did not answer {ready}: see {log_path}")
                time.sleep(0.2)
            yield Server(name, process, port)
        finally:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _get(
    port: int, path: str, headers: dict[str, str] | None = None, timeout: float = 10
) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


# --- load ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Requests:
    """What one load run asks: the paths in turn, each with its header (cycled)."""

    label: str
    reader: str
    paths: list[str]
    headers: list[dict[str, str]]


@dataclass(frozen=True)
class Measured:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    errors: int
    cpu_ms_per_request: float
    load: float  # the machine's 1-minute load average at the end

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds


def _lua_string(text: str) -> str:
    return json.dumps(text)  # a JSON string of ASCII is a Lua string too


def wrk_script(requests: Requests) -> str:
    """A wrk script that sends ``requests`` in turn and prints its own summary as JSON."""
    paths = ",\n".join(_lua_string(p) for p in requests.paths)
    headers = ",\n".join(
        "{" + ", ".join(f"[{_lua_string(k)}] = {_lua_string(v)}" for k, v in h.items()) + "}"
        for h in requests.headers
    )
    return f"""
local paths = {{{paths}}}
local headers = {{{headers}}}
local n = 0
request = function()
  n = n + 1
  return wrk.format("GET", paths[(n % #paths) + 1], headers[(n % #headers) + 1])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK-JSON {{"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, '
    .. '"non_2xx": %d, "errors": %d}}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.status, e.connect + e.read + e.write + e.timeout))
end
"""


def run_wrk(server: Server, requests: Requests, seconds: float, connections: int) -> Measured:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", dir=WORK, delete=False) as script:
        script.write(wrk_script(requests))
    try:
        url = f"http://127.0.0.1:{server.port}"
        # A short warm-up (imports, caches, the pool filled), then the measured run.
        base = ["wrk", "-t", "1", "-c", str(connections), "--timeout", "10s", "-s", script.name]
        subprocess.run([*base, "-d", "2s", url], check=True, capture_output=True)
        cpu = server.cpu_seconds()
        done = subprocess.run(
            [*base, "-d", f"{seconds:.0f}s", url], check=True, capture_output=True, text=True
        )
        cpu = server.cpu_seconds() - cpu
    finally:
        os.unlink(script.name)
    line = next(x for x in done.stdout.splitlines() if x.startswith("WRK-JSON "))
    found = json.loads(line.removeprefix("WRK-JSON "))
    return Measured(
        found["requests"],
        found["duration_us"] / 1e6,
        found["p50_us"] / 1000,
        found["p99_us"] / 1000,
        found["non_2xx"],
        found["errors"],
        1000 * cpu / max(1, found["requests"]),
        os.getloadavg()[0],
    )


def run_python(server: Server, requests: Requests, seconds: float, connections: int) -> Measured:
    """The bounded load generator used without wrk: ``connections`` threads, each with one
    keep-alive connection, each sending its next request once the last one is answered.
    (Slower than wrk: the client shares the GIL and the 2 cores.)"""
    latencies: list[float] = []
    statuses: list[int] = []
    errors = [0]
    counter = iter(range(1 << 62))
    lock = threading.Lock()

    def one_client(stop_at: float, keep: bool) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        mine: list[tuple[float, int]] = []
        while time.perf_counter() < stop_at:
            with lock:
                n = next(counter)
            path = requests.paths[n % len(requests.paths)]
            headers = requests.headers[n % len(requests.headers)]
            start = time.perf_counter()
            try:
                connection.request("GET", path, headers=headers)
                response = connection.getresponse()
                response.read()
            except (OSError, http.client.HTTPException):
                with lock:
                    errors[0] += 1
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
                continue
            mine.append((time.perf_counter() - start, response.status))
        connection.close()
        if keep:
            with lock:
                latencies.extend(t for t, _ in mine)
                statuses.extend(s for _, s in mine)

    def drive(duration: float, keep: bool) -> float:
        start = time.perf_counter()
        threads = [
            threading.Thread(target=one_client, args=(start + duration, keep))
            for _ in range(connections)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return time.perf_counter() - start

    drive(2, keep=False)
    cpu = server.cpu_seconds()
    elapsed = drive(seconds, keep=True)
    cpu = server.cpu_seconds() - cpu
    return Measured(
        len(latencies),
        elapsed,
        1000 * _percentile(latencies, 0.50),
        1000 * _percentile(latencies, 0.99),
        sum(1 for s in statuses if not 200 <= s < 400),
        errors[0],
        1000 * cpu / max(1, len(latencies)),
        os.getloadavg()[0],
    )


def _mean(runs: Sequence[Measured]) -> Measured:
    """One baseline of several runs: their requests over their time, mean percentiles."""
    return Measured(
        sum(m.requests for m in runs),
        sum(m.seconds for m in runs),
        statistics.fmean(m.p50_ms for m in runs),
        statistics.fmean(m.p99_ms for m in runs),
        sum(m.non_2xx for m in runs),
        sum(m.errors for m in runs),
        statistics.fmean(m.cpu_ms_per_request for m in runs),
        max(m.load for m in runs),
    )


def _percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else 0.0


# --- what is asked ----------------------------------------------------------------------------


def _addresses(count: int = READERS) -> list[dict[str, str]]:
    """Anonymous readers from ``count`` addresses. luutru's rate limit is per address (200/s),
    so one address would measure the limiter; uvicorn takes the client's address from
    X-Forwarded-For when the request comes from loopback (its default, for a reverse proxy)."""
    return [{"X-Forwarded-For": f"10.0.{n // 250}.{n % 250 + 1}"} for n in range(count)]


def _bearers(keys: list[str]) -> list[dict[str, str]]:
    return [{"Authorization": f"Bearer {key}"} for key in keys]


def raw_queries() -> list[str]:
    """The queries of luutru's search runs, asked of the raw engine behind the minimal app."""
    from bench.search_corpus import latency_queries

    return [f"/search-raw?q={quote(q)}" for q in latency_queries(QUERY_COUNT, SEED)]


def workloads(home: LoadHome) -> list[Requests]:
    from bench.search_corpus import latency_queries

    rng = random.Random(f"luutru-load:{SEED}")
    queries = [f"/api/v1/search?q={quote(q)}" for q in latency_queries(QUERY_COUNT, SEED)]
    public = home.by_access.get("public", [])
    cleared = public + home.by_access.get("internal", []) + home.by_access.get("confidential", [])

    def reads(ids: list[str]) -> list[str]:
        return [f"/api/v1/records/{i}" for i in rng.sample(ids, min(RECORD_SAMPLE, len(ids)))]

    return [
        Requests("/api/v1/search", "anonymous", queries, _addresses()),
        Requests("/api/v1/search", "Bearer key", queries, _bearers(home.keys)),
        Requests("/api/v1/records/{id}", "anonymous", reads(public), _addresses()),
        Requests("/api/v1/records/{id}", "Bearer key", reads(cleared), _bearers(home.keys)),
    ]


# --- the timing leak ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Leak:
    restricted_ms: list[float]
    absent_ms: list[float]
    statuses: set[int]


def timing_leak(port: int, home: LoadHome, count: int = LEAK_REQUESTS) -> Leak:
    """Anonymous reads of restricted ids and of absent ones, interleaved on one keep-alive
    connection (so each kind sees the same machine), ``count`` of each, after a warm-up."""
    rng = random.Random(f"luutru-leak:{SEED}")
    restricted = [
        i for level in ("internal", "confidential", "secret") for i in home.by_access.get(level, [])
    ]
    existing = {i for ids in home.by_access.values() for i in ids}
    absent: list[str] = []
    while len(absent) < 200:
        candidate = f"{rng.getrandbits(96):024x}"
        if candidate not in existing:
            absent.append(candidate)
    restricted = rng.sample(restricted, min(200, len(restricted)))
    addresses = _addresses()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    times: dict[str, list[float]] = {"restricted": [], "absent": []}
    statuses: set[int] = set()
    try:
        for n in range(-100, count):  # the first 100 of each warm up
            order = [("restricted", restricted), ("absent", absent)]
            rng.shuffle(order)
            for kind, ids in order:
                path = f"/api/v1/records/{ids[n % len(ids)]}"
                start = time.perf_counter()
                connection.request("GET", path, headers=addresses[n % len(addresses)])
                response = connection.getresponse()
                response.read()
                elapsed = time.perf_counter() - start
                statuses.add(response.status)
                if n >= 0:
                    times[kind].append(1000 * elapsed)
    finally:
        connection.close()
    return Leak(times["restricted"], times["absent"], statuses)


# --- the run ------------------------------------------------------------------------------------


def _row(
    label: str, reader: str, m: Measured, hello_async: Measured, hello_sync: Measured
) -> list[str]:
    return [
        f"`{label}`",
        reader,
        f"{m.per_second:.0f}",
        f"{m.p50_ms:.1f}",
        f"{m.p99_ms:.1f}",
        f"{m.per_second / hello_async.per_second:.2f}",
        f"{m.per_second / hello_sync.per_second:.2f}",
        f"{m.cpu_ms_per_request:.2f}",
        str(m.non_2xx + m.errors),
        f"{m.load:.1f}",
    ]


def _spread(runs: Sequence[Measured]) -> str:
    return " then ".join(f"{m.per_second:.0f}" for m in runs)


def _table(columns: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    return "\n".join([*lines, *("| " + " | ".join(row) + " |" for row in rows)])


def run(
    records: int = 10_000,
    seconds: float = 20,
    connections: int = 20,
    client: str = "auto",
    profile: Path | None = None,
    source: Path = ROOT,
) -> str:
    """Build (once), serve and measure; the tables as Markdown. ``source``: the source tree
    both servers run from (another checkout, to compare with an earlier luutru)."""
    WORK.mkdir(parents=True, exist_ok=True)
    home, how = build_home(records)
    raw_index = build_raw_index(records)
    use_wrk = client == "wrk" or (client == "auto" and shutil.which("wrk") is not None)
    drive = run_wrk if use_wrk else run_python
    hello_port, serve_port = free_port(), free_port()
    hello_args = [sys.executable, "-m", "bench.load", "hello", "--port", str(hello_port),
                  "--raw-index", str(raw_index)]  # fmt: skip
    serve_args = _cli(home.root, "serve", "--port", str(serve_port))
    measured: dict[tuple[str, str], Measured] = {}
    hellos: dict[str, list[Measured]] = {"/hello-async": [], "/hello-sync": [], "/search-raw": []}
    asked_of_hello = {path: Requests(path, "-", [path], [{}]) for path in hellos}
    asked_of_hello["/search-raw"] = Requests("/search-raw", "-", raw_queries(), [{}])
    load_before = os.getloadavg()[0]
    with (
        started("hello", hello_args, hello_port, "/hello-async", source) as hello,
        started("serve", serve_args, serve_port, "/api/v1/health", source) as serve,
    ):

        def baseline() -> None:
            for path, runs in hellos.items():
                print(f"  {path} …", flush=True)
                runs.append(drive(hello, asked_of_hello[path], seconds, connections))

        baseline()  # before and after luutru's runs: the machine is shared, its load moves
        for asked in workloads(home):
            print(f"  {asked.label} ({asked.reader}) …", flush=True)
            with _profiled(profile, serve, asked):
                measured[(asked.label, asked.reader)] = drive(serve, asked, seconds, connections)
        baseline()
        print("  timing leak …", flush=True)
        leak = timing_leak(serve.port, home)
    for path, runs in reversed(hellos.items()):
        measured = {(path, "-"): _mean(runs), **measured}
    hello_async, hello_sync = measured[("/hello-async", "-")], measured[("/hello-sync", "-")]
    rows = [
        _row(label, reader, m, hello_async, hello_sync) for (label, reader), m in measured.items()
    ]
    columns = [
        "endpoint",
        "reader",
        "req/s",
        "p50 ms",
        "p99 ms",
        "× async hello",
        "× sync hello",
        "server CPU ms/req",
        "non-2xx",
        "load",
    ]
    verdicts = []
    for (label, reader), m in measured.items():
        if label in hellos:
            continue
        ok = m.per_second >= TARGET_RATIO * hello_async.per_second and m.p99_ms <= TARGET_P99_MS
        verdicts.append(f"{label} ({reader}): {'meets' if ok else 'misses'} the target")
    raw = measured[("/search-raw", "-")]
    engine_share = "; ".join(
        f"{reader}: {m.per_second / raw.per_second:.2f}× its req/s"
        for (label, reader), m in measured.items()
        if label == "/api/v1/search"
    )
    r_med, a_med = statistics.median(leak.restricted_ms), statistics.median(leak.absent_ms)
    leak_rows = [
        [
            "restricted (above anonymous clearance)",
            str(len(leak.restricted_ms)),
            f"{r_med:.2f}",
            f"{_percentile(leak.restricted_ms, 0.9):.2f}",
        ],
        [
            "absent",
            str(len(leak.absent_ms)),
            f"{a_med:.2f}",
            f"{_percentile(leak.absent_ms, 0.9):.2f}",
        ],
    ]
    tool = "wrk 1 thread" if use_wrk else "the Python load generator"
    return "\n".join(
        [
            f"## Read API under load ({records} records, {connections} connections, "
            f"{seconds:.0f} s each, {tool})",
            "",
            _table(columns, rows),
            "",
            f"Archive: {how}. Target: ≥ {TARGET_RATIO}× the async hello's req/s and p99 ≤ "
            f"{TARGET_P99_MS:.0f} ms; " + "; ".join(verdicts) + ". The minimal app's rows are the "
            "mean of a run before luutru's and one after (req/s "
            f"{_spread(hellos['/hello-async'])}, {_spread(hellos['/hello-sync'])} and "
            f"{_spread(hellos['/search-raw'])}). "
            "`/search-raw` is the engine alone behind the minimal app (raw tantivy over the same "
            "corpus, the same queries as plain words, top 10 and a count; no facets, snippets "
            f"or clearance check): luutru's search, {engine_share}. Both servers are one uvicorn "
            "process with the same settings (`api.cli.UVICORN_SETTINGS`) on the same 2 cores as "
            "the load generator; `load` is the 1-minute load average after each run (it was "
            f"{load_before:.1f} before), server CPU is the process's user + system time per "
            f"request. Searches cycle through {QUERY_COUNT} queries of "
            "`bench.search_corpus.latency_queries`, record reads through "
            f"{RECORD_SAMPLE} ids the reader may see; anonymous requests come from {READERS} "
            f"addresses and keyed ones with {READERS} users' keys (clearance confidential, so "
            "about 30 % of their reads are audited), as luutru's rate limit is per reader.",
            "",
            "### Timing: a restricted record against an absent one (anonymous, 404 both)",
            "",
            _table(["id", "requests", "median ms", "p90 ms"], leak_rows),
            "",
            f"Interleaved on one connection; statuses seen: {sorted(leak.statuses)}; the medians "
            f"differ by {abs(r_med - a_med) * 1000:.0f} µs.",
            "",
        ]
    )


@contextmanager
def _profiled(where: Path | None, server: Server, asked: Requests) -> Iterator[None]:
    """py-spy on the server during the run (``--profile DIR``): collapsed stacks to read."""
    if where is None:
        yield
        return
    where.mkdir(parents=True, exist_ok=True)
    name = f"{asked.label.strip('/').replace('/', '-').replace('{id}', 'id')}-{asked.reader}"
    out = where / (name.replace(" ", "-") + ".txt")
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    recorder = subprocess.Popen(
        [
            spy,
            "record",
            "--pid",
            str(server.process.pid),
            "--format",
            "raw",
            "--nonblocking",
            "--output",
            str(out),
            "--rate",
            "200",
            "--gil",  # only the thread holding the GIL: where the CPU goes, not who waits
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield
    finally:
        recorder.send_signal(signal.SIGINT)
        recorder.wait(30)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    sub = parser.add_subparsers(dest="command")
    hello = sub.add_parser("hello", help="serve the minimal FastAPI app alone")
    hello.add_argument("--port", type=int, default=8123)
    hello.add_argument("--raw-index", type=Path, help="serve /search-raw from this index")
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--connections", type=int, default=20)
    parser.add_argument("--client", choices=["auto", "wrk", "python"], default="auto")
    parser.add_argument("--profile", type=Path, help="py-spy each luutru run into this folder")
    parser.add_argument(
        "--source", type=Path, default=ROOT, help="run both servers from this source tree"
    )
    options = parser.parse_args(argv)
    if options.command == "hello":
        serve_hello(options.port, options.raw_index)
        return
    print(
        run(
            options.records,
            options.seconds,
            options.connections,
            options.client,
            options.profile,
            options.source.resolve(),
        )
    )


if __name__ == "__main__":
    main()
