"""Extension points of ingest: the OCR engine and the ingest step.

OcrEngine rules:
- ``check`` raises ``DependencyMissing`` when the engine or a requested language is not
  installed; the runner calls it once before any file, so a missing tesseract stops the run
  instead of quarantining every scan;
- ``recognize`` gets one page image and its resolution and returns, from ONE recognition of
  the page, its text, the words' boxes and confidences, and the page's invisible text layer as
  a one-page PDF sized for ``dpi`` (empty when the engine cannot make one: the record then has
  no archival PDF/A copy, and says so); it raises ``InputRejected`` only for a fault of that
  page, and ``ResourceExhausted`` for a fault of the machine (a timeout, the engine killed by
  a signal such as the out-of-memory killer's, an exit without a word): the page is tried
  once more, then the input is reported as failed, never quarantined;
- ``orientation`` says by how many degrees (0, 90, 180, 270, clockwise) a page must turn to
  stand upright, or None when it cannot tell (too little text): then the page is left as is;
- both write their work files (the page image, the engine's output) under ``work_dir``, the
  run's folder in the archive home (``ingest.workspace``), never in $TMPDIR: they hold the
  page's content. None (outside an archive) means the system's temp folder.

IngestStep rules (after paperless-ngx's consume plugins):
- ``able_to_run`` decides from the work item alone whether the step applies;
- ``run`` may fill the item and may set ``item.outcome`` to end the pipeline early
  (a duplicate); it raises ``InputRejected`` to quarantine the input;
- ``cleanup`` always runs, in reverse order, for every step that ran.
Steps get what they need through ``IngestContext``; none reads global settings.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from PIL import Image

from archive.blobstore import StagedBlob
from archive.models import AccessLevel
from archive.repository import Archive, Description, IncomingFile, Placement
from archive.text import path_text
from ingest.signatures import TrustRoots
from ingest.workspace import Workspace

DEFAULT_ACCESS = AccessLevel.INTERNAL
# An A4 page scanned at 300 dpi (210 x 297 mm: 2480 x 3508 pixels), what the digitization
# rules ask for: the unit of the pixel budget (``IngestSettings.max_input_pixels``).
A4_300DPI_PIXELS = 2480 * 3508


@dataclass(frozen=True)
class Word:
    """One recognised word: where it stands on the page (pixels) and how sure the engine is
    (0-100). ``block``/``paragraph``/``line`` number the layout the engine found."""

    text: str
    left: int
    top: int
    width: int
    height: int
    confidence: float
    block: int
    paragraph: int
    line: int


@dataclass(frozen=True)
class RecognizedPage:
    text: str
    words: tuple[Word, ...] = ()
    width: int = 0
    height: int = 0
    # The invisible text layer alone (no image): a one-page PDF, laid over the page image in
    # the archival copy (see ingest.pdfa).
    text_layer_pdf: bytes = b""

    @property
    def confidence(self) -> float | None:
        """Mean word confidence, None for a page without words."""
        if not self.words:
            return None
        return sum(w.confidence for w in self.words) / len(self.words)


class OcrEngine(Protocol):
    name: str

    def check(self, languages: str) -> None: ...

    def recognize(
        self, page: Image.Image, languages: str, dpi: float = 300.0, work_dir: Path | None = None
    ) -> RecognizedPage: ...

    def orientation(self, page: Image.Image, work_dir: Path | None = None) -> int | None: ...


@dataclass(frozen=True)
class IngestSettings:
    # None where the user asked for nothing: new records get the default, and a duplicate is
    # only compared on what was asked for.
    access: AccessLevel | None = None
    series_code: str | None = None
    closed_year: int | None = None
    ocr_languages: str = "vie+eng"
    max_input_bytes: int = 1 << 30
    # What one input may cost the machine (``ingest.limits``), checked from the file's
    # headers before any pixel is decoded. One page: at most 100 megapixels, room for the
    # largest real sheets (A1 at 300 dpi or A3 at 600 dpi are 70, A0 at 200 dpi 62), not for
    # a page of absurd size (issue 7's 27 KB TIFF of 12000 x 12000 pages, 144 each: 1 GB and
    # 15 s of OCR a page). All pages together: at most as many pixels as ``max_pages`` A4
    # pages at 300 dpi (17.4 gigapixels), so any hồ sơ of real pages up to the page limit
    # passes (250 pages of A4 at 300 dpi are 2.2), and large pages count as several.
    max_page_pixels: int = 100_000_000
    max_pages: int = 2000
    max_input_pixels: int = 2000 * A4_300DPI_PIXELS
    # One page's OCR; a page over it is retried once, then reported as failed.
    page_timeout_seconds: int = 180
    # The archive's own issuing bodies (``agencies.txt`` in its home), besides the built-in
    # list, whose marks are put back when OCR drops them (``ingest.agencies``).
    agency_names: tuple[str, ...] = ()
    # The CAs whose signatures are trusted (``trust-roots/`` in the archive home): the
    # Government Cipher Committee's and public CAs' roots, several at once.
    trust_roots: TrustRoots = field(default_factory=TrustRoots)
    # Who runs the ingest, sealed as ``ingested_by`` (empty: the operator's login).
    operator: str = ""

    def placement(self) -> Placement:
        return Placement(self.access or DEFAULT_ACCESS, self.series_code, self.closed_year)


def with_limits(settings: IngestSettings, configured: dict[str, int]) -> IngestSettings:
    """``settings`` with the limits of the archive's ``[ingest]`` table (``archive.home``),
    whose units are a person's: MB, megapixels, A4 pages at 300 dpi."""
    mb = configured.get("max_input_mb")
    megapixels = configured.get("max_page_megapixels")
    a4 = configured.get("max_input_a4_pages")
    return replace(
        settings,
        max_input_bytes=settings.max_input_bytes if mb is None else mb << 20,
        max_pages=configured.get("max_pages", settings.max_pages),
        max_page_pixels=settings.max_page_pixels if megapixels is None else megapixels * 10**6,
        max_input_pixels=settings.max_input_pixels if a4 is None else a4 * A4_300DPI_PIXELS,
        page_timeout_seconds=configured.get("page_timeout_seconds", settings.page_timeout_seconds),
    )


