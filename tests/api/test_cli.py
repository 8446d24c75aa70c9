"""The `luutru` command in a child process: the contract scripts rely on."""

import hashlib
import json
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from archive.home import ArchiveHome
from tests.conftest import IngestedArchive, run_cli


def _json_lines(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


def test_round_trip_init_ingest_show_search(tmp_path: Path, sample_scans: list[Path]) -> None:
    home = ArchiveHome(tmp_path / "home")
    assert run_cli("init", home=home).returncode == 0
    scan = sample_scans[0]
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")

    ingest = run_cli(
        "ingest",
        str(scan),
        str(empty),
        "--access",
        "public",
        "--series",
        "qc",
        "--closed-year",
        "2023",
        "--json",
        home=home,
    )
    assert ingest.returncode == 1, ingest.stderr
    sealed, quarantined = sorted(_json_lines(ingest.stdout), key=lambda r: r["status"] != "sealed")
    assert sealed["status"] == "sealed" and sealed["path"] == str(scan)
    assert len(sealed["sha256"]) == 64 and sealed["reason"] is None
    assert quarantined == {
        "path": str(empty),
        "status": "quarantined",
        "record_id": None,
        "sha256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "reason": "the file is empty (0 bytes)",
        "warning": None,
    }

    show = run_cli("show", sealed["record_id"], "--json", home=home)
    assert show.returncode == 0, show.stderr
    record = json.loads(show.stdout)
    assert "QUYẾT ĐỊNH" in record["text"]
    assert record["series_code"] == "QC" and record["closed_year"] == 2023
    original = next(f for f in record["files"] if f["role"] == "original")
    assert original == {
        "role": "original",
        "media_type": "image/png",
        "size": scan.stat().st_size,
        "sha256": sealed["sha256"],
        "sha512": hashlib.sha512(scan.read_bytes()).hexdigest(),
        "name": scan.name,
    }
    assert record["seal"]["key_id"]
    table = run_cli("show", sealed["record_id"], home=home)
    assert table.returncode == 0, table.stderr
    assert re.search(r"│ status +│ active", table.stdout)
    told = [p["confidence"] for p in record["pages"]]
    assert re.search(rf"│ OCR confidence +│ p1: {told[0]:.0f}", table.stdout)
    for warning in record["warnings"]:  # the sample scan is under the standard's 200 dpi
        assert warning[:40] in " ".join(table.stdout.split())

    search = run_cli("search", "quyet dinh chuyen doi so", "--json", home=home)
    assert search.returncode == 0, search.stderr
    found = json.loads(search.stdout)
    assert found["total"] == 1 and found["hits"][0]["record_id"] == sealed["record_id"]

    again = run_cli("ingest", str(scan), "--json", home=home)
    assert again.returncode == 0
    assert _json_lines(again.stdout)[0]["status"] == "duplicate"

    verify = run_cli("verify", "--json", home=home)
    assert verify.returncode == 0 and json.loads(verify.stdout)["ok"] is True


def test_human_output_is_tables(ingested_copy) -> None:
    result = run_cli("search", "van thu", home=ingested_copy.home)
    assert result.returncode == 0
    assert "record(s) for 'van thu'" in result.stdout and "┃" in result.stdout
    assert "SearchResults(" not in result.stdout


def test_commands_without_an_archive_say_so(tmp_path: Path) -> None:
    result = run_cli("search", "x", home=ArchiveHome(tmp_path / "none"))
    assert result.returncode == 3
    assert "no archive at" in result.stderr and "init" in result.stderr


def test_unknown_record_exits_4(ingested_copy) -> None:
    result = run_cli("show", "nosuch", home=ingested_copy.home)
    assert result.returncode == 4 and "no record" in result.stderr


def test_usage_errors_exit_2(ingested_copy, tmp_path: Path) -> None:
    assert run_cli("ingest", str(tmp_path / "missing.png"), home=ingested_copy.home).returncode == 2
    assert (
        run_cli("ingest", "--access", "top", str(tmp_path), home=ingested_copy.home).returncode == 2
    )


def test_verify_reports_tampering_with_exit_5(ingested_copy) -> None:
    db = sqlite3.connect(ingested_copy.home.root / "luutru.db")
    sha = db.execute("SELECT sha256 FROM record_files WHERE role='ocr-text' LIMIT 1").fetchone()[0]
    db.close()
    blob = ingested_copy.home.blobs_dir / sha[:2] / sha[2:4] / sha
    blob.chmod(0o644)
    blob.write_bytes(blob.read_bytes() + b" altered")
    result = run_cli("verify", "--json", home=ingested_copy.home)
    assert result.returncode == 5
    report = json.loads(result.stdout)
    assert not report["ok"]
    assert sum(not r["ok"] for r in report["records"]) == 1


def test_every_command_has_help() -> None:
    # In this process: docs/CLI.md's check already runs each --help as the command does.
    from typer.testing import CliRunner

    from api.cli import app

    for command in ("init", "ingest", "show", "search", "verify", "reindex", "serve"):
        result = CliRunner().invoke(app, [command, "--help"], prog_name="luutru")
        assert result.exit_code == 0 and "Usage: luutru " + command in result.output, command


def test_killed_ingest_resumes_without_half_records(
    tmp_path: Path, sample_scans: list[Path]
) -> None:
    home = ArchiveHome(tmp_path / "home")
    run_cli("init", home=home)
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    for scan in sample_scans:
        shutil.copy(scan, inputs / scan.name)
    child = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "api.cli",
            "--home",
            str(home.root),
            "ingest",
            str(inputs),
            "--json",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    database = home.root / "luutru.db"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        with sqlite3.connect(database) as db:
            if db.execute("SELECT count(*) FROM records").fetchone()[0] >= 1:
                break
        time.sleep(0.05)
    child.send_signal(signal.SIGKILL)
    child.wait()
    with sqlite3.connect(database) as db:
        committed = db.execute("SELECT count(*) FROM records").fetchone()[0]
        sealed = db.execute("SELECT count(*) FROM seals").fetchone()[0]
    assert 1 <= committed < 3, "the kill should land mid-run"
    assert sealed == committed, "a record is never committed without its seal"

    resumed = run_cli("ingest", str(inputs), "--json", home=home)
    assert resumed.returncode == 0, resumed.stderr
    statuses = sorted(r["status"] for r in _json_lines(resumed.stdout))
    assert statuses.count("duplicate") >= committed and len(statuses) == 3
    verify = run_cli("verify", "--json", home=home)
    assert json.loads(verify.stdout)["ok"] and len(json.loads(verify.stdout)["records"]) == 3
    # Every page carries the national motto, so all three records must be searchable.
    found = json.loads(run_cli("search", "--json", "hanh phuc", home=home).stdout)
    assert {h["record_id"] for h in found["hits"]} == {
        r["record_id"] for r in json.loads(verify.stdout)["records"]
    }


def test_search_by_type_without_diacritics_and_an_empty_date_range(
    ingested_copy: IngestedArchive,
) -> None:
    """``--type QD`` and ``loai:qd`` found nothing (only QĐ did); a "from" after the "to"
    gave 0 hits without a word."""
    home, decision = ingested_copy.home, ingested_copy.record_id("quyet-dinh-1482.png")
    typed = ["--type", "QD"], ["--type", "qd"], ["--type", "QĐ"], ["--type", "qđ"]
    for args in [["quyet dinh", *options] for options in typed] + [["quyet dinh loai:qd"]]:
        search = run_cli("search", *args, "--json", home=home)
        assert search.returncode == 0, search.stderr
        found = json.loads(search.stdout)
        assert [hit["record_id"] for hit in found["hits"]] == [decision], args
        assert [f["value"] for f in found["facets"]["doc_type"]] == ["QĐ"]  # as written
    empty = run_cli("search", "nam", "--from", "2024-01-01", "--to", "2020-01-01", home=home)
    assert empty.returncode == 0 and "0 record(s)" in empty.stdout, empty.stderr
    assert "the date range is empty: from 2024-01-01 is after to 2020-01-01" in empty.stderr
    typed = run_cli("search", "nam tu:2024-01-01 den:2020-01-01", "--json", home=home)
    assert "the date range is empty" in typed.stderr and json.loads(typed.stdout)["total"] == 0
    fine = run_cli("search", "nam", "--from", "2015-01-01", "--json", home=home)
    assert "date range" not in fine.stderr
