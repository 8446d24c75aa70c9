"""Feed the index from the archive: the only way anything enters it."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator

from archive.errors import IntegrityError
from archive.models import Record
from archive.repository import Archive
from search.contracts import IndexDocument, SearchIndex


def document_for(record: Record, text: str) -> IndexDocument:
    searchable = [record.title, record.doc_number, record.doc_type, record.issuer, record.subject]
    return IndexDocument(
        record_id=record.id,
        title=record.title,
        number=record.doc_number,
        date=record.issued_date.isoformat() if record.issued_date else None,
        access=record.access_level,
        series_code=record.series_code,
        body="\n".join([*(s for s in searchable if s), text]),
    )


log = logging.getLogger(__name__)


def _documents(archive: Archive, ids: list[str]) -> Iterator[IndexDocument]:
    for record in archive.iter_records(ids):
        try:
            document = document_for(record, archive.text_of(record))
        except IntegrityError as exc:
            # Fail closed: a record whose access level cannot be read is not searchable;
            # 'luutru verify' reports it.
            log.warning("not indexed: %s", exc)
            continue
        yield document


def index_records(archive: Archive, index: SearchIndex, record_ids: Iterable[str]) -> int:
    return index.add(_documents(archive, list(record_ids)))


def catch_up(archive: Archive, index: SearchIndex) -> int:
    """Index what the archive has and the index lacks, and drop what the archive no longer
    has (an ingest killed between commit and indexing leaves such a gap)."""
    archived = set(archive.record_ids())
    indexed = index.record_ids()
    stale = indexed - archived
    if stale:
        index.remove(stale)
    missing = sorted(archived - indexed)
    return index_records(archive, index, missing) if missing else 0


def rebuild(archive: Archive, index: SearchIndex) -> int:
    index.clear()
    return index_records(archive, index, archive.record_ids())
