"""Wiring: the archive and its search index, opened together from an archive home.

This is the composition root: ingest results flow into the index here, so that ingest/ and
search/ never import each other.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from archive.home import ArchiveHome
from archive.repository import Archive
from ingest.contracts import IngestContext, IngestResult, IngestSettings, Status
from ingest.runner import run_ingest
from ingest.tesseract_ocr import OCR_ENGINES
from search.contracts import SearchIndex
from search.engines import open_index
from search.indexer import catch_up, index_records


@dataclass
class Services:
    archive: Archive
    index: SearchIndex

    @classmethod
    def open(cls, home: ArchiveHome) -> Services:
        archive = Archive.open(home)
        return cls(archive, open_index(archive.settings.search_engine, home.index_dir))

    def close(self) -> None:
        self.index.close()
        self.archive.close()

    def __enter__(self) -> Services:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def ingest(
        self,
        inputs: list[Path],
        settings: IngestSettings,
        workers: int = 1,
        on_result: Callable[[IngestResult], None] | None = None,
    ) -> list[IngestResult]:
        """Ingest, then index each sealed record as it arrives."""
        context = IngestContext(self.archive, OCR_ENGINES["tesseract"](), settings)

        def index_and_report(result: IngestResult) -> None:
            if result.status is Status.SEALED and result.record_id:
                index_records(self.archive, self.index, [result.record_id])
            if on_result is not None:
                on_result(result)

        # Records sealed by an earlier, killed run may not have reached the index yet.
        catch_up(self.archive, self.index)
        return run_ingest(inputs, context, workers, index_and_report)
