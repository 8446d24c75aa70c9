"""The composition root: an index hiccup never fails an ingest, and is caught up."""

import io
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image

from api.services import Services
from archive.home import ArchiveHome
from archive.models import AccessLevel
from ingest.contracts import IngestSettings, Status
from search import tantivy_index


def test_a_locked_index_delays_indexing_but_not_sealing(
    home: ArchiveHome, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scans = []
    for n in range(3):
        path = tmp_path / f"{n}.png"
        buffer = io.BytesIO()
        Image.new("L", (80, 40), 200 + n).save(buffer, format="PNG")
        path.write_bytes(buffer.getvalue())
        scans.append(path)
    monkeypatch.setattr(tantivy_index, "WRITER_WAIT_SECONDS", 0.2)
    with Services.open(home) as services:
        index_dir = services.index.directory  # type: ignore[attr-defined]
        holder = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "import sys\n"
                "from pathlib import Path\n"
                "from search.tantivy_index import TantivyIndex\n"
                "index = TantivyIndex(Path(sys.argv[1]))\n"
                "index._take_writer()\n"
                "print('held', flush=True); sys.stdin.read()",
                str(index_dir),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
            report = services.ingest(scans, IngestSettings(access=AccessLevel.PUBLIC))
        finally:
            holder.communicate("")
        assert [r.status for r in report.results] == [Status.SEALED] * 3
        assert report.not_indexed == {r.record_id for r in report.results}
        assert report.index_problem and "stayed locked" in report.index_problem
        assert set(services.index.stamps()) == set()
        # The next run (or 'luutru reindex') catches up.
        assert services.ingest([], IngestSettings()).not_indexed == set()
        assert set(services.index.stamps()) == {r.record_id for r in report.results}


def test_an_ingest_clears_what_a_killed_run_left_half_written(home: ArchiveHome) -> None:
    old = time.time() - 3600
    left = [
        home.blobs_dir / ".incoming-killed",
        home.quarantine_dir / "0123456789abcdef" / "kept" / ".incoming-killed",
        home.keys_dir / ".incoming-killed",
    ]
    for path in left:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"half")
        os.utime(path, (old, old))
    with Services.open(home) as services:
        services.ingest([], IngestSettings())
    assert not any(path.exists() for path in left)
