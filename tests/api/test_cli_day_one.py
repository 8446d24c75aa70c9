"""The first hour with the command line: it says what it did, refuses what it must not do,
and stops cleanly. Each test runs the real `luutru` in a child process."""

import io
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from PIL import Image

from api.services import Services
from archive.blobstore import LocalBlobStore
from archive.home import ArchiveHome
from archive.models import AccessLevel
from archive.repository import Archive
from tests.conftest import IngestedArchive, run_cli


def _json_lines(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


def _blank_png(path: Path, shade: int) -> Path:
    buffer = io.BytesIO()
    Image.new("L", (80, 40), shade).save(buffer, format="PNG")
    path.write_bytes(buffer.getvalue())
    return path


def _new_home(tmp_path: Path) -> ArchiveHome:
    home = ArchiveHome(tmp_path / "home")
    assert run_cli("init", home=home).returncode == 0
    return home


def test_access_levels_in_any_case_and_plain_messages(tmp_path: Path) -> None:
    home = _new_home(tmp_path)
    scan = _blank_png(tmp_path / "a.png", 250)
    ok = run_cli("ingest", str(scan), "--access", "Public", "--json", home=home)
    assert ok.returncode == 0, ok.stderr
    record_id = _json_lines(ok.stdout)[0]["record_id"]
    assert json.loads(run_cli("show", record_id, "--json", home=home).stdout)["access"] == "public"
    bad = run_cli("ingest", str(scan), "--access", "Publik", home=home)
    assert bad.returncode == 2
    assert "'Publik' is not one of public, internal, confidential, secret" in bad.stderr
    assert "Value error" not in bad.stderr


def test_closed_year_and_series_are_checked(tmp_path: Path) -> None:
    home = _new_home(tmp_path)
    scan = _blank_png(tmp_path / "a.png", 250)
    for year in ("3000", "1899"):
        result = run_cli("ingest", str(scan), "--closed-year", year, home=home)
        assert result.returncode == 2 and "not a year a file can have been closed" in result.stderr
    result = run_cli("ingest", str(scan), "--series", "XYZ", home=home)
    assert result.returncode == 2
    assert "'XYZ' is not a series of the retention schedule" in result.stderr
    assert "BC-NAM" in result.stderr and "CV" in result.stderr
    with Archive.open(home) as archive:
        assert archive.count_records() == 0


def test_a_duplicate_says_which_options_were_not_applied_and_edit_applies_them(
    ingested_copy: IngestedArchive, sample_scans: list[Path]
) -> None:
    home = ingested_copy.home
    scan = sample_scans[0]
    again = run_cli(
        "ingest", str(scan), "--access", "secret", "--series", "CV", "--json", home=home
    )
    assert again.returncode == 0, again.stderr
    [row] = _json_lines(again.stdout)
    record_id = row["record_id"]
    assert row["status"] == "duplicate"
    assert f"already archived as record {record_id}" in row["warning"]
    assert "--access secret --series CV not applied" in row["warning"]
    assert f"luutru edit {record_id} --access secret --series CV --reason" in row["warning"]
    assert "nothing was changed" in again.stderr

    missing_reason = run_cli("edit", record_id[:8], "--access", "secret", home=home)
    assert missing_reason.returncode == 2 and "--reason" in missing_reason.stderr
    future = run_cli("edit", record_id[:8], "--date", "2999-01-01", "--reason", "x", home=home)
    assert future.returncode == 2 and "no document is issued in the future" in future.stderr
    edit = run_cli(
        "edit", record_id[:8], "--access", "SECRET", "--series", "cv", "--reason",
        "Chứa thông tin mật", "--by", "văn thư Lan", "--json", home=home,
    )  # fmt: skip
    assert edit.returncode == 0, edit.stderr
    assert json.loads(edit.stdout)["changes"] == [
        {"field": "access", "old": "public", "new": "secret"},
        {"field": "series_code", "old": None, "new": "CV"},
    ]
    shown = json.loads(run_cli("show", record_id[:12], "--json", home=home).stdout)
    assert shown["access"] == "secret" and shown["series_code"] == "CV"
    audit = json.loads(run_cli("audit", "--record", record_id, "--json", home=home).stdout)
    edits = [e for e in audit["events"] if e["kind"] == "edited"]
    assert {e["detail"] for e in edits} == {
        "access: public → secret (Chứa thông tin mật)",
        "series_code: ∅ → CV (Chứa thông tin mật)",
    } and {e["agent"] for e in edits} == {"văn thư Lan"}
    assert [(c["field"], c["changed_by"], c["reason"]) for c in shown["changes"]] == [
        ("access", "văn thư Lan", "Chứa thông tin mật"),
        ("series_code", "văn thư Lan", "Chứa thông tin mật"),
    ]
    assert json.loads(run_cli("verify", "--json", home=home).stdout)["ok"]
    public = json.loads(
        run_cli("search", "hanh phuc", "--clearance", "public", "--json", home=home).stdout
    )
    assert record_id not in {hit["record_id"] for hit in public["hits"]}
    assert run_cli("ingest", str(scan), "--json", home=home).stdout.count('"warning": null') == 1


def test_global_options_work_after_the_command(ingested_copy: IngestedArchive) -> None:
    home = str(ingested_copy.home.root)
    result = run_cli("search", "chinh phu", "--home", home, "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["total"] >= 1


def test_quarantine_list_and_retry(tmp_path: Path, sample_scans: list[Path]) -> None:
    home = _new_home(tmp_path)
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not an image at all")
    ingest = run_cli("ingest", str(bad), home=home)
    assert ingest.returncode == 1
    # What a run without the Vietnamese language pack leaves behind: a good scan, kept.
    with Archive.open(home) as archive:
        archive.quarantine(sample_scans[0], "tesseract has no language data for vie")
    listed = json.loads(run_cli("quarantine", "list", "--json", home=home).stdout)["entries"]
    assert [(e["path"], e["copy"] is not None) for e in listed] == [
        (str(bad), True),
        (str(sample_scans[0]), True),
    ]
    assert listed[0]["reason"].startswith("not a supported format")
    assert listed[0]["quarantined_at"]

    retry = run_cli("quarantine", "retry", str(listed[1]["id"]), "--json", home=home)
    assert retry.returncode == 0, retry.stderr
    [row] = _json_lines(retry.stdout)
    assert row["status"] == "sealed" and row["path"] == str(sample_scans[0])
    shown = json.loads(run_cli("show", row["record_id"], "--json", home=home).stdout)
    assert shown["source_name"] == sample_scans[0].name and "QUYẾT ĐỊNH" in shown["text"]
    left = json.loads(run_cli("quarantine", "list", "--json", home=home).stdout)["entries"]
    assert [e["path"] for e in left] == [str(bad)]
    again = run_cli("quarantine", "retry", "--json", home=home)
    assert again.returncode == 1 and _json_lines(again.stdout)[0]["status"] == "quarantined"
    assert run_cli("quarantine", "retry", "999", home=home).returncode == 2


def test_a_truncated_pdf_is_quarantined_as_damaged_by_ingest_and_by_retry(
    tmp_path: Path,
) -> None:
    """A cut PDF whose repair lost objects was quarantined as an "unexpected error:
    AttributeError", with a traceback; ingest and retry now say it is damaged, and nothing
    else."""
    from tests.ingest.pki import make_pdf

    home = _new_home(tmp_path)
    folder = tmp_path / "scans"
    folder.mkdir()
    (folder / "scan-truncated.pdf").write_bytes(make_pdf()[:800])
    ingest = run_cli("ingest", str(folder), "--json", home=home)
    assert ingest.returncode == 1
    assert "Traceback" not in ingest.stdout + ingest.stderr, ingest.stderr
    [said] = _json_lines(ingest.stdout)
    assert said["path"] == str(folder / "scan-truncated.pdf") and said["status"] == "quarantined"
    [entry] = json.loads(run_cli("quarantine", "list", "--json", home=home).stdout)["entries"]
    reason = entry["reason"]
    assert reason.startswith("the PDF is damaged or truncated: 1 of its 7 objects"), reason
    assert "Error" not in reason and "unexpected error" not in reason, reason
    assert said["reason"] == reason
    retry = run_cli("quarantine", "retry", "--json", home=home)
    assert retry.returncode == 1 and "Traceback" not in retry.stderr, retry.stderr
    [row] = _json_lines(retry.stdout)
    assert row["status"] == "quarantined" and row["reason"] == reason, row


def test_a_batch_with_litter_links_devices_and_odd_names_goes_on(tmp_path: Path) -> None:
    home = _new_home(tmp_path)
    scans = tmp_path / "scans"
    scans.mkdir()
    _blank_png(scans / "1.png", 250)
    odd = Path(os.fsdecode(bytes(scans) + b"/\xea\xa7 c\xf4ng v\xe3n.png"))
    _blank_png(odd, 240)
    (scans / "Thumbs.db").write_bytes(b"litter")
    (scans / "key.png").symlink_to(home.keys_dir / "archive-ed25519.pem")
    os.mkfifo(scans / "pipe.png")
    result = run_cli("ingest", str(scans), "--json", home=home)
    rows = {Path(r["path"]).name: r for r in _json_lines(result.stdout)}
    assert result.returncode == 1, result.stderr  # the pipe is quarantined, nothing else
    assert rows["Thumbs.db"]["status"] == "skipped"
    assert rows["key.png"]["status"] == "skipped"
    assert rows["pipe.png"]["status"] == "quarantined"
    assert rows["1.png"]["status"] == "sealed"
    odd_row = rows["\\xea\\xa7 c\\xf4ng v\\xe3n.png"]
    assert odd_row["status"] == "sealed"
    assert "2 sealed, 0 duplicate, 1 quarantined, 2 skipped" in result.stderr
    for path in home.quarantine_dir.rglob("*"):
        assert "PRIVATE" not in (path.read_text(errors="replace") if path.is_file() else "")
    shown = json.loads(run_cli("show", odd_row["record_id"], "--json", home=home).stdout)
    assert shown["title"] == "\\xea\\xa7 c\\xf4ng v\\xe3n"


def test_serve_on_a_busy_port_says_so(ingested_copy: IngestedArchive) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run_cli("serve", "--port", str(port), home=ingested_copy.home)
    assert result.returncode == 10
    assert f"127.0.0.1:{port}" in result.stderr and "try --port" in result.stderr


def test_serve_refuses_an_outdated_schema_and_never_migrates(
    ingested_copy: IngestedArchive,
) -> None:
    database = ingested_copy.home.root / "luutru.db"
    with sqlite3.connect(database) as db:
        db.execute("UPDATE alembic_version SET version_num = '0001'")
    result = run_cli("serve", "--port", "1", home=ingested_copy.home)
    assert result.returncode == 7 and "luutru migrate" in result.stderr
    with sqlite3.connect(database) as db:
        assert db.execute("SELECT version_num FROM alembic_version").fetchone() == ("0001",)


def test_init_refuses_a_home_inside_the_source_tree(tmp_path: Path) -> None:
    package = tmp_path / "archive"
    package.mkdir()
    (package / "__init__.py").write_text("")
    result = run_cli("init", home=ArchiveHome(package))
    assert result.returncode == 2 and "--force" in result.stderr
    assert not (package / "keys").exists()


def test_a_deleted_database_fails_verify(ingested_copy: IngestedArchive) -> None:
    for path in ingested_copy.home.root.glob("luutru.db*"):
        path.unlink()
    for command in (["verify"], ["search", "x"], ["init"]):
        result = run_cli(*command, home=ingested_copy.home)
        assert result.returncode == 5 and "restore" in result.stderr, command
    assert not (ingested_copy.home.root / "luutru.db").exists()


def test_concurrent_ingests_on_one_home_lose_nothing(
    tmp_path: Path, sample_scans: list[Path]
) -> None:
    home = _new_home(tmp_path)
    batches = []
    for n in range(3):
        batch = tmp_path / f"batch{n}"
        batch.mkdir()
        shutil.copy(sample_scans[n], batch / sample_scans[n].name)
        for k in range(4):
            _blank_png(batch / f"blank-{k}.png", 200 + 10 * n + k)
        batches.append(batch)
    children = [
        subprocess.Popen(
            [sys.executable, "-m", "api.cli", "--home", str(home.root), "ingest", str(b),
             str(batches[(i + 1) % 3]), "--workers", "2", "--json"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for i, b in enumerate(batches)
    ]  # fmt: skip
    outputs = [child.communicate(timeout=600) for child in children]
    for child, (_stdout, stderr) in zip(children, outputs, strict=True):
        assert child.returncode == 0, stderr
    rows = [row for stdout, _ in outputs for row in _json_lines(stdout)]
    sealed = {r["record_id"] for r in rows if r["status"] == "sealed"}
    assert len(rows) == 3 * 10 and len(sealed) == 15  # each input sealed once, by someone
    assert {r["record_id"] for r in rows} == sealed
    with Archive.open(home) as archive:
        assert set(archive.record_ids()) == sealed
    everything = run_cli("search", "hanh phuc", "--json", "--limit", "100", home=home)
    assert json.loads(everything.stdout)["total"] == 3
    with Services.open(home) as services:
        assert set(services.index.stamps()) == sealed


def test_sigterm_finishes_what_is_under_way_and_reports_it(
    tmp_path: Path, sample_scans: list[Path]
) -> None:
    home = _new_home(tmp_path)
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    for n in range(3):
        for scan in sample_scans:
            shutil.copy(scan, inputs / f"{n}-{scan.name}")
            with open(inputs / f"{n}-{scan.name}", "ab") as extra:
                extra.write(bytes([n]))  # other bytes, same pages: three records each
    child = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "--home", str(home.root), "ingest", str(inputs),
         "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert child.stdout is not None
    first = child.stdout.readline()
    child.send_signal(signal.SIGTERM)
    rest, stderr = child.communicate(timeout=300)
    rows = _json_lines(first + rest)
    assert child.returncode == 130, stderr
    assert "SIGTERM" in stderr and "Run the same command again" in stderr
    assert 1 <= len(rows) < 9
    with Archive.open(home) as archive:
        assert archive.count_records() == sum(r["status"] == "sealed" for r in rows)


def test_verify_warns_about_a_home_others_can_read(ingested_copy: IngestedArchive) -> None:
    home = ingested_copy.home
    clean = run_cli("verify", "--json", home=home)
    assert clean.returncode == 0 and json.loads(clean.stdout)["warnings"] == []
    (home.root / "luutru.db").chmod(0o644)
    home.blobs_dir.chmod(0o755)
    loose = run_cli("verify", "--json", home=home)
    assert loose.returncode == 0, loose.stderr  # a warning, not damage
    # SQLite gives its -wal and -shm files the database's mode, so they are named too.
    assert {"blobs is drwxr-xr-x", "luutru.db is -rw-r--r--"} <= set(
        json.loads(loose.stdout)["warnings"]
    )
    assert "other users may read this archive" in loose.stderr and "chmod -R go-rwx" in loose.stderr


def test_broken_configuration_and_rows_get_their_exit_status_not_a_traceback(
    ingested_copy: IngestedArchive,
) -> None:
    home = ingested_copy.home
    record_id = ingested_copy.record_id("quyet-dinh-1482.png")
    with sqlite3.connect(home.root / "luutru.db") as db:
        db.execute("UPDATE records SET access = 'bogus' WHERE id = ?", (record_id,))
    for command in (["show", record_id], ["verify", record_id]):
        result = run_cli(*command, home=home)
        assert result.returncode == 5, result.stderr
        assert "Traceback" not in result.stderr + result.stdout
    config = home.config_path.read_text()
    for line, status in (
        ("database_url = 42", 7),
        ('database_url = "not a url"', 7),
        ('database_url = "postgresql+psycopg://luutru:secretpw@127.0.0.1:1/x"', 9),
    ):
        home.config_path.write_text(f"{line}\n{config}")
        result = run_cli("verify", home=home)
        assert result.returncode == status, result.stderr
        assert "Traceback" not in result.stderr and "secretpw" not in result.stderr


def test_review_lists_unsure_pages_and_metadata(tmp_path: Path) -> None:
    home = _new_home(tmp_path)
    blank = tmp_path / "blank.png"
    Image.new("L", (800, 1100), 255).save(blank, dpi=(100, 100))
    ingest = run_cli("ingest", str(blank), "--json", home=home)
    assert ingest.returncode == 0, ingest.stderr
    [row] = _json_lines(ingest.stdout)
    assert "scanned at 100 dpi" in row["warning"] and "1 record(s) sealed with warnings" in (
        ingest.stderr
    )
    [listed] = json.loads(run_cli("review", "--json", home=home).stdout)["records"]
    assert listed["record_id"] == row["record_id"]
    assert listed["pages"] == [{"number": 1, "confidence": None, "flagged": True}]
    assert "metadata: no header found (number, place and date)" in listed["warnings"]
    assert json.loads(run_cli("review", "--clearance", "public", "--json", home=home).stdout) == {
        "records": []
    }


def test_verify_is_the_one_health_check_and_repairs_what_is_not_a_record(
    ingested_copy: IngestedArchive,
) -> None:
    home = ingested_copy.home
    record_id = ingested_copy.record_id("quyet-dinh-1482.png")
    edited = run_cli("edit", record_id, "--title", "Quyết định 1482", "--reason", "x", home=home)
    assert edited.returncode == 0, edited.stderr
    with Services.open(home) as services:
        services.index.remove([record_id])
        old_orphan = services.archive.blobs.put_bytes(b"left by a killed run")
        new_orphan = services.archive.blobs.put_bytes(b"an ingest still running")
    two_days_ago = time.time() - 2 * 86400
    os.utime(LocalBlobStore(home.blobs_dir).path_for(old_orphan), (two_days_ago, two_days_ago))

    found = run_cli("verify", "--json", home=home)
    assert found.returncode == 0, found.stderr
    report = json.loads(found.stdout)
    assert report["ok"] and not report["repaired"]
    # stderr says it too, and whatever else verify met (a rebuilt index would be said there).
    assert report["warnings"] == [
        "1 record(s) missing from the search index",
        "1 blob(s) no record references (left by killed runs)",
    ], found.stderr
    assert "--repair" in found.stderr

    repaired = run_cli("verify", "--repair", "--json", home=home)
    assert json.loads(repaired.stdout)["repaired"]
    clean = json.loads(run_cli("verify", "--json", home=home).stdout)
    assert clean["ok"] and clean["warnings"] == []
    blobs = LocalBlobStore(home.blobs_dir)
    assert not blobs.exists(old_orphan) and blobs.exists(new_orphan)
    with Services.open(home) as services:
        assert record_id in set(services.index.stamps())
        assert services.archive.get(record_id, AccessLevel.SECRET).title == "Quyết định 1482"


def test_verify_says_it_rebuilt_an_index_that_was_gone(ingested_copy: IngestedArchive) -> None:
    home = ingested_copy.home
    first = json.loads(run_cli("verify", "--json", home=home).stdout)
    assert first["ok"] and first["index_rebuilt"] is None
    shutil.rmtree(home.index_dir)
    found = run_cli("verify", "--json", home=home)
    assert found.returncode == 0, found.stderr
    report = json.loads(found.stdout)
    # Rebuilt from the archive, so nothing is missing from it; but the health check says so.
    assert report["ok"] and report["warnings"] == []
    assert report["index_rebuilt"] == (
        f"the search index was rebuilt ({len(ingested_copy.results)} records): "
        "it was missing or could not be opened"
    )
    assert "the search index was rebuilt" in found.stderr
