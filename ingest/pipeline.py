"""The ingest pipeline: one ordered list of steps, run for one input at a time."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

from archive.errors import InputRejected, LuutruError, ResourceExhausted
from ingest.contracts import IngestContext, IngestResult, IngestStep, Status, WorkItem
from ingest.page_steps import CheckDigitization, Denoise, Deskew, Grayscale, Orient, Upscale
from ingest.read_steps import CheckSignatures, ReadEdxml, ReadPdf, ReadScan
from ingest.steps import (
    CheckInput,
    Describe,
    DetectFormat,
    MakeArchivalCopy,
    RecognizeText,
    Seal,
    SkipDuplicate,
)
from ingest.workspace import Workspace

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
    Work files go in ``context.workspace``; without one (a caller other than ``run_ingest``)
    the input gets a workspace of its own in the archive home.
    """
    if context.workspace is None:
        with Workspace.open(context.archive.home.root) as workspace:
            return ingest_one(source, replace(context, workspace=workspace), steps, label)
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
        return _failed(item, str(exc))
    except MemoryError:
        return _failed(item, "the machine ran out of memory reading this input; run it again")
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


def _failed(item: WorkItem, reason: str) -> IngestResult:
    return IngestResult(item.label, Status.FAILED, None, item.sha256 or None, reason)


def _quarantine(item: WorkItem, context: IngestContext, reason: str) -> IngestResult:
    try:
        size = item.source.lstat().st_size
    except OSError:
        size = 0
    # An input over the size limit is listed with its reason but not copied.
    keep_copy = size <= context.settings.max_input_bytes
    # The placement goes with it: a retry must archive it as it was to be (a secret scan
    # never comes back at a lower level).
    entry = context.archive.quarantine(
        item.source, reason, keep_copy, label=item.label, placement=context.settings.placement()
    )
    return IngestResult(item.label, Status.QUARANTINED, None, entry.sha256 or None, reason)
