"""How a record looks from outside: one JSON shape for `luutru show --json` and the API."""

from __future__ import annotations

from typing import Any

from archive.models import Record


def record_json(record: Record, text: str) -> dict[str, Any]:
    seal = record.seal
    return {
        "record_id": record.id,
        "title": record.title,
        "series_code": record.series_code,
        "access": record.access,
        "closed_year": record.closed_year,
        "source_name": record.source_name,
        "ingested_at": record.ingested_at.isoformat(),
        "warnings": record.warnings or [],
        "pages": record.pages or [],
        "metadata": {
            "number": record.doc_number,
            "doc_type": record.doc_type,
            "type_name": record.type_name,
            "issuer": record.issuer,
            "date": record.issued_date.isoformat() if record.issued_date else None,
            "place": record.place,
            "subject": record.subject,
            "language": record.language,
            "page_count": record.page_count,
        },
        "files": [
            {
                "role": f.role,
                "media_type": f.media_type,
                "size": f.size,
                "sha256": f.sha256,
                "name": f.name,
            }
            for f in record.files
        ],
        "seal": None
        if seal is None
        else {
            "algorithm": seal.algorithm,
            "key_id": seal.key_id,
            "manifest_sha256": seal.manifest_sha256,
            "signature": seal.signature,
            "sealed_at": seal.sealed_at.isoformat(),
        },
        "text": text,
    }
