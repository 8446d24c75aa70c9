"""Safety fixes found by the adversarial review: concurrent edits, a schema from a newer
luutru, a quarantined secret input retried, two folders' inputs of the same name."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from api.services import Services
from archive.home import ArchiveHome
from archive.models import AccessLevel
from archive.repository import Archive, Placement
from ingest.sample_scans import find_font
from tests.conftest import run_cli, seal_pdf

ROOT = Path(__file__).resolve().parents[2]


def _scan(path: Path, text: str) -> Path:
    from PIL import ImageFont

    page = Image.new("L", (900, 200), 255)
    ImageDraw.Draw(page).text((30, 60), text, font=ImageFont.truetype(str(find_font()), 40))
    page.save(path, dpi=(200, 200))
    return path


def test_two_edits_of_one_record_at_once_leave_it_sealed(tmp_path: Path) -> None:
    home = ArchiveHome(tmp_path / "home")
    assert run_cli("init", home=home).returncode == 0
    scan = _scan(tmp_path / "s.png", "Công văn số 12")
    done = run_cli("ingest", str(scan), "--json", home=home)
    record_id = json.loads(done.stdout)["record_id"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for round_ in range(4):
        editors = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "api.cli",
                    "--home",
                    str(home.root),
                    "edit",
                    record_id,
                    "--title",
                    f"T{round_}-{n}",
                    "--reason",
                    "đồng thời",
                ],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
            for n in range(2)
        ]
        for editor in editors:
            editor.communicate(timeout=120)
            assert editor.returncode == 0
        verify = run_cli("verify", record_id, home=home)
        assert verify.returncode == 0, verify.stdout


def test_a_schema_of_a_newer_luutru_is_said_not_traced(tmp_path: Path) -> None:
    home = ArchiveHome(tmp_path / "home")
    assert run_cli("init", home=home).returncode == 0
    with sqlite3.connect(home.root / "luutru.db") as db:
        db.execute("UPDATE alembic_version SET version_num = '9999_future'")
    for command in ("migrate", "init", "verify"):
        done = run_cli(command, home=home)
        assert done.returncode == 7, (command, done.stderr)
        assert "newer than this luutru" in done.stderr and "Traceback" not in done.stderr


def test_init_on_a_file_is_a_usage_error(tmp_path: Path) -> None:
    target = tmp_path / "afile"
    target.write_text("x")
    done = run_cli("--home", str(target), "init")
    assert done.returncode == 2 and "is a file" in done.stderr and "Traceback" not in done.stderr


def test_a_quarantined_secret_input_is_retried_as_secret(home: ArchiveHome, tmp_path: Path) -> None:
    scan = _scan(tmp_path / "mat.png", "Tài liệu mật số 7")
    with Archive.open(home) as archive:
        archive.quarantine(
            scan, "tesseract was killed", placement=Placement(AccessLevel.SECRET, "CV", 2020)
        )
    with Services.open(home) as services:
        entries = services.archive.quarantined()
        assert entries[0].access == "secret"
        report = services.retry_quarantined(entries, services.ingest_settings())
        record = services.archive.get(report.results[0].record_id or "", AccessLevel.SECRET)
    assert (record.access, record.series_code, record.closed_year) == ("secret", "CV", 2020)


def test_the_same_name_in_two_folders_is_two_quarantine_entries(
    home: ArchiveHome, tmp_path: Path
) -> None:
    for office in ("a", "b"):
        (tmp_path / office / "in").mkdir(parents=True)
        (tmp_path / office / "in" / "doc.png").write_text(f"bad file from office {office}")
    for office in ("a", "b"):
        done = subprocess.run(
            [sys.executable, "-m", "api.cli", "--home", str(home.root), "ingest", "in/doc.png"],
            cwd=tmp_path / office, capture_output=True, text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )  # fmt: skip
        assert done.returncode == 1
    listed = json.loads(run_cli("quarantine", "list", "--json", home=home).stdout)
    paths = sorted(entry["path"] for entry in listed["entries"])
    assert paths == [str(tmp_path / "a" / "in" / "doc.png"), str(tmp_path / "b" / "in" / "doc.png")]


def test_a_record_made_secret_leaves_search_even_when_indexing_it_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """'luutru edit --access' takes the record out of the index before the database changes:
    were the indexing after it to fail, the record is missing from search (caught up later),
    never counted for the readers it is now closed to."""
    from typer.testing import CliRunner

    from api import cli_records
    from api.cli import app
    from archive.errors import SearchUnavailable
    from search.contracts import SearchRequest

    home = ArchiveHome(tmp_path / "home")
    Archive.initialise(home)
    with Services.open(home) as services:
        ids = [seal_pdf(services, tmp_path, f"Cong van so {n} ve chuyen doi so",
                        AccessLevel.PUBLIC) for n in (1, 2)]  # fmt: skip

    def failing(*_args: object) -> None:
        raise SearchUnavailable("the index is busy")

    monkeypatch.setattr(cli_records, "index_records", failing)
    edited = CliRunner().invoke(
        app, ["--home", str(home.root), "edit", ids[0], "--access", "secret", "--reason", "mật"]
    )
    assert edited.exit_code != 0 and "the search index could not take it" in edited.output
    with Services.open(home) as services:
        # The index alone, before any catch-up or check against the database.
        found = services.index.search(SearchRequest.of("chuyen doi so", AccessLevel.PUBLIC))
        assert (found.total, [hit.record_id for hit in found.hits]) == (1, [ids[1]])
        assert services.archive.get(ids[0], AccessLevel.SECRET).access == "secret"
