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
from archive.fsutil import atomic_write_bytes

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


def create_key_pair(key_dir: Path) -> bool:
    """Create the key pair unless one exists; return whether a new one was made."""
    if (key_dir / PRIVATE_KEY_FILE).exists():
        return False
    key_dir.mkdir(parents=True, exist_ok=True)
    key_dir.chmod(0o700)
    private_key = Ed25519PrivateKey.generate()
    private_pem = private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public_pem = private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    atomic_write_bytes(key_dir / PUBLIC_KEY_FILE, public_pem, mode=0o644)
    atomic_write_bytes(key_dir / PRIVATE_KEY_FILE, private_pem, mode=0o600)
    return True
