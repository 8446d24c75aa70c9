"""Signed notes and transparency-log checkpoints, as C2SP specifies them.

A checkpoint (c2sp.org/tlog-checkpoint) states the archive log's origin, size and Merkle root
(``archive.merkle``); a signed note (c2sp.org/signed-note) carries it with one signature line
per key, so a witness holding a second key elsewhere can co-sign the same text. The rules are
those of Go's golang.org/x/mod/sumdb/note, the reference implementation, so that ``note.Open``
accepts what we sign, and what it rejects we reject. Two differences are on purpose: a key
string whose base64 holds a line break, which Go's decoder skips, is refused here, and
``sign_note`` refuses a text or a signature count that Go would sign but not open::

    signer = NoteSigner.generate("archive.example/luutru")
    note = sign_note(Checkpoint("archive.example/luutru", size, root_hash).body(), [signer])
    checkpoint, opened = open_checkpoint(note, [parse_vkey(signer.verifier.vkey())])

Signatures by keys the caller does not know are kept as unverified and otherwise ignored; a
known key's bad signature, a note no known key signed, and any malformed note or key raise a
``NoteError``, an ``IntegrityError``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from archive.errors import IntegrityError

__all__ = [
    "ALGORITHM_ED25519",
    "MAX_SIGNATURES",
    "AmbiguousKeyError",
    "Checkpoint",
    "InvalidSignatureError",
    "KeyFormatError",
    "MalformedCheckpointError",
    "MalformedNoteError",
    "NoteError",
    "NoteSigner",
    "NoteVerifier",
    "OpenedNote",
    "Signature",
    "UnverifiedNoteError",
    "key_hash",
    "open_checkpoint",
    "open_note",
    "parse_skey",
    "parse_vkey",
    "sign_checkpoint",
    "sign_note",
]

ALGORITHM_ED25519 = 0x01  # signed-note "Signature types"
SIGNATURE_PREFIX = "— ".encode()  # em dash U+2014, space: the start of a signature line
MAX_SIGNATURES = 100  # Go's limit; the spec asks verifiers to accept at least 16
PRIVATE_KEY_PREFIX = ("PRIVATE", "KEY")  # Go's signer keys start so, never to pass as public
HASH_SIZE = 32  # a checkpoint's root: SHA-256 (RFC 6962)
MAX_TREE_SIZE = 2**64 - 1  # a checkpoint size is a Go uint64
KEY_HASH_SIZE = 4
ED25519_KEY_SIZE = 32
_HEX8 = re.compile(r"[0-9a-fA-F]{8}")
_DECIMAL = re.compile(r"0|[1-9][0-9]*")
# Go's unicode.IsSpace, the Unicode White_Space property; str.isspace differs (it also takes
# U+001C to U+001F), and a key name must be refused exactly where Go refuses it.
_WHITE_SPACE = frozenset(
    "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
    "\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)


class NoteError(IntegrityError):
    """A signed note or checkpoint that cannot be trusted as given."""


class MalformedNoteError(NoteError):
    """Not a signed note: bad UTF-8, a control character, no signature block, a bad line."""

    def __init__(self, detail: str = "") -> None:
        super().__init__("malformed note" + (f": {detail}" if detail else ""))


class UnverifiedNoteError(NoteError):
    """A well-formed note that no known key signed; ``note`` holds what it says, unverified."""

    def __init__(self, note: OpenedNote) -> None:
        super().__init__("note has no verifiable signatures")
        self.note = note


class InvalidSignatureError(NoteError):
    """A known key's signature does not verify: the whole note is refused."""

    def __init__(self, name: str, key_hash: int) -> None:
        super().__init__(f"invalid signature for key {name}+{key_hash:08x}")
        self.name = name
        self.key_hash = key_hash


class AmbiguousKeyError(NoteError):
    """Two known keys share a name and key hash, so a signature could be either's."""

    def __init__(self, name: str, key_hash: int) -> None:
        super().__init__(f"ambiguous key {name}+{key_hash:08x}")
        self.name = name
        self.key_hash = key_hash


class KeyFormatError(NoteError):
    """A key string or key name that Go's NewVerifier or NewSigner would refuse. The message
    never quotes the string: it may be a private key."""


class MalformedCheckpointError(NoteError):
    """A note text that is not a checkpoint by c2sp.org/tlog-checkpoint."""


def key_hash(name: str, public_key: bytes) -> int:
    """signed-note: SHA-256(key name || 0x0A || signature type || public key)[:4], big-endian;
    ``public_key`` starts with its signature type byte."""
    digest = hashlib.sha256(name.encode() + b"\n" + public_key).digest()
    return int.from_bytes(digest[:KEY_HASH_SIZE], "big")


