"""Which records fall due, and when (Circular 10/2022/TT-BNV).

How luutru reads the circular: a retention period counts in whole years from the year the
file (hồ sơ) was closed, the year its work ended. A file closed in 2019 and kept 10 years is
kept through 31 December 2029 and falls due on 1 January 2030 (``SeriesRule.due_date``): on
2029-12-31 it is not due, on 2030-01-01 it is. The closed year is the record's own
(``--closed-year``), else the year of the document's date, else the year it was archived.
Permanent records never fall due for destruction; a permanent series handed to the historical
archive falls due for transfer ``transfer_after`` years after closing.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from archive.models import Record, RecordStatus
from archive.repository import Archive
from retention.holds import held_ids
from retention.schedule import Action, SeriesRule


@dataclass(frozen=True)
class Due:
    record_id: str
    series: str
    action: Action
    due_date: date
    held: bool
    status: str

    def as_json(self) -> dict[str, object]:
        return {
            "record_id": self.record_id,
            "series": self.series,
            "action": self.action.value,
            "due_date": self.due_date.isoformat(),
            "held": self.held,
            "status": self.status,
        }


def closed_year_of(record: Record) -> int:
    if record.closed_year is not None:
        return record.closed_year
    if record.issued_date is not None:
        return record.issued_date.year
    return record.ingested_at.year


def _candidates(archive: Archive, statuses: tuple[str, ...]) -> Iterator[Record]:
    last = ""
    while True:
        with archive.faults(), archive.session() as session:
            batch = list(
                session.scalars(
                    select(Record)
                    .where(Record.id > last, Record.status.in_(statuses))
                    .order_by(Record.id)
                    .limit(2000)
                )
            )
        if not batch:
            return
        yield from batch
        last = batch[-1].id


def due_records(
    archive: Archive,
    schedule: dict[str, SeriesRule],
    as_of: date,
    statuses: tuple[str, ...] = (RecordStatus.ACTIVE.value, RecordStatus.REVIEW_DESTROY.value),
) -> list[Due]:
    """Every record whose series' action falls due on or before ``as_of``, oldest due first."""
    found = []
    for record in _candidates(archive, statuses):
        rule = schedule.get(record.series_code or "")
        when = rule.due_date(closed_year_of(record)) if rule else None
        if rule is None or when is None or when > as_of:
            continue
        found.append(Due(record.id, rule.code, rule.action, when, False, record.status))
    with archive.faults(), archive.session() as session:
        held = held_ids(session, [d.record_id for d in found])
    return sorted(
        (
            Due(d.record_id, d.series, d.action, d.due_date, d.record_id in held, d.status)
            for d in found
        ),
        key=lambda d: (d.due_date, d.record_id),
    )
