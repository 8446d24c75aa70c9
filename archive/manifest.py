"""Record manifests: the canonical, signed statement of what a record is.

A manifest lists every file of the record with its sha256 and size, plus the descriptive
metadata and access level as they were at sealing. Its canonical form is UTF-8 JSON with
sorted keys and no insignificant white space; the signature covers exactly those bytes, and
the manifest itself is kept as a blob, so it can be checked offline with the public key alone.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from archive.errors import IntegrityError
from archive.models import Record
from archive.signing import ALGORITHM, Signer, Verifier

MANIFEST_FORMAT = "luutru-manifest/1"


def canonical_json(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode(
        "utf-8"
    )


@dataclass(frozen=True)
class ManifestFile:
    role: str
    media_type: str
    size: int
    sha256: str
    name: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "role": self.role,
            "media_type": self.media_type,
            "size": self.size,
            "sha256": self.sha256,
            "name": self.name,
        }


@dataclass(frozen=True)
class SignedManifest:
    body: bytes
    signature: str
    key_id: str
    algorithm: str = ALGORITHM


def build_manifest(
    record_id: str,
    sealed_at: str,
    files: list[ManifestFile],
    description: dict[str, Any],
) -> dict[str, Any]:
    return {
        "format": MANIFEST_FORMAT,
        "record_id": record_id,
        "sealed_at": sealed_at,
        "files": [f.as_dict() for f in sorted(files, key=lambda f: (f.role, f.sha256))],
        "description": description,
    }


def sign_manifest(manifest: dict[str, Any], signer: Signer) -> SignedManifest:
    body = canonical_json(manifest)
    return SignedManifest(body=body, signature=signer.sign(body), key_id=signer.key_id)


def parse_manifest(body: bytes) -> dict[str, Any]:
    try:
        manifest = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise IntegrityError(f"manifest is not valid UTF-8 JSON: {exc}") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != MANIFEST_FORMAT:
        raise IntegrityError("manifest has an unknown format")
    if canonical_json(manifest) != body:
        raise IntegrityError("manifest bytes are not in canonical form")
    return manifest


def verify_manifest(body: bytes, signature: str, verifier: Verifier) -> dict[str, Any]:
    """Check the signature, then parse; raises ``SignatureInvalid`` or ``IntegrityError``."""
    verifier.verify(body, signature)
    return parse_manifest(body)


# Record columns that the manifest's "description" seals; the database must agree with it.
SEALED_FIELDS = (
    "title",
    "doc_number",
    "doc_type",
    "type_name",
    "issuer",
    "issued_date",
    "place",
    "subject",
    "language",
    "page_count",
    "access",
    "series_code",
    "closed_year",
    "source_name",
)


def sealed_values(record: Record) -> dict[str, Any]:
    """The record's sealed columns as its manifest writes them."""
    values = {name: getattr(record, name) for name in SEALED_FIELDS}
    values["issued_date"] = record.issued_date.isoformat() if record.issued_date else None
    return values
