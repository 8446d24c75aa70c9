"""Checking records as `luutru verify` does, for tests of any package."""

from archive.fixity import Anchors, audit_archive
from archive.models import Record
from archive.repository import Archive
from archive.verify import RecordVerification


def verify_record(
    archive: Archive, record: Record, anchors: Anchors | None = None
) -> RecordVerification:
    """The verification of one record, with what the log says of it; no event is kept."""
    report = audit_archive(archive, [record.id], anchors, record_events=False)
    assert not report.problems, report.problems
    return report.records[0]
