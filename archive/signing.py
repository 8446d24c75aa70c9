"""The archive's Ed25519 keys: the signing key (created at ``init``, replaced only by
``luutru keys rotate``) and every public key that ever sealed, published in the home.

Rules:
- the private key never leaves this module as text: nothing here logs, prints or returns it;
- at rest it is encrypted with ``LUUTRU_KEY_PASSPHRASE`` (PKCS#8, the best encryption the
  cryptography package offers); an unencrypted key is possible but reported loudly;
- a key is named by its fingerprint, the sha256 of its raw 32 bytes (64 hex), which is what
  an agency writes down outside the archive; ``key_id`` is its first 16 characters;
- ``keys/public/<key_id>.pub.pem`` holds every key the archive has sealed with, so that a seal
  made before a rotation still verifies; which of them to *trust* is the verifier's choice
  (``TrustedKeys``), never the home's.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from archive.checkpoint import NoteSigner, NoteVerifier
from archive.errors import SignatureInvalid, SigningKeyError, UsageError
from archive.fsutil import atomic_write_bytes, make_directories

ALGORITHM = "ed25519"
PRIVATE_KEY_FILE = "archive-ed25519.pem"
PUBLIC_KEY_FILE = "archive-ed25519.pub.pem"
PUBLISHED_DIR = "public"
RETIRED_DIR = "retired"
PASSPHRASE_ENV = "LUUTRU_KEY_PASSPHRASE"
_FINGERPRINT = re.compile(r"^[0-9a-f]{64}$")


def raw_public_bytes(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def fingerprint_of(public_key: Ed25519PublicKey) -> str:
    return hashlib.sha256(raw_public_bytes(public_key)).hexdigest()


def key_id_of(public_key: Ed25519PublicKey) -> str:
    return fingerprint_of(public_key)[:16]


def passphrase_from_env() -> bytes | None:
    value = os.environ.get(PASSPHRASE_ENV)
    return value.encode("utf-8") if value else None


@dataclass(frozen=True)
class Verifier:
    public_key: Ed25519PublicKey

    @property
    def key_id(self) -> str:
        return key_id_of(self.public_key)

    @property
    def fingerprint(self) -> str:
        return fingerprint_of(self.public_key)

    def verify(self, message: bytes, signature_b64: str) -> None:
        try:
            self.public_key.verify(base64.b64decode(signature_b64, validate=True), message)
        except (InvalidSignature, ValueError) as exc:
            raise SignatureInvalid(f"signature does not verify under key {self.key_id}") from exc

    def note_verifier(self, origin: str) -> NoteVerifier:
        """The key as a checkpoint verifier of the log named ``origin``."""
        return NoteVerifier(origin, self.public_key)

    def public_pem(self) -> bytes:
        return self.public_key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    @classmethod
    def load(cls, key_dir: Path) -> Verifier:
        """The archive's current public key."""
        return cls.from_file(key_dir / PUBLIC_KEY_FILE)

    @classmethod
    def from_file(cls, path: Path) -> Verifier:
        try:
            key = serialization.load_pem_public_key(path.read_bytes())
        except (OSError, ValueError) as exc:
            raise SigningKeyError(f"cannot read the public key {path}") from exc
        if not isinstance(key, Ed25519PublicKey):
            raise SigningKeyError(f"{path} is not an Ed25519 public key")
        return cls(key)


class Keyring:
    """Every public key the archive published (its current one first), by key id."""

    def __init__(self, verifiers: Iterable[Verifier]) -> None:
        self._by_id: dict[str, Verifier] = {}
        for verifier in verifiers:
            self._by_id.setdefault(verifier.key_id, verifier)

    @classmethod
    def load(cls, key_dir: Path) -> Keyring:
        current = [Verifier.load(key_dir)] if (key_dir / PUBLIC_KEY_FILE).exists() else []
        published = sorted((key_dir / PUBLISHED_DIR).glob("*.pub.pem"))
        return cls([*current, *(Verifier.from_file(path) for path in published)])

    def get(self, key_id: str) -> Verifier | None:
        return self._by_id.get(key_id)

    def __iter__(self) -> Iterator[Verifier]:
        return iter(self._by_id.values())

    def __len__(self) -> int:
        return len(self._by_id)


