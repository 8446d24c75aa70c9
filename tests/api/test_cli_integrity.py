"""The integrity commands as a legal officer uses them: fingerprint at init, verify with a
pinned key, a kept checkpoint and a witness, evidence, verify --file, key rotation, incoming
signatures shown by `show`, and an archive made before the log brought into it."""

from __future__ import annotations

import json
import os
import re
import sqlite3
from pathlib import Path

import pytest

from archive.home import ArchiveHome
from archive.signing import PASSPHRASE_ENV
from tests.conftest import run_cli
from tests.ingest import pki


def _init(home: ArchiveHome) -> str:
    done = run_cli("init", home=home)
    assert done.returncode == 0, done.stderr
    found = re.search(r"Key fingerprint: ([0-9a-f]{64})", done.stdout)
    assert found, done.stdout
    return found.group(1)


def _pdf(folder: Path, name: str, text: str) -> Path:
    target = folder / name
    target.write_bytes(pki.make_pdf(text))
    return target


@pytest.fixture
def archived(tmp_path: Path) -> tuple[ArchiveHome, str, Path]:
    """An archive of three born-digital PDFs (no OCR: quick), with its written-down key."""
    home = ArchiveHome(tmp_path / "home")
    fingerprint = _init(home)
    inputs = tmp_path / "in"
    inputs.mkdir()
    for n in range(3):
        _pdf(inputs, f"cong-van-{n}.pdf", f"Cong van so {n} ve viec luu tru")
    done = run_cli("ingest", str(inputs), "--json", "--access", "public", home=home)
    assert done.returncode == 0, done.stderr
    return home, fingerprint, inputs


def test_init_prints_the_fingerprint_and_warns_of_an_unencrypted_key(tmp_path: Path) -> None:
    home = ArchiveHome(tmp_path / "home")
    done = run_cli("init", home=home)
    assert "Write it down outside the archive" in done.stdout
    assert "UNENCRYPTED" in done.stderr
    keys = run_cli("keys", "show", "--json", home=home)
    assert json.loads(keys.stdout)["private_key"] == "NOT encrypted"


def test_a_passphrase_encrypts_the_key_and_sealing_needs_it(tmp_path: Path, monkeypatch) -> None:
    home = ArchiveHome(tmp_path / "home")
    monkeypatch.setenv(PASSPHRASE_ENV, "một câu mật khẩu dài")
    done = run_cli("init", home=home)
    assert done.returncode == 0 and "UNENCRYPTED" not in done.stderr
    assert (
        json.loads(run_cli("keys", "show", "--json", home=home).stdout)["private_key"]
        == "encrypted"
    )
    scan = _pdf(tmp_path, "a.pdf", "Quyet dinh")
    monkeypatch.delenv(PASSPHRASE_ENV)
    refused = run_cli("ingest", str(scan), home=home)
    assert refused.returncode == 7 and PASSPHRASE_ENV in refused.stderr
    monkeypatch.setenv(PASSPHRASE_ENV, "một câu mật khẩu dài")
    assert run_cli("ingest", str(scan), home=home).returncode == 0
    # Reading and verifying need no passphrase.
    monkeypatch.delenv(PASSPHRASE_ENV)
    assert run_cli("verify", home=home).returncode == 0


def test_verify_says_when_nothing_is_pinned_and_checks_a_pinned_key(archived) -> None:
    home, fingerprint, _ = archived
    unpinned = run_cli("verify", home=home)
    assert unpinned.returncode == 0, unpinned.stdout
    assert "not checked against a trusted key" in unpinned.stdout
    assert "Log: 3 entries, 3 signed checkpoints, consistent" in unpinned.stdout
    pinned = run_cli("verify", "--trusted-key", fingerprint, "--json", home=home)
    assert pinned.returncode == 0 and json.loads(pinned.stdout)["trusted_keys_pinned"]
    wrong = run_cli("verify", "--trusted-key", "ab" * 32, "--json", home=home)
    assert wrong.returncode == 5
    # A key that is not trusted is a trust problem, not damage (see test_a_wrong_trusted_…).
    assert json.loads(wrong.stdout)["damaged"] == []
    assert len(json.loads(wrong.stdout)["untrusted_records"]) == 3
    assert run_cli("verify", "--trusted-key", "abc", home=home).returncode == 2


