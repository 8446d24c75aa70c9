"""Evidence bundles: written from the archive, checked from the bundle alone (the standalone
verifier agrees with the RFC 9162 vectors), and every alteration of one is caught."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from archive.bundle import BundleError, root_from_audit_path, verify_bundle
from archive.evidence import write_evidence
from archive.repository import Archive
from tests.archive.conftest import SealScan

VECTORS = Path(__file__).parent / "vectors" / "inclusion.json"
ROOT = Path(__file__).resolve().parents[2]


def test_the_standalone_audit_path_check_agrees_with_the_vectors() -> None:
    cases = json.loads(VECTORS.read_text())["cases"]
    assert len(cases) > 1000
    for case in cases:
        computed = root_from_audit_path(
            bytes.fromhex(case["leaf_hash"]),
            case["index"],
            case["size"],
            [bytes.fromhex(h) for h in case["proof"]],
        )
        accepted = computed is not None and computed == bytes.fromhex(case["root"])
        assert accepted == (case["error"] is None), case["desc"]


@pytest.fixture
def bundle(archive: Archive, seal_scan: SealScan, tmp_path: Path) -> Path:
    ids = []
    for n in range(5):
        scan = tmp_path / f"quyết-định-{n}.png"
        scan.write_bytes(f"scan {n}".encode())
        ids.append(seal_scan(scan).record_id)
    target = tmp_path / "out" / "evidence.zip"
    report = write_evidence(archive, ids[2][:10], target)
    assert (report.leaf_index, report.tree_size, report.files) == (2, 5, 2)
    return target


def _rewrite(
    bundle: Path, change: dict[str, bytes | None], add: dict[str, bytes] | None = None
) -> Path:
    target = bundle.with_name("altered.zip")
    with zipfile.ZipFile(bundle) as source, zipfile.ZipFile(target, "w") as out:
        for info in source.infolist():
            data = source.read(info)
            if info.filename in change:
                replaced = change[info.filename]
                if replaced is None:
                    continue
                data = replaced
            out.writestr(info.filename, data)
        for name, data in (add or {}).items():
            out.writestr(name, data)
    return target


def test_a_bundle_verifies_alone_and_against_the_pinned_key(archive: Archive, bundle: Path) -> None:
    report = verify_bundle(bundle)
    assert report.ok, report.problems
    assert report.files_checked == 2 and report.leaf_index == 2 and report.tree_size == 5
    assert "not checked against a trusted key" in report.notes[0]
    fingerprint = archive.verifier().fingerprint
    assert verify_bundle(bundle, [fingerprint]).ok
    stranger = verify_bundle(bundle, ["0" * 64])
    assert not stranger.ok and any("not a trusted key" in p for p in stranger.problems)


def _member(bundle: Path, prefix: str) -> tuple[str, bytes]:
    with zipfile.ZipFile(bundle) as zf:
        name = next(n for n in zf.namelist() if n.startswith(prefix))
        return name, zf.read(name)


def _flip(data: bytes, index: int = 5) -> bytes:
    return data[:index] + bytes([data[index] ^ 1]) + data[index + 1 :]


@pytest.mark.parametrize(
    ("what", "expected"),
    [
        ("files/original/", "not the file that was archived"),
        ("entry", "not a signature of entry"),
        ("entry.sig", "not a signature of entry"),
        ("checkpoint", "not signed by checkpoint.vkey"),
    ],
)
def test_an_altered_member_is_caught(bundle: Path, what: str, expected: str) -> None:
    name, data = _member(bundle, what) if what.endswith("/") else (what, _member(bundle, what)[1])
    report = verify_bundle(_rewrite(bundle, {name: _flip(data)}))
    assert not report.ok
    assert any(expected in p for p in report.problems), report.problems


def test_a_forged_member_beside_the_genuine_one_is_caught(bundle: Path, tmp_path: Path) -> None:
    """Zip tools show the first of two members of one name; the check must not read only
    the other."""
    name, genuine = _member(bundle, "files/original/")
    forged = tmp_path / "forged.zip"
    with zipfile.ZipFile(bundle) as source, zipfile.ZipFile(forged, "w") as target:
        target.writestr(name, b"forged bytes")
        for info in source.infolist():
            target.writestr(info, source.read(info))
    with zipfile.ZipFile(forged) as opened:
        assert [n for n in opened.namelist() if n == name] == [name, name]
    report = verify_bundle(forged)
    assert not report.ok and f"the bundle holds {name} 2 times" in report.problems
    assert genuine


def test_a_proof_for_another_leaf_or_size_is_caught(bundle: Path) -> None:
    proof = json.loads(_member(bundle, "inclusion.json")[1])
    assert len(proof["hashes"]) == 3
    for changed in ({**proof, "leaf_index": 3}, {**proof, "hashes": proof["hashes"][::-1]}):
        report = verify_bundle(_rewrite(bundle, {"inclusion.json": json.dumps(changed).encode()}))
        assert not report.ok and any("audit path" in p for p in report.problems)
    bigger = {**proof, "tree_size": 6}
    report = verify_bundle(_rewrite(bundle, {"inclusion.json": json.dumps(bigger).encode()}))
    assert any("inclusion.json is for 6 entries" in p for p in report.problems)


def test_a_file_added_or_removed_is_caught(bundle: Path) -> None:
    added = verify_bundle(_rewrite(bundle, {}, {"files/original/thêm.png": b"x"}))
    assert any("not in the manifest" in p for p in added.problems)
    name, _ = _member(bundle, "files/ocr-text/")
    removed = verify_bundle(_rewrite(bundle, {name: None}))
    assert any("lacks files/ocr-text/" in p for p in removed.problems)


def test_a_checkpoint_of_another_log_or_key_is_caught(bundle: Path, tmp_path: Path) -> None:
    from archive.checkpoint import Checkpoint, NoteSigner, sign_checkpoint

    note = _member(bundle, "checkpoint")[1]
    origin, size, root = note.decode().split("\n")[:3]
    forger = NoteSigner.generate(origin)
    forged = sign_checkpoint(Checkpoint(origin, int(size), base64.b64decode(root)), [forger])
    report = verify_bundle(
        _rewrite(bundle, {"checkpoint": forged, "checkpoint.vkey": forger.verifier.vkey().encode()})
    )
    assert any("not one of the bundle's archive keys" in p for p in report.problems)


def test_what_is_not_a_bundle_is_a_usage_error(tmp_path: Path) -> None:
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"not a zip")
    with pytest.raises(BundleError, match="not a readable zip"):
        verify_bundle(junk)
    empty = tmp_path / "empty.zip"
    with zipfile.ZipFile(empty, "w") as zf:
        zf.writestr("hello.txt", "hi")
    with pytest.raises(BundleError, match="no 'entry'"):
        verify_bundle(empty)
    evil = tmp_path / "evil.zip"
    with zipfile.ZipFile(evil, "w") as zf:
        zf.writestr("../../etc/passwd", "x")
        zf.writestr("entry", "{}")
    with pytest.raises(BundleError, match="unsafe path"):
        verify_bundle(evil)


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "LUUTRU_HOME"}
    env["PYTHONPATH"] = str(ROOT)
    return subprocess.run(
        [sys.executable, "-m", "api.cli", *args], capture_output=True, text=True, cwd=cwd, env=env
    )


def test_luutru_verify_checks_a_bundle_in_an_empty_folder(bundle: Path, tmp_path: Path) -> None:
    empty = tmp_path / "elsewhere"
    empty.mkdir()
    done = _cli("verify", str(bundle), cwd=empty)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "valid" in done.stdout and "not checked against a trusted key" in done.stdout
    assert list(empty.iterdir()) == []  # no archive home was made
    name, data = _member(bundle, "files/original/")
    damaged = _cli("verify", str(_rewrite(bundle, {name: _flip(data)})), "--json", cwd=empty)
    assert damaged.returncode == 5
    assert not json.loads(damaged.stdout)["ok"]
    junk = empty / "junk.zip"
    junk.write_bytes(b"nope")
    assert _cli("verify", str(junk), cwd=empty).returncode == 2


def test_the_readme_s_openssl_commands_check_the_bundle(bundle: Path, tmp_path: Path) -> None:
    folder = tmp_path / "by-hand"
    with zipfile.ZipFile(bundle) as zf:
        zf.extractall(folder)
        readme = zf.read("README.txt").decode()
    key = next((folder / "keys").glob("*.pem"))
    assert f"keys/{key.name}" in readme
    ok = subprocess.run(
        ["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", str(key), "-rawin",
         "-in", "entry", "-sigfile", "entry.sig"],
        cwd=folder, capture_output=True, text=True,
    )  # fmt: skip
    assert ok.returncode == 0 and "Success" in ok.stdout
    manifest = json.loads((folder / "entry").read_bytes())
    for item in manifest["files"]:
        digest = subprocess.run(
            ["sha256sum", f"files/{item['role']}/{item['name']}"],
            cwd=folder, capture_output=True, text=True, check=True,
        ).stdout.split()[0]  # fmt: skip
        assert digest == item["sha256"]
