"""OCR spread over worker machines (``luutru worker``, ``luutru ingest --distributed``), with the
guarantees of an ingest on one machine.

The same steps run, split in two places:
- the coordinator (the ingest command) reads each input once into the blob store's staging
  area (``check-input``), skips what is archived already (``skip-duplicate``), hands the input
  to a worker (``recognize-remotely``) and, when the worker answers, seals it (``seal``): the
  signing key never leaves the coordinator;
- a worker runs every step between them (format, reading, signatures, clean-up, OCR,
  metadata, the PDF/A archival copy) on the staged copy, which it reads from the shared
  archive home, and leaves the files it made in a folder of its own workspace
  (``tmp/.run-*/handoff-<task>``); the coordinator moves that folder into its own workspace
  before it seals, so whichever of the two is killed, the next run removes what it left.

A task is one input, so that its archival copy is made in one place. Tasks are acknowledged
late and rejected when their worker is lost: a worker killed mid-page (SIGKILL, the OOM
killer, a power cut) has its input given to another worker (RabbitMQ: at once; Redis: after
the visibility timeout); nothing is sealed twice because only the coordinator seals, once,
after the ``skip-duplicate`` check. Running the batch again reports every file as a
duplicate. Each archive has a queue of its own, named by its log's origin, so one broker
serves several archives without a worker taking another archive's input.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

from celery import Celery

from archive.blobstore import StagedBlob
from archive.errors import DependencyMissing, InputRejected, ResourceExhausted
from archive.models import FileRole
from archive.repository import Description, IncomingFile
from ingest.contracts import IngestContext, IngestSettings, IngestStep, RecognizedPage, WorkItem
from ingest.pipeline import PIPELINE
from ingest.steps import Step
from ingest.workspace import WORK_DIR

TASK_NAME = "luutru.recognize"
HANDOFF_PREFIX = "handoff-"
# A worker that stays silent this long for one input is taken for lost.
RESULT_TIMEOUT_SECONDS = 3600
VISIBILITY_TIMEOUT_ENV = "LUUTRU_BROKER_VISIBILITY_TIMEOUT"
_SETTINGS = ("ocr_languages", "max_input_bytes", "max_page_pixels", "max_pages",
             "max_input_pixels", "page_timeout_seconds", "agency_names")  # fmt: skip


def _between(first: str, last: str) -> list[IngestStep]:
    names = [step.name for step in PIPELINE]
    return PIPELINE[names.index(first) + 1 : names.index(last)]


# What a worker runs: every step of PIPELINE after skip-duplicate and before seal.
WORKER_STEPS = _between("skip-duplicate", "seal")


def queue_name(log_origin: str) -> str:
    """The archive's own queue: ``luutru.archive/3f2a…`` gives ``luutru-3f2a…``."""
    return "luutru-" + log_origin.rsplit("/", 1)[-1]


def make_app(broker_url: str, queue: str) -> Celery:
    """The Celery app: late acknowledgement, one task at a time per worker process, tasks of
    a lost worker given to another."""
    backend = broker_url if broker_url.startswith("redis") else "rpc://"
    app = Celery("luutru", broker=broker_url, backend=backend)
    # Redis gives an unacknowledged task back after this long (RabbitMQ at once, when the
    # worker's connection drops): longer than any one input takes, or the input is done twice.
    visibility = int(os.environ.get(VISIBILITY_TIMEOUT_ENV) or RESULT_TIMEOUT_SECONDS)
    app.conf.update(
        task_default_queue=queue,
        task_routes={TASK_NAME: {"queue": queue}},
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        result_expires=24 * 3600,
        broker_connection_retry_on_startup=True,
        broker_transport_options={
            "visibility_timeout": visibility,
            # How often a running worker looks for the tasks of a killed one (else every
            # 100 s, and at its start).
            "unacked_restore_interval": min(60, visibility),
            "unacked_restore_throttle": 1,
        },
        result_backend_transport_options={"visibility_timeout": visibility},
    )
    return app


# --- on the worker -------------------------------------------------------------------------