@dataclass(frozen=True)
class IngestContext:
    archive: Archive
    ocr: OcrEngine
    settings: IngestSettings
    # The run's folder of work files in the archive home; ``ingest_one`` opens one when the
    # caller (``run_ingest``) has not.
    workspace: Workspace | None = None

    @property
    def work_dir(self) -> Path | None:
        return self.workspace.path if self.workspace is not None else None


class Status(StrEnum):
    SEALED = "sealed"
    DUPLICATE = "duplicate"
    QUARANTINED = "quarantined"
    SKIPPED = "skipped"  # not read at all: scanner litter, hidden files, symbolic links
    FAILED = "failed"  # the machine's limits (time, memory), not the file: run it again
    # The original of a record lawfully destroyed: not archived again (that would undo an
    # approved destruction behind the council's back), and not quarantined either (a kept
    # copy would be the destroyed bytes back in the archive home).
    DESTROYED = "destroyed"


@dataclass(frozen=True)
class IngestResult:
    path: str
    status: Status
    record_id: str | None = None
    sha256: str | None = None
    reason: str | None = None
    # Something the user must know although the input is fine (options not applied).
    warning: str | None = None
    # Pages recognised for this input (0 when none were), for pages/min.
    pages: int = 0

    def as_json(self) -> dict[str, str | None]:
        return {
            "path": self.path,
            "status": self.status.value,
            "record_id": self.record_id,
            "sha256": self.sha256,
            "reason": self.reason,
            "warning": self.warning,
        }


@dataclass
class Page:
    """One page on its way to OCR: the image as the clean-up steps left it."""

    number: int
    # None for a page whose text the file itself carries (a born-digital PDF page).
    image: Image.Image | None
    # The resolution of ``image``: declared by the file, else estimated (see ingest.cleanup).
    dpi: float
    known_text: RecognizedPage | None = None
    # The page as the archival copy shows it: the scan's own colours (stamps are red), turned
    # with ``image`` but not greyed, denoised or resampled for OCR.
    visual: Image.Image | None = None
    # Degrees (clockwise) by which the archival copy turns ``visual`` when it draws it, as
    # deskew turned ``image``: the scan's own pixels are kept, never resampled to straighten.
    visual_tilt: float = 0.0
    # Which file of the input the page is in, when it is not the input itself (an edXML
    # package's "attachment 'phu-luc.pdf'"); pages are numbered within that file.
    origin: str = ""

    def __post_init__(self) -> None:
        if self.visual is None:
            self.visual = self.image

    @property
    def where(self) -> str:
        """The page as a person finds it: "page 3", "attachment 'phu-luc.pdf', page 3"."""
        return page_label(self.number, self.origin)


def page_label(number: int, origin: str = "") -> str:
    return f"{origin}, page {number}" if origin else f"page {number}"


@dataclass
class WorkItem:
    """One input on its way through the pipeline; each step fills a part."""

    source: Path
    # The input as read once at intake; every step after check-input reads this copy.
    staged: StagedBlob | None = None
    # How the input is named to the user: its path as text (see ``archive.text.path_text``),
    # or the path it came from when a quarantined copy is retried.
    label: str = ""
    sha256: str = ""
    size: int = 0
    media_type: str = ""
    scan: Image.Image | None = None
    page_count: int = 0
    # Pages flow through the clean-up steps lazily, one at a time, so a 2,000-page TIFF never
    # sits in memory whole; each page step wraps this iterator.
    pages: Iterator[Page] | None = None
    # Said about the input although it was archived (the digitization standard's checks).
    warnings: list[str] = field(default_factory=list)
    recognized: list[RecognizedPage] = field(default_factory=list)
    description: Description = field(default_factory=Description)
    derived_files: list[IncomingFile] = field(default_factory=list)
    outcome: IngestResult | None = None
    open_files: list[BinaryIO] = field(default_factory=list)
    # Open documents (``ingest.pdf.Document``, an attachment's scan), closed by their
    # step's cleanup.
    documents: list[Any] = field(default_factory=list)
    # What the file says of itself (an edXML header), kept as the record's metadata and put
    # before the pages' text.
    declared: Any = None
    preface: str = ""
    # The archival PDF/A copy being built page by page (ingest.pdfa.ArchivalCopy), and why
    # there will be none when a page cannot go in it.
    archival: Any = None
    no_archival_reason: str = ""
    pages_read_by_ocr: int = 0
    # Files the steps wrote (the archival copy), removed by their step's cleanup.
    temp_files: list[Path] = field(default_factory=list)
    # How the incoming signatures validated (``SignatureCheck.as_json()``), sealed.
    signatures: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.label:
            self.label = path_text(self.source)

    @property
    def work_path(self) -> Path:
        """What the steps read: the copy made at intake (see ``CheckInput``)."""
        return self.staged.path if self.staged is not None else self.source

    @property
    def text(self) -> str:
        # Form feed between pages, as tesseract itself separates them.
        pages = [page.text for page in self.recognized]
        return "\f".join([self.preface, *pages] if self.preface else pages)


class IngestStep(Protocol):
    name: str

    def able_to_run(self, item: WorkItem) -> bool: ...

    def run(self, item: WorkItem, context: IngestContext) -> None: ...

    def cleanup(self, item: WorkItem) -> None: ...
