"""The ingest pipeline: one ordered list of steps, run for one input at a time."""

from __future__ import annotations

import logging
from pathlib import Path

from archive.errors import InputRejected, LuutruError, ResourceExhausted
from ingest.contracts import IngestContext, IngestResult, IngestStep, Status, WorkItem
from ingest.page_steps import CheckDigitization, Denoise, Deskew, Grayscale, Orient, Upscale
from ingest.steps import (
    CheckInput,
    CheckSignatures,
    Describe,
    DetectFormat,
    MakeArchivalCopy,
    ReadEdxml,
    ReadPdf,
    ReadScan,
    RecognizeText,
    Seal,
    SkipDuplicate,
)

log = logging.getLogger(__name__)

PIPELINE: list[IngestStep] = [
    CheckInput(),
    SkipDuplicate(),
    DetectFormat(),
    ReadScan(),
    ReadPdf(),
    ReadEdxml(),
    CheckSignatures(),
    CheckDigitization(),
    # Page by page, on the decoded copy (the original is never changed):
    Grayscale(),
    Denoise(),
    Upscale(),
    Orient(),
    Deskew(),
    RecognizeText(),
    Describe(),
    MakeArchivalCopy(),
    Seal(),
]


def ingest_one(
    source: Path,
    context: IngestContext,
    steps: list[IngestStep] = PIPELINE,
    label: str | None = None,
) -> IngestResult:
    """Run every step on ``source``; a rejected input is quarantined, never half archived.

    ``label`` names the input to the user when it is not ``source`` itself (a retried copy).
    """
    item = WorkItem(source=source, label=label or "")
    ran: list[IngestStep] = []
    try:
        for step in steps:
            if not step.able_to_run(item):
                continue
            ran.append(step)
            step.run(item, context)
    except InputRejected as exc:
        return _quarantine(item, context, exc.reason)
    except ResourceExhausted as exc:
        # The machine's limit, not the file's fault: not quarantined; the next run tries again.
        return IngestResult(item.label, Status.FAILED, None, item.sha256 or None, str(exc))
    except LuutruError:
        raise
    except Exception as exc:
        log.exception("unexpected failure ingesting %s", item.label)
        return _quarantine(item, context, f"unexpected error: {type(exc).__name__}: {exc}")
    finally:
        for step in reversed(ran):
            step.cleanup(item)
    if item.outcome is None:
        raise RuntimeError(f"pipeline ended without an outcome for {source}")
    return item.outcome


def _quarantine(item: WorkItem, context: IngestContext, reason: str) -> IngestResult:
    try:
        size = item.source.lstat().st_size
    except OSError:
        size = 0
    # An input over the size limit is listed with its reason but not copied.
    keep_copy = size <= context.settings.max_input_bytes
    entry = context.archive.quarantine(item.source, reason, keep_copy, label=item.label)
    return IngestResult(item.label, Status.QUARANTINED, None, entry.sha256 or None, reason)