def recognize_on_worker(
    context: IngestContext, task: dict[str, Any], task_id: str
) -> dict[str, Any]:
    """Run ``WORKER_STEPS`` on the staged input ``task`` names, in the worker's workspace
    (``context.workspace``, open as long as the worker runs); the files made go to a handoff
    folder there, named in the answer."""
    assert context.workspace is not None, "a worker opens its workspace when it starts"
    home = context.archive.home.root
    handoff = context.workspace.path / f"{HANDOFF_PREFIX}{task_id}"
    shutil.rmtree(handoff, ignore_errors=True)  # a task given twice to the same worker
    handoff.mkdir()
    staged = StagedBlob(home / task["staged"], task["sha256"], task["size"], lock_fd=-1)
    item = WorkItem(source=Path(task["name"]), staged=staged, label=task["label"])
    item.sha256, item.size = task["sha256"], task["size"]
    ran: list[IngestStep] = []
    try:
        for step in WORKER_STEPS:
            if step.able_to_run(item):
                ran.append(step)
                step.run(item, context)
        return _answer(item, handoff, home)
    except (InputRejected, ResourceExhausted, MemoryError) as exc:
        shutil.rmtree(handoff, ignore_errors=True)
        return _outcome_of(exc)
    except BaseException:
        shutil.rmtree(handoff, ignore_errors=True)  # no answer will name it
        raise
    finally:
        for step in reversed(ran):
            step.cleanup(item)


def _outcome_of(error: BaseException) -> dict[str, Any]:
    """What a worker answers when the input, or the machine, stopped it."""
    if isinstance(error, InputRejected):
        return {"outcome": "rejected", "reason": error.reason}
    if isinstance(error, ResourceExhausted):
        return {"outcome": "failed", "reason": str(error)}
    return {"outcome": "failed", "reason": "the worker ran out of memory on this input"}


def _answer(item: WorkItem, handoff: Path, home: Path) -> dict[str, Any]:
    files = []
    for number, incoming in enumerate(item.derived_files):
        target = handoff / f"{number:04d}"
        if incoming.path is not None:
            shutil.copyfile(incoming.path, target)
        else:
            target.write_bytes(incoming.data or b"")
        files.append({"role": incoming.role.value, "media_type": incoming.media_type,
                      "name": incoming.name, "file": target.name})  # fmt: skip
    described = asdict(item.description)
    described["issued_date"] = (
        item.description.issued_date.isoformat() if item.description.issued_date else None
    )
    return {
        "outcome": "ok",
        "handoff": str(handoff.relative_to(home)),
        "media_type": item.media_type,
        "page_count": item.page_count,
        "pages_read": len(item.recognized),
        "description": described,
        "warnings": item.warnings,
        "signatures": item.signatures,
        "files": files,
    }


def register_task(app: Celery, open_context: Callable[[], IngestContext]) -> None:
    """The task, in a worker: ``open_context`` gives the worker's archive, OCR and settings."""

    @app.task(name=TASK_NAME, bind=True)  # type: ignore[untyped-decorator]
    def recognize(self: Any, task: dict[str, Any]) -> dict[str, Any]:
        context = open_context()
        settings = replace(context.settings, **_settings_of(task["settings"]))
        return recognize_on_worker(replace(context, settings=settings), task, self.request.id)


def _settings_of(values: dict[str, Any]) -> dict[str, Any]:
    known = {k: v for k, v in values.items() if k in _SETTINGS}
    if "agency_names" in known:
        known["agency_names"] = tuple(known["agency_names"])
    return known


# --- on the coordinator --------------------------------------------------------------------


