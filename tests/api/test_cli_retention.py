"""The retention commands as the archive's people use them: users and keys, schedule, due,
holds, a destruction proposed, approved twice and executed, a transfer, the audit."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from archive.home import ArchiveHome
from tests.ingest.pki import make_pdf

ROOT = Path(__file__).resolve().parents[2]


def _cli(home: ArchiveHome, *args: str, key: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "LUUTRU_API_KEY"}
    env["PYTHONPATH"] = str(ROOT)
    if key is not None:
        env["LUUTRU_API_KEY"] = key
    return subprocess.run(
        [sys.executable, "-m", "api.cli", "--home", str(home.root), *args],
        capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL, timeout=300,
    )  # fmt: skip


Office = tuple[ArchiveHome, dict[str, str], dict[str, str]]


@pytest.fixture(scope="module")
def office_made_once(tmp_path_factory: pytest.TempPathFactory) -> Office:
    """An office's archive, made once through the commands (users, three records); each
    test works on a copy (``office``)."""
    tmp_path = tmp_path_factory.mktemp("office")
    home = ArchiveHome(tmp_path / "home")
    assert _cli(home, "init").returncode == 0
    keys = {}
    for name, role in [("van.thu", "archivist"), ("hd.mot", "approver"), ("hd.hai", "approver"),
                       ("phap.che", "legal")]:  # fmt: skip
        made = _cli(home, "users", "add", name, "--role", role, "--clearance", "secret", "--json")
        assert made.returncode == 0, made.stderr
        answer = json.loads(made.stdout)
        assert set(answer) == {"name", "role", "clearance", "api_key"}
        keys[name] = answer["api_key"]
    ids = {}
    for name, series, year in [("cu", "CV", 2010), ("moi", "CV", 2022), ("quy-che", "QC", 2010)]:
        pdf = tmp_path / f"{name}.pdf"
        pdf.write_bytes(make_pdf(f"Cong van {name}"))
        done = _cli(
            home, "ingest", str(pdf), "--series", series, "--closed-year", str(year), "--json"
        )
        assert done.returncode == 0, done.stderr
        ids[name] = json.loads(done.stdout)["record_id"]
    return home, keys, ids


@pytest.fixture
def office(office_made_once: Office, tmp_path: Path) -> Office:
    made, keys, ids = office_made_once
    home = ArchiveHome(tmp_path / "home")
    shutil.copytree(made.root, home.root)
    return home, dict(keys), dict(ids)


def test_schedule_and_due(office, tmp_path: Path) -> None:
    home, _, ids = office
    schedule = json.loads(_cli(home, "retention", "schedule", "--json").stdout)
    cv = next(s for s in schedule["series"] if s["code"] == "CV")
    assert (cv["years"], cv["action"]) == (10, "destroy")
    assert next(s for s in schedule["series"] if s["code"] == "QC")["years"] is None
    due = json.loads(_cli(home, "retention", "due", "--as-of", "2020-12-31", "--json").stdout)
    assert due["due"] == []
    due = json.loads(_cli(home, "retention", "due", "--as-of", "2021-01-01", "--json").stdout)
    assert {(d["record_id"], d["action"], d["due_date"], d["held"]) for d in due["due"]} == {
        (ids["cu"], "destroy", "2021-01-01", False),
        (ids["quy-che"], "transfer", "2021-01-01", False),
    }
    mine = tmp_path / "lich.toml"
    mine.write_text(
        '[[series]]\ncode = "CV"\ntitle = "Công văn"\nperiod = "20 năm"\naction = "destroy"\n'
    )
    assert _cli(home, "retention", "schedule", "--load", str(mine)).returncode == 0
    assert (
        json.loads(_cli(home, "retention", "due", "--as-of", "2026-01-01", "--json").stdout)["due"]
        == []
    )
    bad = tmp_path / "sai.toml"
    bad.write_text(
        '[[series]]\ncode = "X"\ntitle = "x"\nperiod = "Vĩnh viễn"\naction = "destroy"\n'
    )
    refused = _cli(home, "retention", "schedule", "--load", str(bad))
    assert refused.returncode == 7 and "never destroyed" in refused.stderr


def test_the_whole_destruction_with_every_refusal(office) -> None:
    home, keys, ids = office
    # Proposed by the archivist, with the archivist's key, and only so.
    assert _cli(home, "dispose", "propose", "--as", "van.thu", key=keys["hd.mot"]).returncode == 11
    assert _cli(home, "dispose", "propose", "--as", "ai.do", key=keys["van.thu"]).returncode == 11
    assert _cli(home, "dispose", "propose", "--as", "van.thu").returncode == 11  # no key at all
    assert _cli(home, "dispose", "propose", "--as", "hd.mot", key=keys["hd.mot"]).returncode == 11
    proposed = _cli(home, "dispose", "propose", "--as", "van.thu", "--json", key=keys["van.thu"])
    assert proposed.returncode == 0, proposed.stderr
    listed = json.loads(proposed.stdout)
    assert listed["records"] == [ids["cu"]]
    list_id = str(listed["list_id"])
    shown = json.loads(_cli(home, "show", ids["cu"], "--json").stdout)
    assert shown["status"] == "xem-xet-huy"

    def execute() -> subprocess.CompletedProcess[str]:
        return _cli(
            home, "dispose", "execute", list_id, "--as", "van.thu", "--json", key=keys["van.thu"]
        )

    assert execute().returncode == 12  # no approval
    assert (
        _cli(home, "dispose", "approve", list_id, "--as", "van.thu", key=keys["van.thu"]).returncode
        == 11
    )
    assert (
        _cli(home, "dispose", "approve", list_id, "--as", "hd.mot", key=keys["hd.mot"]).returncode
        == 0
    )
    assert execute().returncode == 12  # one approval
    again = _cli(home, "dispose", "approve", list_id, "--as", "hd.mot", key=keys["hd.mot"])
    assert again.returncode == 12 and "already approved" in again.stderr
    assert (
        _cli(home, "dispose", "approve", list_id, "--as", "hd.hai", key=keys["hd.hai"]).returncode
        == 0
    )
    done = execute()
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["destroyed"] == [ids["cu"]] and result["report_record_id"]
    tombstone = json.loads(_cli(home, "show", ids["cu"], "--json").stdout)
    assert tombstone["status"] == "destroyed"
    assert tombstone["disposition"]["by"] == "van.thu" and tombstone["files"][0]["sha256"]
    assert tombstone["text"] == ""
    assert _cli(home, "verify").returncode == 0
    found = json.loads(_cli(home, "search", "cong van cu", "--json").stdout)
    assert ids["cu"] not in [h["record_id"] for h in found["hits"]]
    report = json.loads(_cli(home, "show", result["report_record_id"], "--json").stdout)
    assert report["series_code"] == "BB-HUY"
    events = json.loads(_cli(home, "audit", "--record", ids["cu"], "--json").stdout)["events"]
    kinds = [e["kind"] for e in events]
    assert "destroyed" in kinds and "Xem xét hủy" in kinds
    # The tombstone is not edited: not re-sealed, not put back into the search index.
    edited = _cli(home, "edit", ids["cu"], "--access", "secret", "--reason", "chứa thông tin mật")
    assert edited.returncode == 12, edited.stderr
    assert "was destroyed on" in edited.stderr and f"disposal list {list_id}" in edited.stderr
    checked = _cli(home, "verify")
    assert checked.returncode == 0 and "index entries" not in checked.stdout + checked.stderr
    assert json.loads(_cli(home, "show", ids["cu"], "--json").stdout)["access"] == "internal"


def test_a_held_record_is_never_proposed_nor_destroyed(office) -> None:
    home, keys, ids = office
    held = _cli(home, "hold", "add", ids["cu"], "--reason", "vụ kiện số 5", "--as", "phap.che",
                "--json", key=keys["phap.che"])  # fmt: skip
    assert held.returncode == 0, held.stderr
    refused = _cli(home, "dispose", "propose", "--as", "van.thu", key=keys["van.thu"])
    assert refused.returncode == 12 and "no record is due" in refused.stderr
    holds = json.loads(_cli(home, "hold", "list", "--json").stdout)["holds"]
    assert holds[0]["records"] == 1 and holds[0]["released_at"] is None
    hold_id = str(holds[0]["id"])
    # Released as it was put: by a user whose role may hold, proven by their key, saying why.
    assert _cli(home, "hold", "release", hold_id, "--reason", "xong").returncode == 2  # no --as
    assert _cli(home, "hold", "release", hold_id, "--as", "phap.che",
                key=keys["phap.che"]).returncode == 2  # no --reason  # fmt: skip
    assert _cli(home, "hold", "release", hold_id, "--as", "phap.che", "--reason", "xong",
                key=keys["van.thu"]).returncode == 11  # not their key  # fmt: skip
    assert _cli(home, "hold", "release", hold_id, "--as", "hd.mot", "--reason", "xong",
                key=keys["hd.mot"]).returncode == 11  # an approver may not  # fmt: skip
    assert _cli(home, "hold", "list", "--json").stdout.count('"released_at": null') == 1
    released = _cli(home, "hold", "release", hold_id, "--as", "phap.che", "--reason",
                    "vụ kiện số 5 đã xét xử xong", "--json", key=keys["phap.che"])  # fmt: skip
    assert released.returncode == 0, released.stderr
    (hold,) = json.loads(_cli(home, "hold", "list", "--json").stdout)["holds"]
    assert hold["released_by"] == "phap.che"
    assert hold["release_reason"] == "vụ kiện số 5 đã xét xử xong"
    events = json.loads(_cli(home, "audit", "--record", ids["cu"], "--json").stdout)["events"]
    (gone,) = [e for e in events if e["kind"] == "hold released"]
    assert gone["agent"] == "phap.che" and "vụ kiện số 5 đã xét xử xong" in gone["detail"]
    by_query = _cli(home, "hold", "add", "--query", "Cong van", "--reason", "thanh tra", "--json")
    assert by_query.returncode == 0, by_query.stderr
    assert json.loads(by_query.stdout)["records"] == 3
    # A series as the schedule spells it, however typed: records are filed under that.
    by_series = _cli(home, "hold", "add", "--series", "cv", "--reason", "kiểm toán", "--json")
    assert by_series.returncode == 0 and json.loads(by_series.stdout)["target"] == "CV"
    assert _cli(home, "hold", "add", "--series", "XX", "--reason", "x").returncode == 2


def test_transfer_to_the_historical_archive(office, tmp_path: Path) -> None:
    home, keys, ids = office
    proposed = _cli(home, "dispose", "propose", "--action", "transfer", "--as", "van.thu", "--json",
                    key=keys["van.thu"])  # fmt: skip
    list_id = str(json.loads(proposed.stdout)["list_id"])
    for approver in ("hd.mot", "hd.hai"):
        assert (
            _cli(
                home, "dispose", "approve", list_id, "--as", approver, key=keys[approver]
            ).returncode
            == 0
        )
    out = tmp_path / "nop-luu"
    done = _cli(
        home, "transfer", list_id, "-o", str(out), "--as", "van.thu", "--json", key=keys["van.thu"]
    )
    assert done.returncode == 0, done.stderr
    (bag,) = json.loads(done.stdout)["bags"]
    assert (Path(bag) / "bagit.txt").is_file()
    assert (
        json.loads(_cli(home, "show", ids["quy-che"], "--json").stdout)["status"] == "transferred"
    )
    edited = _cli(home, "edit", ids["quy-che"], "--closed-year", "2025", "--reason", "sửa năm")
    assert edited.returncode == 12, edited.stderr
    assert "was transferred" in edited.stderr and f"disposal list {list_id}" in edited.stderr
    assert _cli(home, "verify").returncode == 0


def test_a_list_is_proposed_for_today_and_a_blocked_one_cancelled(office) -> None:
    home, keys, ids = office
    archivist = ("--as", "van.thu")
    later = _cli(home, "dispose", "propose", *archivist, "--as-of", "2099-01-01",
                 key=keys["van.thu"])  # fmt: skip
    assert later.returncode == 2 and "retention due --as-of 2099-01-01" in later.stderr
    assert json.loads(_cli(home, "show", ids["moi"], "--json").stdout)["status"] == "active"
    # 'review' is the archivist's record by record: not offered, not taken.
    helped = _cli(home, "dispose", "propose", "--help")
    assert "transfer" in helped.stdout and "review" not in helped.stdout
    assert _cli(home, "dispose", "propose", *archivist, "--action", "review",
                key=keys["van.thu"]).returncode == 2  # fmt: skip
    proposed = _cli(home, "dispose", "propose", *archivist, "--json", key=keys["van.thu"])
    list_id = str(json.loads(proposed.stdout)["list_id"])
    for approver in ("hd.mot", "hd.hai"):
        assert _cli(home, "dispose", "approve", list_id, "--as", approver,
                    key=keys[approver]).returncode == 0  # fmt: skip
    assert _cli(home, "hold", "add", ids["cu"], "--reason", "thanh tra", "--as", "phap.che",
                key=keys["phap.che"]).returncode == 0  # fmt: skip
    blocked = _cli(home, "dispose", "execute", list_id, *archivist, key=keys["van.thu"])
    assert blocked.returncode == 12 and "legal hold" in blocked.stderr

    def cancel(user: str, *reason: str) -> subprocess.CompletedProcess[str]:
        return _cli(home, "dispose", "cancel", list_id, "--as", user, *reason, "--json",
                    key=keys[user])  # fmt: skip

    assert cancel("hd.mot").returncode == 2  # no --reason
    assert cancel("van.thu", "--reason", "x").returncode == 11  # approving's roles only
    cancelled = cancel("hd.mot", "--reason", "hồ sơ bị thanh tra giữ")
    assert cancelled.returncode == 0, cancelled.stderr
    view = json.loads(cancelled.stdout)
    assert (view["status"], view["cancelled_by"], view["cancel_reason"]) == (
        "cancelled", "hd.mot", "hồ sơ bị thanh tra giữ")  # fmt: skip
    assert json.loads(_cli(home, "show", ids["cu"], "--json").stdout)["status"] == "active"
    assert "cancelled" in _cli(home, "dispose", "show", list_id).stdout
    events = json.loads(_cli(home, "audit", "--json").stdout)["events"]
    (said,) = [e for e in events if e["kind"] == "cancelled"]
    assert said["agent"] == "hd.mot" and "hồ sơ bị thanh tra giữ" in said["detail"]
    again = cancel("hd.hai", "--reason", "x")
    assert again.returncode == 12 and "already cancelled" in again.stderr
    refused = _cli(home, "dispose", "execute", list_id, *archivist, key=keys["van.thu"])
    assert refused.returncode == 12 and "was cancelled" in refused.stderr
    # Its record is free again: once the hold is released, a new list takes it.
    hold_id = str(json.loads(_cli(home, "hold", "list", "--json").stdout)["holds"][0]["id"])
    assert _cli(home, "hold", "release", hold_id, "--as", "phap.che", "--reason", "xong",
                key=keys["phap.che"]).returncode == 0  # fmt: skip
    anew = _cli(home, "dispose", "propose", *archivist, "--json", key=keys["van.thu"])
    assert anew.returncode == 0, anew.stderr
    assert json.loads(anew.stdout)["records"] == [ids["cu"]]