def test_verify_names_every_damaged_record_and_keeps_events(archived) -> None:
    home, _, _ = archived
    db = sqlite3.connect(home.root / "luutru.db")
    ids = [row[0] for row in db.execute("SELECT id FROM records ORDER BY id")]
    db.execute("UPDATE records SET access = 'secret' WHERE id = ?", (ids[0],))
    db.execute("UPDATE records SET title = 'khác' WHERE id = ?", (ids[2],))
    db.commit()
    db.close()
    done = run_cli("verify", "--json", home=home)
    assert done.returncode == 5
    assert json.loads(done.stdout)["damaged"] == [ids[0], ids[2]]
    shown = json.loads(run_cli("show", ids[0], "--json", home=home).stdout)
    assert shown["events"][0]["kind"] == "fixity check"
    assert shown["events"][0]["outcome"] == "fail"
    intact = json.loads(run_cli("show", ids[1], "--json", home=home).stdout)
    assert intact["events"][0]["outcome"] == "pass"
    assert intact["log"] and intact["log"][0]["kind"] == "seal"


def test_verify_file_finds_the_record_of_a_file(archived, tmp_path: Path) -> None:
    home, _, inputs = archived
    found = run_cli("verify", "--file", str(inputs / "cong-van-1.pdf"), "--json", home=home)
    assert found.returncode == 0, found.stderr
    answer = json.loads(found.stdout)
    assert answer["archived"] and answer["records"][0]["role"] == "original"
    assert answer["records"][0]["intact"]
    stranger = _pdf(tmp_path, "other.pdf", "Khong co trong kho")
    missing = run_cli("verify", "--file", str(stranger), home=home)
    assert missing.returncode == 4 and "not in the archive" in missing.stdout


def test_evidence_then_verify_bundle_with_the_written_down_key(archived, tmp_path: Path) -> None:
    home, fingerprint, _ = archived
    db = sqlite3.connect(home.root / "luutru.db")
    # The first entry of the log (two workers seal in either order).
    record_id = db.execute("SELECT record_id FROM log_entries WHERE seq = 0").fetchone()[0]
    db.close()
    bundle = tmp_path / "bang-chung.zip"
    made = run_cli("evidence", record_id[:8], "-o", str(bundle), "--json", home=home)
    assert made.returncode == 0, made.stderr
    assert json.loads(made.stdout)["leaf_index"] == 0
    checked = run_cli("verify", str(bundle), "--trusted-key", fingerprint, "--json")
    assert checked.returncode == 0, checked.stdout
    assert json.loads(checked.stdout)["record_id"] == record_id
    again = run_cli("evidence", record_id[:8], "-o", str(bundle), home=home)
    assert again.returncode == 2 and "exists" in again.stderr  # a bundle is never replaced
    assert json.loads(run_cli("verify", str(bundle), "--json").stdout)["record_id"] == record_id


def test_verify_tells_a_path_from_a_record_id(archived, tmp_path: Path) -> None:
    home, _, inputs = archived
    absent = run_cli("verify", str(tmp_path / "khong-co.zip"), home=home)
    assert absent.returncode == 2 and "no such file" in absent.stderr
    scan = run_cli("verify", str(inputs / "cong-van-1.pdf"), home=home)
    assert scan.returncode == 2 and "verify --file" in scan.stderr
    assert run_cli("verify", "0000000000", home=home).returncode == 4  # an id: no record


def test_a_kept_checkpoint_and_a_witness(archived, tmp_path: Path) -> None:
    home, _, _ = archived
    kept = tmp_path / "checkpoint-2026.txt"
    kept.write_text(run_cli("log", "checkpoint", home=home).stdout)
    assert kept.read_text().split("\n")[1] == "3"
    witness_key = tmp_path / "witness.key"
    vkey = run_cli(
        "log", "witness-key", "vien-kiem-sat.example", "-o", str(witness_key)
    ).stdout.strip()
    assert os.stat(witness_key).st_mode & 0o777 == 0o600
    assert run_cli("verify", "--witness-key", vkey, home=home).returncode == 5  # not co-signed yet
    cosigned = tmp_path / "cosigned.txt"
    signed = run_cli("log", "witness-sign", str(kept), "--key", str(witness_key))
    assert signed.returncode == 0, signed.stderr
    cosigned.write_text(signed.stdout)
    assert run_cli("log", "cosign", str(cosigned), home=home).returncode == 0
    done = run_cli("verify", "--checkpoint", str(kept), "--witness-key", vkey, home=home)
    assert done.returncode == 0, done.stdout
    # More records later: still consistent with the kept checkpoint.
    more = tmp_path / "more"
    more.mkdir()
    _pdf(more, "bao-cao.pdf", "Bao cao nam")
    assert run_cli("ingest", str(more), home=home).returncode == 0
    assert run_cli("verify", "--checkpoint", str(kept), home=home).returncode == 0