@dataclass(frozen=True)
class TrustedKeys:
    """The keys a verifier was told to trust (``--trusted-key``), each a fingerprint written
    down outside the archive or a public key file kept elsewhere. Empty: nothing pinned."""

    fingerprints: frozenset[str] = frozenset()

    @classmethod
    def parse(cls, values: Iterable[str]) -> TrustedKeys:
        found = set()
        for value in values:
            path = Path(value)
            compact = re.sub(r"[\s:]", "", value).lower()
            if _FINGERPRINT.match(compact):
                found.add(compact)
            elif path.is_file():
                found.add(Verifier.from_file(path).fingerprint)
            else:
                raise UsageError(
                    f"--trusted-key {value!r} is neither a key fingerprint (64 hex characters, "
                    "as 'luutru init' and 'luutru keys show' print it) nor a public key file"
                )
        return cls(frozenset(found))

    @property
    def pinned(self) -> bool:
        return bool(self.fingerprints)

    def trusts(self, verifier: Verifier) -> bool:
        return verifier.fingerprint in self.fingerprints


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

    def note_signer(self, origin: str) -> NoteSigner:
        """The key as the signer of checkpoints of the log named ``origin``."""
        return NoteSigner(origin, self._private_key)

    @classmethod
    def load(cls, key_dir: Path, passphrase: bytes | None = None) -> Signer:
        path = key_dir / PRIVATE_KEY_FILE
        try:
            data = path.read_bytes()
        except OSError:
            raise SigningKeyError(f"cannot read the archive signing key {path}") from None
        encrypted = b"ENCRYPTED" in data.split(b"\n", 1)[0]
        if encrypted and passphrase is None:
            raise SigningKeyError(
                f"the archive signing key {path} is encrypted: set {PASSPHRASE_ENV} to its "
                "passphrase to seal records"
            )
        try:
            key = serialization.load_pem_private_key(
                data, password=passphrase if encrypted else None
            )
        except (ValueError, TypeError):
            # The message names the file only: key material must never reach a log.
            reason = f"wrong {PASSPHRASE_ENV}" if encrypted else "not a readable PEM key"
            raise SigningKeyError(f"cannot open the archive signing key {path}: {reason}") from None
        if not isinstance(key, Ed25519PrivateKey):
            raise SigningKeyError(f"{path} is not an Ed25519 private key")
        return cls(key)


def private_key_encrypted(key_dir: Path) -> bool | None:
    """Whether the signing key is encrypted at rest; None when it is not in the home."""
    path = key_dir / PRIVATE_KEY_FILE
    try:
        with path.open("rb") as handle:
            return b"ENCRYPTED" in handle.readline()
    except OSError:
        return None


def ensure_key_pair(
    key_dir: Path, archive_has_seals: bool, passphrase: bytes | None = None
) -> bool:
    """Make the key pair of a new archive; return whether one was made.

    Never replaces a key: a new key would make every existing seal unverifiable and lose the
    old public key. The private key may have been moved offline on purpose, so a missing
    private key is an error to report, not a gap to fill.
    """
    private_path, public_path = key_dir / PRIVATE_KEY_FILE, key_dir / PUBLIC_KEY_FILE
    if private_path.exists():
        if public_path.exists():
            _publish(key_dir, Verifier.load(key_dir))
            return False
        signer = Signer.load(key_dir, passphrase)
        # The same key's public half, not a new key.
        atomic_write_bytes(public_path, signer.verifier.public_pem())
        _publish(key_dir, signer.verifier)
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
    _write_new_key(key_dir, Ed25519PrivateKey.generate(), passphrase)
    return True


def check_key_pair(key_dir: Path, passphrase: bytes | None) -> None:
    """Refuse a private and a public key file that are not one pair."""
    if not (key_dir / PRIVATE_KEY_FILE).exists() or not (key_dir / PUBLIC_KEY_FILE).exists():
        return
    if private_key_encrypted(key_dir) and passphrase is None:
        return  # cannot be opened here; sealing will say so
    if Verifier.load(key_dir).key_id != Signer.load(key_dir, passphrase).key_id:
        raise SigningKeyError(
            f"{key_dir / PUBLIC_KEY_FILE} and {key_dir / PRIVATE_KEY_FILE} are not a pair; "
            "put back the files that belong together"
        )


def rotate_key(key_dir: Path, passphrase: bytes | None) -> tuple[Signer, Signer]:
    """Replace the signing key by a new one; return (old, new). The old public key stays
    published (its seals keep verifying); the old private key is copied to ``retired/``, then
    replaced by the new one: there it signs nothing more, for the operator to destroy or take
    offline."""
    old = Signer.load(key_dir, passphrase)
    new_key = Ed25519PrivateKey.generate()
    retired = key_dir / RETIRED_DIR
    make_directories(retired)
    retired.chmod(0o700)
    # Copied, then replaced: killed in between, the archive still has a key to sign with
    # (moved first, a kill before the new key was written left it with none).
    old_pem = (key_dir / PRIVATE_KEY_FILE).read_bytes()
    atomic_write_bytes(retired / f"{old.key_id}.pem", old_pem, mode=0o600)
    _write_new_key(key_dir, new_key, passphrase)
    return old, Signer(new_key)


def _write_new_key(key_dir: Path, private_key: Ed25519PrivateKey, passphrase: bytes | None) -> None:
    make_directories(key_dir)
    key_dir.chmod(0o700)
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(passphrase)
        if passphrase
        else serialization.NoEncryption()
    )
    private_pem = private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    )
    verifier = Verifier(private_key.public_key())
    _publish(key_dir, verifier)
    atomic_write_bytes(key_dir / PUBLIC_KEY_FILE, verifier.public_pem())
    atomic_write_bytes(key_dir / PRIVATE_KEY_FILE, private_pem, mode=0o600)


def _publish(key_dir: Path, verifier: Verifier) -> None:
    """Keep ``verifier`` among the archive's published public keys."""
    target = key_dir / PUBLISHED_DIR / f"{verifier.key_id}.pub.pem"
    if not target.exists():
        make_directories(target.parent)
        atomic_write_bytes(target, verifier.public_pem())
