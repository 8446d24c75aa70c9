import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx2
import pytest

from tests.conftest import IngestedArchive


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def served(ingested_copy: IngestedArchive) -> Iterator[str]:
    """`luutru serve` on a copy of the ingested archive; yields its base URL."""
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
        yield base
    finally:
        server.terminate()
        server.wait(timeout=10)