def test_key_rotation_keeps_old_seals_verifying(archived, tmp_path: Path) -> None:
    home, old_fingerprint, _ = archived
    rotated = run_cli("keys", "rotate", "--json", home=home)
    assert rotated.returncode == 0, rotated.stderr
    new_fingerprint = json.loads(rotated.stdout)["fingerprint"]
    later = tmp_path / "later"
    later.mkdir()
    _pdf(later, "sau.pdf", "Sau khi doi khoa")
    assert run_cli("ingest", str(later), home=home).returncode == 0
    both = run_cli(
        "verify", "--trusted-key", old_fingerprint, "--trusted-key", new_fingerprint, home=home
    )
    assert both.returncode == 0, both.stdout
    assert "Log: 5 entries" in both.stdout  # 4 seals and the rotation
    only_old = run_cli("verify", "--trusted-key", old_fingerprint, "--json", home=home)
    assert only_old.returncode == 5
    keys = json.loads(run_cli("keys", "show", "--json", home=home).stdout)
    assert len(keys["published"]) == 2


def test_incoming_signatures_are_validated_sealed_and_shown(tmp_path: Path) -> None:
    home = ArchiveHome(tmp_path / "home")
    _init(home)
    hierarchy = pki.pki()
    pki.write_trust_folder(home.root / "trust-roots", hierarchy.bcy_root, hierarchy.public_root)
    inputs = tmp_path / "in"
    inputs.mkdir()
    signed = pki.sign_pdf(pki.make_pdf(), hierarchy.agency)
    (inputs / "ky-so.pdf").write_bytes(signed)
    (inputs / "la.pdf").write_bytes(pki.sign_pdf(pki.make_pdf("Khac"), hierarchy.stranger))
    done = run_cli("ingest", str(inputs), "--json", home=home)
    assert done.returncode == 0, done.stderr
    results = {Path(r["path"]).name: r for r in map(json.loads, done.stdout.splitlines())}
    shown = json.loads(
        run_cli("show", results["ky-so.pdf"]["record_id"], "--json", home=home).stdout
    )
    (check,) = shown["signatures"]
    assert check["status"] == "valid" and "Hòa Bình" in check["signer"]
    assert any("Ban Co yeu Chinh phu" in link for link in check["chain"])
    original = next(f for f in shown["files"] if f["role"] == "original")
    import hashlib

    assert original["sha256"] == hashlib.sha256(signed).hexdigest()  # kept byte for byte
    stranger = json.loads(
        run_cli("show", results["la.pdf"]["record_id"], "--json", home=home).stdout
    )
    assert stranger["signatures"][0]["status"] == "unknown-root"
    assert any("unknown-root" in w for w in stranger["warnings"])


