"""Shared fixtures. OCR is the slow part, so the sample scans are rendered once and ingested
once per session; tests that change an archive work on a copy of it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import settings

from api.services import Services
from archive.home import ArchiveHome
from archive.models import AccessLevel
from archive.repository import Archive
from ingest.contracts import IngestResult, IngestSettings
from ingest.runner import Inputs
from ingest.sample_scans import write_samples
from tests.ingest.pki import make_pdf

pytest_plugins = ["tests.backends"]

# Speed is measured in bench/, never asserted by a test: no deadline per example (the suite
# runs in two processes on two cores, and a slow moment is not a failure).
settings.register_profile("luutru", deadline=None)
settings.load_profile("luutru")


@pytest.fixture(scope="session")
def sample_scans(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return write_samples(tmp_path_factory.mktemp("scans"))


@pytest.fixture
def home(tmp_path: Path) -> ArchiveHome:
    archive_home = ArchiveHome(tmp_path / "home")
    Archive.initialise(archive_home)
    return archive_home


@pytest.fixture
def archive(home: ArchiveHome) -> Iterator[Archive]:
    with Archive.open(home) as opened:
        yield opened


@dataclass(frozen=True)
class IngestedArchive:
    home: ArchiveHome
    results: list[IngestResult]

    def record_id(self, file_name: str) -> str:
        return next(r.record_id for r in self.results if r.path.endswith(file_name))  # type: ignore[misc]


@pytest.fixture(scope="session")
def ingested(tmp_path_factory: pytest.TempPathFactory, sample_scans: list[Path]) -> IngestedArchive:
    """The sample scans ingested once, public; treat as read-only (use ``ingested_copy``)."""
    archive_home = ArchiveHome(tmp_path_factory.mktemp("ingested") / "home")
    Archive.initialise(archive_home)
    with Services.open(archive_home) as services:
        report = services.ingest(
            Inputs(files=list(sample_scans)), IngestSettings(access=AccessLevel.PUBLIC), workers=2
        )
    return IngestedArchive(archive_home, report.results)


@pytest.fixture
def ingested_copy(ingested: IngestedArchive, tmp_path: Path) -> IngestedArchive:
    target = tmp_path / "home-copy"
    shutil.copytree(ingested.home.root, target)
    return IngestedArchive(ArchiveHome(target), ingested.results)


def seal_pdf(services: Services, folder: Path, text: str, access: AccessLevel) -> str:
    """A born-digital PDF of ``text`` (no OCR: quick) ingested at ``access``; its record id."""
    source = folder / f"{len(list(folder.glob('*.pdf')))}.pdf"
    source.write_bytes(make_pdf(text))
    report = services.ingest(Inputs(files=[source]), IngestSettings(access=access), workers=1)
    record_id = report.results[0].record_id
    assert record_id is not None, report.results[0]
    return record_id


def run_cli(*args: str, home: ArchiveHome | None = None) -> subprocess.CompletedProcess[str]:
    """Run the real `luutru` command in a child process."""
    prefix = ["--home", str(home.root)] if home else []
    return subprocess.run(
        [sys.executable, "-m", "api.cli", *prefix, *args],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "COLUMNS": "200"},
    )


def start_ingest(home: ArchiveHome, scans: list[Path], *options: str) -> subprocess.Popen[str]:
    """`luutru ingest --json --workers 1` on ``scans`` in a child process, left running (to
    run beside another, or to be killed)."""
    command = [sys.executable, "-m", "api.cli", "--home", str(home.root), "ingest", "--json"]
    return subprocess.Popen(
        [*command, "--workers", "1", *options, *map(str, scans)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def ingest_lines(ingest: subprocess.Popen[str]) -> list[dict[str, str | None]]:
    """The --json lines of an ingest started by ``start_ingest``, once it has exited 0."""
    out, err = ingest.communicate(timeout=600)
    assert ingest.returncode == 0, f"ingest exited {ingest.returncode}:\n{out}\n{err}"
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]
