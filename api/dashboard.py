"""The dashboard's figures, in the spirit of the government's reporting: records by issuer,
type and year, pages digitized over time, OCR confidence, fixity, what falls due.

Everything is counted over the records the reader may see, never more: a count of secret
records is a leak too. Destroyed records are not counted (their tombstones are not records).
An issuer's case variants are one issuer, as in the search facets (``grouped_issuers``).
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import TypeVarTuple

from sqlalchemy import Select, func, select

from archive.models import AccessLevel, Event, Record, RecordStatus
from archive.repository import Archive
from retention.due import due_records
from retention.schedule import SeriesRule
from search.contracts import grouped_issuers

TOP = 12
_Ts = TypeVarTuple("_Ts")
CONFIDENCE_BUCKETS = ((0, 50, "< 50"), (50, 70, "50–70"), (70, 85, "70–85"), (85, 95, "85–95"),
                      (95, 101, "≥ 95"))  # fmt: skip


def _visible(query: Select[*_Ts], clearance: AccessLevel) -> Select[*_Ts]:
    levels = [level.value for level in AccessLevel if clearance.permits(level)]
    return query.where(Record.access.in_(levels), Record.status != RecordStatus.DESTROYED.value)


def dashboard(
    archive: Archive, clearance: AccessLevel, schedule: dict[str, SeriesRule]
) -> dict[str, object]:
    with archive.faults(), archive.session() as session:
        total, pages = session.execute(
            _visible(select(func.count(), func.coalesce(func.sum(Record.page_count), 0)), clearance)
        ).one()
        # Every form as written (a few hundred issuers at most), grouped before the cut.
        issuers = session.execute(
            _visible(select(Record.issuer, func.count()), clearance)
            .where(Record.issuer != "")
            .group_by(Record.issuer)
        ).all()
        by_type = session.execute(
            _visible(select(Record.doc_type, func.count()), clearance)
            .where(Record.doc_type != "")
            .group_by(Record.doc_type)
            .order_by(func.count().desc())
        ).all()
        rows = session.execute(
            _visible(
                select(
                    Record.id,
                    Record.issued_date,
                    Record.ingested_at,
                    Record.page_count,
                    Record.pages,
                ),
                clearance,
            )
        ).all()
        checked = dict(
            session.execute(
                select(Event.record_id, Event.outcome)
                .where(Event.kind == "fixity check")
                .order_by(Event.at)
            ).all()
        )
    visible = {row[0] for row in rows}
    years: Counter[str] = Counter(str(r[1].year) for r in rows if r[1] is not None)
    months: Counter[str] = Counter()
    confidence: Counter[str] = Counter()
    for _id, _issued, ingested, page_count, page_list in rows:
        months[f"{ingested:%Y-%m}"] += page_count or 0
        for page in page_list or []:
            value = page.get("confidence")
            if isinstance(value, int | float):
                confidence[
                    next(label for low, high, label in CONFIDENCE_BUCKETS if low <= value < high)
                ] += 1
    fixity: Counter[str] = Counter(checked.get(rid, "never checked") for rid in visible)
    due = Counter(
        d.action.value
        for d in due_records(archive, schedule, date.today())
        if d.record_id in visible
    )
    return {
        "records": int(total),
        "pages": int(pages),
        "by_issuer": _counts(
            (f.value, f.count) for f in grouped_issuers((str(i), int(n)) for i, n in issuers)[:TOP]
        ),
        "by_type": _counts(by_type),
        "by_year": _counts(sorted(years.items())),
        "pages_by_month": _counts(sorted(months.items())[-24:]),
        "confidence": [
            {"label": label, "count": confidence[label]} for _, _, label in CONFIDENCE_BUCKETS
        ],
        "fixity": _counts(sorted(fixity.items())),
        "retention_due": _counts(sorted(due.items())),
    }


def _counts(pairs: object) -> list[dict[str, object]]:
    return [{"label": str(label), "count": int(count)} for label, count in pairs]  # type: ignore[attr-defined]