@dataclass(frozen=True, eq=False)
class NoteVerifier:
    """A known Ed25519 note key: ``vkey()`` is Go's ``<name>+<hash>+<base64(0x01 || key)>``."""

    name: str
    public_key: Ed25519PublicKey

    def __post_init__(self) -> None:
        if not _is_valid_name(self.name):
            raise KeyFormatError("a key name must be non-empty, without spaces or '+'")

    # Equal by name and key bytes: the key objects of cryptography are not hashable.
    def __eq__(self, other: object) -> bool:
        if not isinstance(other, NoteVerifier):
            return NotImplemented
        return (self.name, self.encoded_key) == (other.name, other.encoded_key)

    def __hash__(self) -> int:
        return hash((self.name, self.encoded_key))

    @property
    def encoded_key(self) -> bytes:
        raw = self.public_key.public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        return bytes([ALGORITHM_ED25519]) + raw

    @property
    def key_hash(self) -> int:
        return key_hash(self.name, self.encoded_key)

    def vkey(self) -> str:
        encoded = self.encoded_key
        text = base64.b64encode(encoded).decode()
        return f"{self.name}+{key_hash(self.name, encoded):08x}+{text}"

    def verify(self, message: bytes, signature: bytes) -> bool:
        try:
            self.public_key.verify(signature, message)
        except (InvalidSignature, ValueError):
            return False
        return True


class NoteSigner:
    """An Ed25519 note key that signs. Its private half leaves only through ``skey()``."""

    def __init__(self, name: str, private_key: Ed25519PrivateKey) -> None:
        self.verifier = NoteVerifier(name, private_key.public_key())
        self._private_key = private_key

    def __repr__(self) -> str:
        return f"NoteSigner({self.name}+{self.key_hash:08x})"

    @property
    def name(self) -> str:
        return self.verifier.name

    @property
    def key_hash(self) -> int:
        return self.verifier.key_hash

    def sign(self, message: bytes) -> bytes:
        return self._private_key.sign(message)

    def skey(self) -> str:
        """Go's private key string ``PRIVATE+KEY+<name>+<hash>+<base64(0x01 || seed)>``, for
        ``note.NewSigner``. It is the key itself: store it as a secret, never log it."""
        seed = self._private_key.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
        text = base64.b64encode(bytes([ALGORITHM_ED25519]) + seed).decode()
        return "+".join((*PRIVATE_KEY_PREFIX, self.name, f"{self.key_hash:08x}", text))

    @classmethod
    def generate(cls, name: str) -> NoteSigner:
        return cls(name, Ed25519PrivateKey.generate())


def parse_vkey(text: str) -> NoteVerifier:
    """A verifier key string, checked as Go's ``note.NewVerifier`` checks it."""
    name, _, rest = text.partition("+")
    hash_text, _, key_text = rest.partition("+")
    key = _b64decode(key_text)
    if not _HEX8.fullmatch(hash_text) or key is None or not _is_valid_name(name) or not key:
        raise KeyFormatError("malformed verifier id")
    if int(hash_text, 16) != key_hash(name, key):
        raise KeyFormatError("invalid verifier hash")
    if key[0] != ALGORITHM_ED25519:
        raise KeyFormatError("unknown verifier algorithm")
    if len(key) != 1 + ED25519_KEY_SIZE:
        raise KeyFormatError("malformed verifier id")
    try:
        public_key = Ed25519PublicKey.from_public_bytes(key[1:])
    except ValueError:
        raise KeyFormatError("malformed verifier id") from None
    return NoteVerifier(name, public_key)


def parse_skey(text: str) -> NoteSigner:
    """A private key string, checked as Go's ``note.NewSigner`` checks it."""
    private, _, rest = text.partition("+")
    key_word, _, rest = rest.partition("+")
    name, _, rest = rest.partition("+")
    hash_text, _, key_text = rest.partition("+")
    key = _b64decode(key_text)
    if (
        (private, key_word) != PRIVATE_KEY_PREFIX
        or not _HEX8.fullmatch(hash_text)
        or key is None
        or not _is_valid_name(name)
        or not key
    ):
        raise KeyFormatError("malformed signer key")
    if key[0] != ALGORITHM_ED25519:
        raise KeyFormatError("unknown signer algorithm")
    if len(key) != 1 + ED25519_KEY_SIZE:
        raise KeyFormatError("malformed signer key")
    signer = NoteSigner(name, Ed25519PrivateKey.from_private_bytes(key[1:]))
    # The hash is of the public key, so it can be checked only once the key is derived.
    if int(hash_text, 16) != signer.key_hash:
        raise KeyFormatError("invalid signer hash")
    return signer


