"""How a record looks from outside: one JSON shape for `luutru show --json` and the API."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row

from archive.models import Record, RecordFile, Seal
from archive.repository import History, RecordRows


def record_json(
    record: Record | Row[Any],
    files: Sequence[RecordFile | Row[Any]],
    seal: Seal | Row[Any] | None,
    text: str,
) -> dict[str, Any]:
    """The record, its files and seal: ORM objects (``luutru show``) or the rows of
    ``Archive.describe`` (the API), which have the same attributes."""
    return {
        "record_id": record.id,
        "title": record.title,
        "series_code": record.series_code,
        "access": record.access,
        "closed_year": record.closed_year,
        "source_name": record.source_name,
        "ingested_at": record.ingested_at.isoformat(),
        "ingested_by": record.ingested_by,
        "status": record.status,
        "disposition": None
        if record.disposed_at is None
        else {
            "at": record.disposed_at.isoformat(),
            "by": record.disposed_by,
            "list_id": record.disposal_list_id,
        },
        "warnings": record.warnings or [],
        "signatures": record.signatures or [],
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
                "sha512": f.sha512,
                "name": f.name,
            }
            for f in files
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


def provenance_json(history: History) -> dict[str, Any]:
    """The record's entries in the log and its events (fixity checks …), newest event first."""
    return {
        "log": [
            {
                "seq": e.seq,
                "kind": e.kind,
                "entry_sha256": e.entry_sha256,
                "logged_at": e.logged_at.isoformat(),
            }
            for e in history.log
        ],
        "events": [
            {
                "at": e.at.isoformat(),
                "kind": e.kind,
                "outcome": e.outcome,
                "agent": e.agent,
                "detail": e.detail,
            }
            for e in history.events
        ],
    }


def described_json(description: RecordRows) -> dict[str, Any]:
    """A record as the API's record endpoint answers: all but its text, and its history."""
    shown = record_json(description.record, description.files, description.seal, "")
    del shown["text"]
    return {**shown, **provenance_json(description.history)}
