"""Key rotation (``luutru keys rotate``): a new signing key, announced in the log.

Order matters for a crash: the new key is written and published first, then the rotation is
appended to the log with a checkpoint signed by the new key. A crash between the two leaves a
published key that simply has not been announced yet; every seal, old or new, still verifies
because all public keys stay published.

The log entry (kind ``key-rotation``) is a canonical JSON statement naming both keys, with the
old key's endorsement of the new one, so that the change of keys is itself provable.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import UTC, datetime

from archive.log import ROTATION_FORMAT, EntryKind, LogWriter
from archive.manifest import canonical_json
from archive.repository import Archive, operator_name, storage_faults
from archive.signing import Signer, Verifier, passphrase_from_env, raw_public_bytes, rotate_key


@dataclass(frozen=True)
class Rotation:
    old_key_id: str
    new_key_id: str
    new_fingerprint: str
    encrypted: bool
    log_size: int


def _key(verifier: Verifier) -> dict[str, str]:
    return {
        "key_id": verifier.key_id,
        "fingerprint": verifier.fingerprint,
        "public_key": base64.b64encode(raw_public_bytes(verifier.public_key)).decode(),
    }


def endorsement_message(new_fingerprint: str) -> bytes:
    return b"luutru key rotation\n" + new_fingerprint.encode("ascii") + b"\n"


def rotate_signing_key(archive: Archive) -> Rotation:
    passphrase = passphrase_from_env()
    old, new = rotate_key(archive.home.keys_dir, passphrase)
    archive.reset_signer()
    now = datetime.now(UTC)
    statement = canonical_json(
        {
            "format": ROTATION_FORMAT,
            "old_key": _key(old.verifier),
            "new_key": _key(new.verifier),
            "endorsement": old.sign(endorsement_message(new.verifier.fingerprint)),
            "rotated_at": now.isoformat(),
            "rotated_by": operator_name(),
        }
    )
    return Rotation(
        old.key_id,
        new.key_id,
        new.verifier.fingerprint,
        passphrase is not None,
        _announce(archive, new, statement, now),
    )


def _announce(archive: Archive, new: Signer, statement: bytes, now: datetime) -> int:
    with (
        storage_faults("announcing the new key in the log"),
        archive.session() as session,
        session.begin(),
    ):
        writer = LogWriter(session)
        writer.lock()
        sha256 = archive.blobs.put_bytes(statement)
        appended = writer.append(EntryKind.KEY_ROTATION, statement, sha256, None, now)
        writer.checkpoint(new, now)
        return appended.size
