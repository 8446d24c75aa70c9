"""Signed manifests: one good case, then the ways a manifest can be wrong; format 1 manifests
keep verifying; keys at rest are encrypted, and rotated keys keep old seals verifiable."""

import base64
import json
from pathlib import Path

import pytest

from archive.errors import IntegrityError, SignatureInvalid, SigningKeyError, UsageError
from archive.manifest import (
    MANIFEST_FORMAT,
    MANIFEST_FORMAT_V1,
    ManifestFile,
    build_manifest,
    canonical_json,
    legacy_canonical_json,
    parse_manifest,
    sign_manifest,
    verify_manifest,
)
from archive.signing import (
    PRIVATE_KEY_FILE,
    Keyring,
    Signer,
    TrustedKeys,
    Verifier,
    ensure_key_pair,
    private_key_encrypted,
    rotate_key,
)


@pytest.fixture
def signer(tmp_path: Path) -> Signer:
    ensure_key_pair(tmp_path / "keys", archive_has_seals=False)
    return Signer.load(tmp_path / "keys")


def _manifest() -> dict:
    files = [
        ManifestFile("original", "image/png", 10, "a" * 64, "quyết-định.png", "b" * 128),
    ]
    return build_manifest(
        "rec1", "2026-01-01T00:00:00+00:00", "van.thu", files, {"title": "Quyết định"}
    )


def test_signed_manifest_verifies(signer: Signer) -> None:
    signed = sign_manifest(_manifest(), signer)
    manifest = verify_manifest(signed.body, signed.signature, signer.verifier)
    assert manifest == _manifest()
    assert manifest["format"] == MANIFEST_FORMAT
    assert manifest["files"][0]["sha512"] == "b" * 128
    assert manifest["ingested_by"] == "van.thu" and manifest["software"].startswith("luutru")
    assert signed.key_id == signer.key_id
    assert "Quyết định".encode() in signed.body  # UTF-8, not \\u escapes


def test_canonical_form_is_rfc_8785_not_json_dumps() -> None:
    # RFC 8785 §3.2.2.3: numbers in ECMAScript form; §3.2.3: keys sorted by UTF-16 units.
    value = {"b": 1e21, "a": 1.0, "\U0001f600": 1, "\ue000": 2}
    assert canonical_json(value) == '{"a":1,"b":1e+21,"\U0001f600":1,"\ue000":2}'.encode()
    assert legacy_canonical_json(value) != canonical_json(value)


def _flip_bit(data: bytes, index: int) -> bytes:
    return data[:index] + bytes([data[index] ^ 0x01]) + data[index + 1 :]


@pytest.mark.parametrize("index", [0, 10, 50, -2])
def test_any_flipped_bit_in_the_body_fails(signer: Signer, index: int) -> None:
    signed = sign_manifest(_manifest(), signer)
    with pytest.raises(SignatureInvalid):
        verify_manifest(
            _flip_bit(signed.body, index % len(signed.body)), signed.signature, signer.verifier
        )


@pytest.mark.parametrize("index", [0, 31, 63])
def test_any_flipped_bit_in_the_signature_fails(signer: Signer, index: int) -> None:
    signed = sign_manifest(_manifest(), signer)
    raw = _flip_bit(base64.b64decode(signed.signature), index)
    with pytest.raises(SignatureInvalid):
        verify_manifest(signed.body, base64.b64encode(raw).decode(), signer.verifier)


@pytest.mark.parametrize("signature", ["", "not base64!", base64.b64encode(b"short").decode()])
def test_malformed_signatures_fail_as_invalid(signer: Signer, signature: str) -> None:
    signed = sign_manifest(_manifest(), signer)
    with pytest.raises(SignatureInvalid):
        verify_manifest(signed.body, signature, signer.verifier)


def test_another_key_does_not_verify(signer: Signer, tmp_path: Path) -> None:
    ensure_key_pair(tmp_path / "other", archive_has_seals=False)
    signed = sign_manifest(_manifest(), signer)
    with pytest.raises(SignatureInvalid):
        verify_manifest(signed.body, signed.signature, Verifier.load(tmp_path / "other"))


def test_signed_but_not_canonical_body_is_refused(signer: Signer) -> None:
    body = canonical_json(_manifest()).replace(b",", b", ", 1)
    with pytest.raises(IntegrityError, match="canonical"):
        verify_manifest(body, signer.sign(body), signer.verifier)


