"""`luutru worker`: one OCR worker process for `luutru ingest --distributed`."""

from __future__ import annotations

import os
import socket
from typing import Annotated

import typer

from api.cli_common import HomeOption, opened, reported
from api.services import ocr_engine
from archive.errors import ConfigError
from ingest.contracts import IngestContext
from ingest.workspace import Workspace


def worker(
    ctx: typer.Context,
    broker: Annotated[
        str | None,
        typer.Option(
            "--broker", metavar="URL", help="redis://… or amqp://… (default: broker_url)."
        ),
    ] = None,
    name: Annotated[
        str | None, typer.Option("--name", metavar="NAME", help="This worker's name in the logs.")
    ] = None,
    home: HomeOption = None,
) -> None:
    """Take inputs from the broker one at a time: clean-up, OCR and the PDF/A copy, on the
    archive home shared with the ingesting machine (it alone seals: the signing key never
    comes here). Run one per core; a worker killed mid-page has its input taken by another.
    Stops on SIGTERM or Ctrl-C after the input in hand."""
    with opened(ctx, home) as services:
        url = broker or services.archive.settings.broker_url
        with reported():
            if not url:
                raise ConfigError(
                    "give --broker, or broker_url in luutru.toml (or LUUTRU_BROKER_URL)"
                )
        from ingest.distributed import make_app, register_task

        settings = services.ingest_settings()
        ocr = ocr_engine(settings)
        with reported():
            ocr.check(settings.ocr_languages)
            workspace = Workspace.open(services.archive.home.root)
        with workspace:
            context = IngestContext(services.archive, ocr, settings, workspace=workspace)
            queue = services.broker_queue()
            app = make_app(url, queue)
            register_task(app, lambda: context)
            label = name or f"luutru-{socket.gethostname()}-{os.getpid()}"
            # One task at a time in this process: what a kill takes down is one input.
            argv = ["worker", "--pool", "solo", "--loglevel", "INFO", "-n", f"{label}@%h"]
            argv += ["--queues", queue, "--without-gossip", "--without-mingle"]
            app.worker_main([*argv, "--without-heartbeat"])
