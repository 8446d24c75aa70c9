"""A record destroyed under a disposal list, as the commands tell it: its original WAS
archived and is no longer (verify --file), verify checks its tombstone and says destroyed,
never intact, a re-ingest of its original is refused with the destruction named, and
evidence is refused naming the destruction rather than reporting a missing blob."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from archive.evidence import write_evidence
from archive.home import ArchiveHome
from archive.models import AccessLevel, Record
from archive.repository import Archive
from archive.users import Role, add_user
from retention.disposition import Agency, approve, execute, propose
from retention.schedule import Action, load_schedule
from tests.conftest import run_cli
from tests.ingest.pki import make_pdf


@dataclass(frozen=True)
class Destroyed:
    home: ArchiveHome
    original: Path
    victim: str
    survivor: str
    list_id: int
    report_id: str
    bundle: Path  # the victim's evidence, made before it was destroyed


@pytest.fixture
def destroyed(tmp_path: Path) -> Destroyed:
    """Two letters of series CV closed in 2010 (due in 2021) and one closed in 2022; the
    due ones destroyed by an approved list."""
    home = ArchiveHome(tmp_path / "home")
    assert run_cli("init", home=home).returncode == 0
    inputs = tmp_path / "in"
    inputs.mkdir()
    ids = {}
    for name, year in (("cu", 2010), ("moi", 2022)):
        pdf = inputs / f"{name}.pdf"
        pdf.write_bytes(make_pdf(f"Cong van {name} ve viec luu tru"))
        done = run_cli(
            "ingest",
            str(pdf),
            "--series",
            "CV",
            "--closed-year",
            str(year),
            "--access",
            "public",
            "--json",
            home=home,
        )
        assert done.returncode == 0, done.stderr
        ids[name] = json.loads(done.stdout)["record_id"]
    with Archive.open(home) as archive:
        people = {
            name: add_user(archive, name, role, AccessLevel.SECRET, "test")[0]
            for name, role in (
                ("van.thu", Role.ARCHIVIST),
                ("hd.mot", Role.APPROVER),
                ("hd.hai", Role.APPROVER),
            )
        }
        write_evidence(archive, ids["cu"], tmp_path / "before.zip")
        schedule = load_schedule()
        made = propose(archive, schedule, Action.DESTROY, people["van.thu"], date(2026, 12, 2))
        approve(archive, made.id, people["hd.mot"])
        approve(archive, made.id, people["hd.hai"])
        done = execute(archive, schedule, made.id, people["van.thu"], Agency("UBND", "Hà Nội"))
    assert done.destroyed == [ids["cu"]] and done.report_record_id
    return Destroyed(
        home,
        inputs / "cu.pdf",
        ids["cu"],
        ids["moi"],
        made.id,
        done.report_record_id,
        tmp_path / "before.zip",
    )


def _today() -> str:
    return datetime.now(UTC).date().isoformat()


def test_verify_file_says_the_file_was_the_original_of_a_destroyed_record(
    destroyed: Destroyed,
) -> None:
    said = run_cli("verify", "--file", str(destroyed.original), home=destroyed.home)
    # Not archived any more: the status of a file that is not in the archive.
    assert said.returncode == 4, said.stdout + said.stderr
    text = " ".join(said.stdout.split())
    assert f"was the original of record {destroyed.victim}" in text
    assert f"destroyed on {_today()} under disposal list {destroyed.list_id}" in text
    assert f"record of destruction {destroyed.report_id}" in text
    assert "intact" not in text
    answer = json.loads(
        run_cli("verify", "--file", str(destroyed.original), "--json", home=destroyed.home).stdout
    )
    assert answer["archived"] is False and answer["destroyed"] is True
    [hit] = answer["records"]
    assert hit["record_id"] == destroyed.victim and hit["state"] == "destroyed"
    assert hit["intact"] is None
    assert hit["destroyed"]["disposal_list_id"] == destroyed.list_id
    assert hit["destroyed"]["destruction_record_id"] == destroyed.report_id


def test_verify_lists_a_destroyed_record_as_destroyed_with_its_tombstone_checked(
    destroyed: Destroyed,
) -> None:
    table = run_cli("verify", home=destroyed.home)
    assert table.returncode == 0, table.stdout + table.stderr
    row = next(line for line in table.stdout.splitlines() if destroyed.victim in line)
    assert "destroyed on" in row and "tombstone checked" in row and "intact" not in row
    answer = json.loads(run_cli("verify", "--json", home=destroyed.home).stdout)
    states = {r["record_id"]: r["state"] for r in answer["records"]}
    assert states[destroyed.victim] == "destroyed" and states[destroyed.survivor] == "intact"
    victim = next(r for r in answer["records"] if r["record_id"] == destroyed.victim)
    assert victim["destroyed"]["disposal_list_id"] == destroyed.list_id
    shown = json.loads(run_cli("show", destroyed.victim, "--json", home=destroyed.home).stdout)
    event = shown["events"][0]
    assert event["kind"] == "fixity check" and event["outcome"] == "pass"
    assert "destroyed" in event["detail"] and "0 file(s) intact" not in event["detail"]


def test_a_tombstone_that_was_tampered_with_is_still_damage(destroyed: Destroyed) -> None:
    with Archive.open(destroyed.home) as archive, archive.session() as session, session.begin():
        record = session.get(Record, destroyed.victim)
        assert record is not None
        record.title = "khác"
    answer = json.loads(run_cli("verify", "--json", home=destroyed.home).stdout)
    assert answer["damaged"] == [destroyed.victim]


def test_re_ingesting_a_destroyed_original_is_refused_with_a_warning(
    destroyed: Destroyed,
) -> None:
    again = run_cli("ingest", str(destroyed.original), "--json", home=destroyed.home)
    assert again.returncode == 1, again.stdout + again.stderr  # not archived
    [line] = [json.loads(x) for x in again.stdout.splitlines() if x.startswith("{")]
    assert line["status"] == "destroyed" and line["record_id"] == destroyed.victim
    warning = line["warning"]
    assert f"destroyed on {_today()} under disposal list {destroyed.list_id}" in warning
    assert "NOT archived again" in warning
    assert "destroyed under a disposal list" in again.stderr
    with Archive.open(destroyed.home) as archive:
        tombstone = archive.get(destroyed.victim, AccessLevel.SECRET)
        assert tombstone.status == "destroyed"
        # Nothing of the destroyed bytes came back: not as a blob, not in quarantine.
        assert not any(archive.blobs.exists(f.sha256) for f in tombstone.files)
        assert archive.quarantined() == []
    plain = run_cli("ingest", str(destroyed.original), home=destroyed.home)
    assert "destroyed" in plain.stdout and "duplicate " not in plain.stdout


def test_evidence_of_a_destroyed_record_is_refused_naming_the_destruction(
    destroyed: Destroyed, tmp_path: Path
) -> None:
    target = tmp_path / "x.zip"
    refused = run_cli("evidence", destroyed.victim, "-o", str(target), home=destroyed.home)
    assert refused.returncode == 12, refused.stdout + refused.stderr
    message = " ".join(refused.stderr.split())
    assert f"record {destroyed.victim} was destroyed on {_today()}" in message
    assert f"under disposal list {destroyed.list_id}" in message
    assert destroyed.report_id in message and "missing from the blob store" not in message
    assert not target.exists()
    with TestClient(create_app(destroyed.home)) as client:
        gone = client.get(f"/api/v1/records/{destroyed.victim}/evidence")
    body = gone.json()
    assert gone.status_code == 410 and set(body) == {"error"}
    assert body["error"]["code"] == "gone"
    assert f"disposal list {destroyed.list_id}" in body["error"]["message"]
    assert not list(destroyed.home.root.glob(".evidence-*"))  # no temp folder left behind


def test_the_verify_page_and_api_say_a_file_or_bundle_of_a_destroyed_record_is_gone(
    destroyed: Destroyed,
) -> None:
    original = destroyed.original.read_bytes()
    with TestClient(create_app(destroyed.home)) as client:
        answer = client.post("/api/v1/verify", files={"upload": ("cu.pdf", original)}).json()
        assert answer["archived"] is False and answer["intact"] is False
        [hit] = answer["records"]
        assert hit["record_id"] == destroyed.victim and hit["intact"] is None
        assert hit["destroyed"]["disposal_list_id"] == destroyed.list_id
        page = client.post("/verify", files={"file": ("cu.pdf", original)})
        assert "tài liệu chứa nó đã bị hủy" in page.text and ", nguyên vẹn" not in page.text
        bundle = destroyed.bundle.read_bytes()
        said = client.post("/api/v1/verify", files={"upload": ("b.zip", bundle)}).json()
        assert said["intact"] and said["made_here"] and said["archived"] is False
        assert f"under disposal list {destroyed.list_id}" in said["reason"]
        page = client.post("/verify", files={"file": ("b.zip", bundle)})
        assert "đã bị hủy" in page.text and "Gói chứng cứ hợp lệ" not in page.text