@dataclass(frozen=True)
class Signature:
    """One signature line: key name, key hash and the base64 text as it stands in the note."""

    name: str
    key_hash: int
    signature_b64: str


@dataclass(frozen=True)
class OpenedNote:
    """A note's text (ending in its newline) and its signatures, verified or from unknown keys."""

    text: bytes
    signatures: tuple[Signature, ...]
    unverified_signatures: tuple[Signature, ...] = ()


def sign_note(
    body: bytes, signers: Sequence[NoteSigner], existing: Sequence[Signature] = ()
) -> bytes:
    """The signed note of ``body`` (Go's ``note.Sign``): the text, a blank line, then one line
    ``— <name> base64(key hash || signature)`` per signature.

    ``existing`` are signatures already on the text (``OpenedNote.signatures`` and
    ``unverified_signatures``): they come first, except those by a key that signs again. So a
    witness co-signs a log's note with
    ``sign_note(opened.text, [witness], opened.signatures + opened.unverified_signatures)``.
    """
    _check_text(body)
    have = {(signer.name, signer.key_hash) for signer in signers}
    lines = []
    for old in existing:
        if not _is_valid_name(old.name):
            raise MalformedNoteError(f"invalid key name in an existing signature {old.name!r}")
        if (old.name, old.key_hash) in have:
            continue
        raw = _b64decode(old.signature_b64)
        if raw is None or len(raw) < KEY_HASH_SIZE or _hash_of(raw) != old.key_hash:
            raise MalformedNoteError(f"the existing signature of {old.name} is not its key's")
        lines.append(_signature_line(old.name, old.signature_b64))
    for signer in signers:
        encoded = signer.key_hash.to_bytes(KEY_HASH_SIZE, "big") + signer.sign(body)
        lines.append(_signature_line(signer.name, base64.b64encode(encoded).decode()))
    if not lines or len(lines) > MAX_SIGNATURES:
        raise MalformedNoteError(f"a note needs 1 to {MAX_SIGNATURES} signatures")
    return body + b"\n" + b"".join(lines)


def open_note(note: bytes, verifiers: Sequence[NoteVerifier]) -> OpenedNote:
    """Parse ``note`` and verify its signatures by the known keys, by Go's ``note.Open`` rules.

    The text ends at the last blank line. A signature by an unknown key (name and key hash
    together) is kept as unverified; one by a known key must verify, else
    ``InvalidSignatureError``; repeats of a key's signature are dropped. With no verified
    signature, ``UnverifiedNoteError`` (the parsed note is in it).
    """
    _check_characters(note, "note")
    split = note.rfind(b"\n\n")
    if split < 0:
        raise MalformedNoteError("no blank line before the signatures")
    text, block = note[: split + 1], note[split + 2 :]
    if not block.endswith(b"\n"):
        raise MalformedNoteError("the signatures do not end in a newline")
    known: dict[tuple[str, int], list[NoteVerifier]] = {}
    for verifier in verifiers:
        known.setdefault((verifier.name, verifier.key_hash), []).append(verifier)
    verified: list[Signature] = []
    unverified: list[Signature] = []
    seen_keys: set[tuple[str, int]] = set()
    seen_lines: set[bytes] = set()
    for count, line in enumerate(block[:-1].split(b"\n"), start=1):
        name, hash_value, signature, encoded = _parse_signature_line(line)
        if count > MAX_SIGNATURES:  # bound the work a hostile note can ask for
            raise MalformedNoteError(f"more than {MAX_SIGNATURES} signatures")
        candidates = known.get((name, hash_value))
        if candidates is None:
            if line not in seen_lines:
                seen_lines.add(line)
                unverified.append(Signature(name, hash_value, encoded))
            continue
        if len(candidates) > 1:
            raise AmbiguousKeyError(name, hash_value)
        if (name, hash_value) in seen_keys:
            continue
        seen_keys.add((name, hash_value))
        if not candidates[0].verify(text, signature):
            raise InvalidSignatureError(name, hash_value)
        verified.append(Signature(name, hash_value, encoded))
    opened = OpenedNote(text, tuple(verified), tuple(unverified))
    if not verified:
        raise UnverifiedNoteError(opened)
    return opened