def test_signed_but_unknown_format_is_refused(signer: Signer) -> None:
    body = canonical_json({**_manifest(), "format": "other/9"})
    with pytest.raises(IntegrityError, match="unknown format"):
        verify_manifest(body, signer.sign(body), signer.verifier)


def test_format_1_manifests_keep_verifying(signer: Signer) -> None:
    old = {
        "format": MANIFEST_FORMAT_V1,
        "record_id": "rec1",
        "sealed_at": "2025-01-01T00:00:00+00:00",
        "files": [
            {"role": "original", "sha256": "a" * 64, "size": 1, "media_type": "x", "name": "n"}
        ],
        "description": {"title": "Công văn", "closed_year": 2019},
    }
    body = legacy_canonical_json(old)
    assert verify_manifest(body, signer.sign(body), signer.verifier) == old
    # ... but a format 1 manifest in another canonical form is not one.
    with pytest.raises(IntegrityError, match="canonical"):
        parse_manifest(json.dumps(old).encode())


def test_private_key_is_owner_only_and_not_in_repr(signer: Signer, tmp_path: Path) -> None:
    key_file = tmp_path / "keys" / PRIVATE_KEY_FILE
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert "PRIVATE" not in repr(signer)
    assert not ensure_key_pair(tmp_path / "keys", archive_has_seals=False), (
        "an existing key is never replaced"
    )


def test_a_key_made_with_a_passphrase_is_encrypted_at_rest(tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    ensure_key_pair(keys, archive_has_seals=False, passphrase=b"mat khau dai")
    assert private_key_encrypted(keys) is True
    assert b"mat khau" not in (keys / PRIVATE_KEY_FILE).read_bytes()
    with pytest.raises(SigningKeyError, match="LUUTRU_KEY_PASSPHRASE"):
        Signer.load(keys)
    with pytest.raises(SigningKeyError, match="wrong") as refused:
        Signer.load(keys, b"wrong one")
    assert "wrong one" not in str(refused.value)
    assert Signer.load(keys, b"mat khau dai").key_id == Verifier.load(keys).key_id


def test_after_a_rotation_old_signatures_still_verify(tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    ensure_key_pair(keys, archive_has_seals=False)
    before = sign_manifest(_manifest(), Signer.load(keys))
    old, new = rotate_key(keys, b"pass")
    assert old.key_id != new.key_id and Verifier.load(keys).key_id == new.key_id
    assert private_key_encrypted(keys) is True
    ring = Keyring.load(keys)
    assert {k.key_id for k in ring} == {old.key_id, new.key_id}
    verifier = ring.get(before.key_id)
    assert verifier is not None
    verify_manifest(before.body, before.signature, verifier)
    assert (keys / "retired" / f"{old.key_id}.pem").exists()


def test_a_rotation_killed_before_the_new_key_leaves_the_old_one_signing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from archive import signing

    keys = tmp_path / "keys"
    ensure_key_pair(keys, archive_has_seals=False)
    before = Signer.load(keys).key_id

    def killed(*_args: object) -> None:
        raise KeyboardInterrupt("kill -9")

    monkeypatch.setattr(signing, "_write_new_key", killed)
    with pytest.raises(KeyboardInterrupt):
        rotate_key(keys, None)
    assert Signer.load(keys).key_id == before  # the next seal is signed, by the old key
    monkeypatch.undo()
    old, new = rotate_key(keys, None)  # and the rotation can be run again
    assert old.key_id == before and Signer.load(keys).key_id == new.key_id


def test_trusted_keys_are_fingerprints_or_key_files(tmp_path: Path, signer: Signer) -> None:
    fingerprint = signer.verifier.fingerprint
    spaced = " ".join(fingerprint[i : i + 4] for i in range(0, 64, 4)).upper()
    assert TrustedKeys.parse([spaced]).trusts(signer.verifier)
    key_file = tmp_path / "kept.pem"
    key_file.write_bytes(signer.verifier.public_pem())
    assert TrustedKeys.parse([str(key_file)]).trusts(signer.verifier)
    with pytest.raises(UsageError, match="fingerprint"):
        TrustedKeys.parse([fingerprint[:16]])
