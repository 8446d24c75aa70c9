"""Signed manifests: one good case, then the ways a manifest can be wrong."""

import base64
from pathlib import Path

import pytest

from archive.errors import IntegrityError, SignatureInvalid
from archive.manifest import (
    ManifestFile,
    build_manifest,
    canonical_json,
    sign_manifest,
    verify_manifest,
)
from archive.signing import Signer, Verifier, ensure_key_pair


@pytest.fixture
def signer(tmp_path: Path) -> Signer:
    ensure_key_pair(tmp_path / "keys", archive_has_seals=False)
    return Signer.load(tmp_path / "keys")


def _manifest() -> dict:
    files = [ManifestFile("original", "image/png", 10, "a" * 64, "quyết-định.png")]
    return build_manifest("rec1", "2026-01-01T00:00:00+00:00", files, {"title": "Quyết định"})


def test_signed_manifest_verifies(signer: Signer) -> None:
    signed = sign_manifest(_manifest(), signer)
    assert verify_manifest(signed.body, signed.signature, signer.verifier) == _manifest()
    assert signed.key_id == signer.key_id
    assert "Quyết định".encode() in signed.body  # UTF-8, not \\u escapes


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


def test_private_key_is_owner_only_and_not_in_repr(signer: Signer, tmp_path: Path) -> None:
    key_file = tmp_path / "keys" / "archive-ed25519.pem"
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert "PRIVATE" not in repr(signer)
    assert not ensure_key_pair(tmp_path / "keys", archive_has_seals=False), (
        "an existing key is never replaced"
    )