@dataclass(frozen=True)
class Checkpoint:
    """c2sp.org/tlog-checkpoint: a log's origin, tree size and RFC 6962 root hash, then
    optional extension lines (non-empty, opaque, and not recommended)."""

    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.origin or _has_control_character(self.origin):
            raise MalformedCheckpointError("the origin must be one non-empty line")
        if isinstance(self.size, bool) or not 0 <= self.size <= MAX_TREE_SIZE:
            raise MalformedCheckpointError(f"the tree size {self.size!r} is out of range")
        if len(self.root_hash) != HASH_SIZE:
            raise MalformedCheckpointError(f"the root hash must be {HASH_SIZE} bytes")
        for line in self.extensions:
            if not line or _has_control_character(line):
                raise MalformedCheckpointError("an extension must be one non-empty line")

    def body(self) -> bytes:
        """The note text: origin, size in decimal, base64 root, extensions, each on a line."""
        root_text = base64.b64encode(self.root_hash).decode()
        lines = [self.origin, str(self.size), root_text, *self.extensions]
        return "".join(line + "\n" for line in lines).encode()

    @classmethod
    def parse(cls, body: bytes) -> Checkpoint:
        """The checkpoint a note text states, refusing anything ``body()`` would not write:
        a size with a sign or leading zero, a root that is not the canonical base64 of 32
        bytes, an empty line, a missing final newline."""
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise MalformedCheckpointError("a checkpoint is UTF-8 text") from None
        if not text.endswith("\n") or _has_control_character(text.replace("\n", "")):
            raise MalformedCheckpointError("a checkpoint is lines of text ending in a newline")
        lines = text[:-1].split("\n")
        if len(lines) < 3:
            raise MalformedCheckpointError("a checkpoint has origin, size and root lines")
        origin, size_text, root_text, *extensions = lines
        # Twenty digits hold any uint64; the length test also spares int() a huge string.
        if len(size_text) > len(str(MAX_TREE_SIZE)) or not _DECIMAL.fullmatch(size_text):
            raise MalformedCheckpointError(f"the tree size {size_text!r} is not a plain decimal")
        root_hash = _b64decode(root_text)
        if root_hash is None or base64.b64encode(root_hash).decode() != root_text:
            raise MalformedCheckpointError("the root hash is not canonical base64")
        return cls(origin, int(size_text), root_hash, tuple(extensions))


def sign_checkpoint(checkpoint: Checkpoint, signers: Sequence[NoteSigner]) -> bytes:
    return sign_note(checkpoint.body(), signers)


def open_checkpoint(
    note: bytes, verifiers: Sequence[NoteVerifier]
) -> tuple[Checkpoint, OpenedNote]:
    """Open a signed checkpoint: the note's signatures first, then its text as a checkpoint."""
    opened = open_note(note, verifiers)
    return Checkpoint.parse(opened.text), opened


def _parse_signature_line(line: bytes) -> tuple[str, int, bytes, str]:
    if not line.startswith(SIGNATURE_PREFIX):
        raise MalformedNoteError("a line after the blank line is not a signature")
    name_bytes, _, encoded = line[len(SIGNATURE_PREFIX) :].partition(b" ")
    name = name_bytes.decode()  # the whole note is checked UTF-8 already
    raw = _b64decode(encoded.decode())
    if raw is None or not _is_valid_name(name) or not encoded or len(raw) <= KEY_HASH_SIZE:
        raise MalformedNoteError(f"a malformed signature line for {name!r}")
    return name, _hash_of(raw), raw[KEY_HASH_SIZE:], encoded.decode()


def _signature_line(name: str, encoded: str) -> bytes:
    return SIGNATURE_PREFIX + f"{name} {encoded}\n".encode()


def _hash_of(raw: bytes) -> int:
    return int.from_bytes(raw[:KEY_HASH_SIZE], "big")


def _check_text(body: bytes) -> None:
    _check_characters(body, "note text")
    if not body.endswith(b"\n"):
        raise MalformedNoteError("the text does not end in a newline")


def _check_characters(data: bytes, what: str) -> None:
    """signed-note: valid UTF-8 and no ASCII control character other than newline."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedNoteError(f"the {what} is not UTF-8") from None
    if _has_control_character(text.replace("\n", "")):
        raise MalformedNoteError(f"the {what} holds a control character")


def _has_control_character(text: str) -> bool:
    return any(ord(character) < 0x20 for character in text)


def _is_valid_name(name: str) -> bool:
    """signed-note: a key name is non-empty UTF-8, without Unicode spaces or '+'."""
    try:
        name.encode("utf-8")  # a lone surrogate is text in Python, not UTF-8
    except UnicodeEncodeError:
        return False
    return bool(name) and "+" not in name and _WHITE_SPACE.isdisjoint(name)


def _b64decode(text: str) -> bytes | None:
    """Standard base64 with padding, as Go's ``base64.StdEncoding``; ``None`` if it is not."""
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None