def _flip_a_byte(home: ArchiveHome, record_id: str) -> str:
    """One byte of the record's original changed in the blob store; the file's bundle name."""
    from archive.models import AccessLevel, FileRole
    from archive.repository import Archive

    with Archive.open(home) as archive:
        original = archive.get(record_id, AccessLevel.SECRET).file(FileRole.ORIGINAL)
        assert original is not None
        blob = archive.blobs.path_for(original.sha256)  # type: ignore[attr-defined]
    blob.chmod(0o600)
    data = bytearray(blob.read_bytes())
    data[len(data) // 2] ^= 0x01
    blob.write_bytes(bytes(data))
    return f"original/{original.name}"


def test_evidence_of_a_tampered_blob_is_refused_not_written(archived, tmp_path: Path) -> None:
    home, _, _ = archived
    db = sqlite3.connect(home.root / "luutru.db")
    record_id = db.execute("SELECT id FROM records ORDER BY id").fetchone()[0]
    db.close()
    member = _flip_a_byte(home, record_id)
    target = tmp_path / "x.zip"
    refused = run_cli("evidence", record_id, "-o", str(target), home=home)
    assert refused.returncode == 5, refused.stdout + refused.stderr
    message = " ".join(refused.stderr.split())
    assert f"record {record_id}: {member} is not as sealed" in message
    assert "luutru verify" in message and "no evidence bundle was written" in message
    assert not target.exists() and not list(tmp_path.glob(".*"))  # no temp file either


def _fixity_outcomes(home: ArchiveHome) -> set[tuple[str, str]]:
    with sqlite3.connect(home.root / "luutru.db") as db:
        rows = db.execute("SELECT record_id, outcome FROM events WHERE kind = 'fixity check'")
        return set(rows.fetchall())


def test_a_wrong_trusted_key_is_a_trust_problem_kept_in_no_record_history(archived) -> None:
    home, fingerprint, _ = archived
    db = sqlite3.connect(home.root / "luutru.db")
    ids = [row[0] for row in db.execute("SELECT id FROM records ORDER BY id")]
    db.close()
    typo = run_cli("verify", "--trusted-key", "0" * 64, home=home)
    assert typo.returncode == 5, typo.stdout
    said = " ".join((typo.stdout + typo.stderr).split())
    assert "not signed by the trusted key(s) given" in said and "damaged:" not in said
    answer = json.loads(run_cli("verify", "--trusted-key", "0" * 64, "--json", home=home).stdout)
    assert answer["damaged"] == [] and answer["problems"] == [] and not answer["trusted"]
    assert answer["untrusted_records"] == ids
    assert {r["state"] for r in answer["records"]} == {"untrusted"}
    assert _fixity_outcomes(home) == {(record_id, "pass") for record_id in ids}
    # Real damage found on the same run is still kept as a failed check.
    db = sqlite3.connect(home.root / "luutru.db")
    db.execute("UPDATE records SET title = 'khác' WHERE id = ?", (ids[1],))
    db.commit()
    db.close()
    damaged = json.loads(run_cli("verify", "--trusted-key", "0" * 64, "--json", home=home).stdout)
    assert damaged["damaged"] == [ids[1]] and (ids[1], "fail") in _fixity_outcomes(home)
    # The right key still passes everything but the damage.
    right = json.loads(run_cli("verify", "--trusted-key", fingerprint, "--json", home=home).stdout)
    assert right["trusted"] and right["damaged"] == [ids[1]]


def test_a_kept_checkpoint_by_an_untrusted_key_is_a_trust_problem(archived, tmp_path) -> None:
    home, _, _ = archived
    kept = tmp_path / "checkpoint.txt"
    kept.write_text(run_cli("log", "checkpoint", home=home).stdout)
    answer = json.loads(
        run_cli(
            "verify", "--checkpoint", str(kept), "--trusted-key", "0" * 64, "--json", home=home
        ).stdout
    )
    assert answer["problems"] == [] and answer["log"] is not None
    assert any("kept checkpoint" in line for line in answer["untrusted"])


def test_verify_bundle_says_whose_key_signed_it(archived, tmp_path: Path) -> None:
    home, fingerprint, _ = archived
    db = sqlite3.connect(home.root / "luutru.db")
    record_id = db.execute("SELECT id FROM records ORDER BY id").fetchone()[0]
    db.close()
    bundle = tmp_path / "b.zip"
    assert run_cli("evidence", record_id, "-o", str(bundle), home=home).returncode == 0
    pinned = run_cli("verify", str(bundle), "--trusted-key", fingerprint)
    assert pinned.returncode == 0, pinned.stdout
    assert f"signed by key {fingerprint}: a trusted key given" in pinned.stdout
    unpinned = run_cli("verify", str(bundle))
    assert unpinned.returncode == 0 and f"signed by key {fingerprint}" in unpinned.stdout
    other = run_cli("verify", str(bundle), "--trusted-key", "0" * 64)
    assert other.returncode == 5
    assert f"signed by key {fingerprint}: NOT a trusted key given" in other.stdout
