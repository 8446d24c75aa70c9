"""Record manifests: the canonical, signed statement of what a record is.

Format 2 (``luutru-manifest/2``), written since the log: RFC 8785 canonical JSON (the JSON
Canonicalization Scheme, via the ``rfc8785`` package: sorted keys by UTF-16 code units,
ECMAScript number forms, no insignificant white space), holding

- ``record_id``, ``ingested_at`` (UTC, ISO 8601), ``ingested_by``, ``software``;
- ``files``: each file's ``role``, ``media_type``, ``size``, ``sha256`` and ``sha512`` (two
  algorithms, so fixity outlives a weakness of one), ``name``;
- ``description``: the document's metadata, access level, series, closed year, source name;
- ``signatures``: how the incoming digital signatures validated at ingest;
- ``warnings``; and, for a later revision, ``previous_manifest_sha256``, ``revision``,
  ``revised_at``, ``revised_by`` and ``revision_reason``.

The signature covers exactly the canonical bytes; the manifest is kept as a blob and is the
log entry of its seal, so it can be checked offline with the public key alone. Format 1
manifests (sorted-key ``json.dumps``) keep verifying as they were written.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from importlib import metadata as package_metadata
from typing import Any

import rfc8785

from archive.errors import IntegrityError
from archive.models import Record
from archive.signing import ALGORITHM, Signer, Verifier

MANIFEST_FORMAT_V1 = "luutru-manifest/1"
MANIFEST_FORMAT = "luutru-manifest/2"


def canonical_json(value: Any) -> bytes:
    """RFC 8785 canonical bytes of ``value``."""
    try:
        return rfc8785.dumps(value)
    except (rfc8785.CanonicalizationError, TypeError, ValueError) as exc:
        raise IntegrityError(f"cannot write canonical JSON: {exc}") from exc


def legacy_canonical_json(value: Any) -> bytes:
    """The canonical form of format 1 manifests (before RFC 8785)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode(
        "utf-8"
    )


def software_version() -> str:
    try:
        return f"luutru {package_metadata.version('luutru')}"
    except package_metadata.PackageNotFoundError:
        return "luutru (unknown version)"


@dataclass(frozen=True)
class ManifestFile:
    role: str
    media_type: str
    size: int
    sha256: str
    name: str
    sha512: str | None = None

    def as_dict(self) -> dict[str, Any]:
        values: dict[str, Any] = {
            "role": self.role,
            "media_type": self.media_type,
            "size": self.size,
            "sha256": self.sha256,
            "name": self.name,
        }
        if self.sha512 is not None:
            values["sha512"] = self.sha512
        return values


@dataclass(frozen=True)
class SignedManifest:
    body: bytes
    signature: str
    key_id: str
    algorithm: str = ALGORITHM


def build_manifest(
    record_id: str,
    ingested_at: str,
    ingested_by: str,
    files: list[ManifestFile],
    description: dict[str, Any],
    signatures: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    return {
        "format": MANIFEST_FORMAT,
        "record_id": record_id,
        "ingested_at": ingested_at,
        "ingested_by": ingested_by,
        "software": software_version(),
        "files": [f.as_dict() for f in sorted(files, key=lambda f: (f.role, f.sha256))],
        "description": description,
        "signatures": signatures or [],
    }


def sign_manifest(manifest: dict[str, Any], signer: Signer) -> SignedManifest:
    if manifest.get("format") == MANIFEST_FORMAT_V1:
        # A revision of a format 1 record is written in format 2: its new statement.
        manifest = {**manifest, "format": MANIFEST_FORMAT}
    body = canonical_json(manifest)
    return SignedManifest(body=body, signature=signer.sign(body), key_id=signer.key_id)


def parse_manifest(body: bytes) -> dict[str, Any]:
    try:
        manifest = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise IntegrityError(f"manifest is not valid UTF-8 JSON: {exc}") from exc
    if not isinstance(manifest, dict):
        raise IntegrityError("manifest is not a JSON object")
    canonical = {MANIFEST_FORMAT: canonical_json, MANIFEST_FORMAT_V1: legacy_canonical_json}
    writer = canonical.get(str(manifest.get("format")))
    if writer is None:
        raise IntegrityError(f"manifest has an unknown format {manifest.get('format')!r}")
    if writer(manifest) != body:
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


SEAL_STATEMENT_FORMAT = "luutru-seal/1"


def seal_statement(
    manifest_sha256: str, signature: str, key_id: str, algorithm: str, sealed_at: datetime
) -> bytes:
    """The seal of a manifest as a blob of its own (canonical JSON), kept beside it in the
    blob store, so that a record the database lost can be restored with its signature."""
    return canonical_json(
        {
            "format": SEAL_STATEMENT_FORMAT,
            "manifest_sha256": manifest_sha256,
            "signature": signature,
            "key_id": key_id,
            "algorithm": algorithm,
            "sealed_at": sealed_at.isoformat(),
        }
    )


def parse_seal_statement(value: dict[str, Any]) -> dict[str, Any] | None:
    """``value`` when it is a seal statement with every part, else None."""
    if value.get("format") != SEAL_STATEMENT_FORMAT:
        return None
    parts = ("manifest_sha256", "signature", "key_id", "algorithm", "sealed_at")
    return value if all(isinstance(value.get(p), str) for p in parts) else None
