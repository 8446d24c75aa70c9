"""The archive's Ed25519 signing key: created once at ``init``, kept 0600 in the archive home.

The private key never leaves this module as text: nothing here logs, prints or returns it.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from archive.errors import SignatureInvalid, SigningKeyError
from archive.fsutil import atomic_write_bytes, make_directories

ALGORITHM = "ed25519"
PRIVATE_KEY_FILE = "archive-ed25519.pem"
PUBLIC_KEY_FILE = "archive-ed25519.pub.pem"


def key_id_of(public_key: Ed25519PublicKey) -> str:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


@dataclass(frozen=True)
class Verifier:
    public_key: Ed25519PublicKey

    @property
    def key_id(self) -> str:
        return key_id_of(self.public_key)

    def verify(self, message: bytes, signature_b64: str) -> None:
        try:
            self.public_key.verify(base64.b64decode(signature_b64, validate=True), message)
        except (InvalidSignature, ValueError) as exc:
            raise SignatureInvalid("signature does not verify under the archive key") from exc

    @classmethod
    def load(cls, key_dir: Path) -> Verifier:
        path = key_dir / PUBLIC_KEY_FILE
        try:
            key = serialization.load_pem_public_key(path.read_bytes())
        except (OSError, ValueError) as exc:
            raise SigningKeyError(f"cannot read the archive public key {path}") from exc
        if not isinstance(key, Ed25519PublicKey):
            raise SigningKeyError(f"{path} is not an Ed25519 public key")
        return cls(key)


class Signer:
    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        self._private_key = private_key
        self.verifier = Verifier(private_key.public_key())

    def __repr__(self) -> str:
        return f"Signer(key_id={self.verifier.key_id})"

    @property
    def key_id(self) -> str:
        return self.verifier.key_id

    def sign(self, message: bytes) -> str:
        return base64.b64encode(self._private_key.sign(message)).decode("ascii")

    @classmethod
    def load(cls, key_dir: Path) -> Signer:
        path = key_dir / PRIVATE_KEY_FILE
        try:
            key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        except (OSError, ValueError):
            # The message names the file only: key material must never reach a log.
            raise SigningKeyError(f"cannot read the archive signing key {path}") from None
        if not isinstance(key, Ed25519PrivateKey):
            raise SigningKeyError(f"{path} is not an Ed25519 private key")
        return cls(key)


def ensure_key_pair(key_dir: Path, archive_has_seals: bool) -> bool:
    """Make the key pair of a new archive; return whether one was made.

    Never replaces a key: a new key would make every existing seal unverifiable and lose the
    old public key. The private key may have been moved offline on purpose, so a missing
    private key is an error to report, not a gap to fill.
    """
    private_path, public_path = key_dir / PRIVATE_KEY_FILE, key_dir / PUBLIC_KEY_FILE
    if private_path.exists():
        signer = Signer.load(key_dir)
        if public_path.exists():
            if Verifier.load(key_dir).key_id != signer.key_id:
                raise SigningKeyError(
                    f"{public_path} and {private_path} are not a pair; put back the files "
                    "that belong together"
                )
        else:
            # The same key's public half, not a new key.
            atomic_write_bytes(public_path, _public_pem(signer.verifier.public_key))
        return False
    if public_path.exists():
        raise SigningKeyError(
            f"the private signing key {private_path} is missing while its public key is there. "
            "If it is kept offline, put it back to ingest; reading and 'luutru verify' work "
            "without it. luutru never makes a new key for an archive that has one"
        )
    if archive_has_seals:
        raise SigningKeyError(
            f"both archive keys are missing from {key_dir}, but the archive holds sealed "
            "records: restore the keys from a backup (a new key could not verify them)"
        )
    make_directories(key_dir)
    key_dir.chmod(0o700)
    private_key = Ed25519PrivateKey.generate()
    private_pem = private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    atomic_write_bytes(public_path, _public_pem(private_key.public_key()))
    atomic_write_bytes(private_path, private_pem, mode=0o600)
    return True


def _public_pem(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