@dataclass
class Dispatcher:
    """Sends inputs to the workers and waits for their answers."""

    app: Celery
    home: Path
    queue: str

    def check_workers(self) -> None:
        try:
            answered = self.app.control.inspect(timeout=3.0).active_queues() or {}
        except Exception as exc:  # kombu's connection errors have no common base
            raise DependencyMissing(
                f"the message broker does not answer: {type(exc).__name__}: {exc}"
            ) from exc
        serving = [name for name, queues in answered.items()
                   if any(queue.get("name") == self.queue for queue in queues or ())]  # fmt: skip
        if not serving:
            raise DependencyMissing(
                f"no luutru worker of this archive answers on the broker (queue {self.queue}): "
                "start 'luutru worker' on a machine that shares the archive home"
            )

    def recognize(self, item: WorkItem, settings: IngestSettings) -> dict[str, Any]:
        assert item.staged is not None
        task = {
            "staged": str(item.staged.path.relative_to(self.home)),
            "sha256": item.sha256,
            "size": item.size,
            "name": os.fsdecode(item.source.name).encode("utf-8", "replace").decode("utf-8"),
            "label": item.label,
            "settings": {name: getattr(settings, name) for name in _SETTINGS},
        }
        pending = self.app.send_task(
            TASK_NAME, args=[json.loads(json.dumps(task))], queue=self.queue
        )
        try:
            answer: dict[str, Any] = pending.get(timeout=RESULT_TIMEOUT_SECONDS, propagate=True)
        except Exception as exc:  # the broker's and Celery's own errors: the machine's fault
            raise ResourceExhausted(
                f"no worker finished this input: {type(exc).__name__}: {exc}"
            ) from exc
        return answer


class RecognizeRemotely(Step):
    """The coordinator's stand-in for the worker's steps: hand the staged input over, wait,
    and take back what the worker found and made."""

    name = "recognize-remotely"

    def __init__(self, dispatcher: Dispatcher) -> None:
        self.dispatcher = dispatcher
        self._handoffs: dict[int, Path] = {}  # by id(item): inputs run in several threads

    def run(self, item: WorkItem, context: IngestContext) -> None:
        answer = self.dispatcher.recognize(item, context.settings)
        if answer["outcome"] == "rejected":
            raise self.reject(item, answer["reason"])
        if answer["outcome"] == "failed":
            raise ResourceExhausted(answer["reason"])
        handoff = self._take(answer["handoff"], context)
        self._handoffs[id(item)] = handoff
        item.media_type = answer["media_type"]
        item.page_count = answer["page_count"]
        item.recognized = [RecognizedPage("") for _ in range(answer["pages_read"])]
        item.warnings.extend(answer["warnings"])
        item.signatures = answer["signatures"]
        item.description = _description(answer["description"])
        item.derived_files = [
            IncomingFile(
                FileRole(f["role"]),
                f["media_type"],
                f["name"],
                path=handoff / f["file"],
            )
            for f in answer["files"]
        ]

    def _take(self, handoff: str, context: IngestContext) -> Path:
        """Move the worker's folder into this run's workspace: from here on a kill of either
        side leaves it where the next run removes it."""
        assert context.workspace is not None
        source = self.dispatcher.home / handoff
        if source.parent.parent != self.dispatcher.home / WORK_DIR:
            raise ResourceExhausted(f"a worker answered with a folder outside tmp/: {handoff}")
        taken = context.workspace.path / source.name
        try:
            source.rename(taken)
        except OSError as exc:
            raise ResourceExhausted(
                f"the worker's files for this input are gone ({exc.strerror}): its worker was "
                "stopped before they were taken; ingest the file again"
            ) from exc
        return taken

    def cleanup(self, item: WorkItem) -> None:
        handoff = self._handoffs.pop(id(item), None)
        if handoff is not None:
            shutil.rmtree(handoff, ignore_errors=True)


def _description(values: dict[str, Any]) -> Description:
    issued = values.get("issued_date")
    return Description(
        **{
            **values,
            "issued_date": date.fromisoformat(issued) if issued else None,
            "page_confidences": tuple(values.get("page_confidences") or ()),
        }
    )


def distributed_pipeline(dispatcher: Dispatcher) -> list[IngestStep]:
    """PIPELINE with the worker's steps replaced by one hand-over: the same order, the same
    first and last steps."""
    names = [step.name for step in PIPELINE]
    head = PIPELINE[: names.index("skip-duplicate") + 1]
    tail = PIPELINE[names.index("seal") :]
    return [*head, RecognizeRemotely(dispatcher), *tail]
