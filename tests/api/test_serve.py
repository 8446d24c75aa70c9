"""`luutru serve` as a real process on a loopback port."""

import socket
import subprocess
import sys
import time

import httpx2

from tests.conftest import IngestedArchive


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_serve_answers_search_and_record_requests(ingested_copy: IngestedArchive) -> None:
    port = _free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "api.cli",
            "--home",
            str(ingested_copy.home.root),
            "serve",
            "--port",
            str(port),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx2.get(f"{base}/api/v1/health", timeout=1)
                break
            except httpx2.TransportError:
                assert time.monotonic() < deadline, "server did not start"
                assert server.poll() is None, server.stdout.read() if server.stdout else ""
                time.sleep(0.2)
        found = httpx2.get(f"{base}/api/v1/search", params={"q": "bao cao tong ket"}).json()
        assert found["total"] == 1
        record_id = found["hits"][0]["record_id"]
        record = httpx2.get(f"{base}/api/v1/records/{record_id}").json()
        assert "BÁO CÁO" in record["text"]
        assert "Tra cứu" in httpx2.get(f"{base}/").text
    finally:
        server.terminate()
        server.wait(timeout=10)
