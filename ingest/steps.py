"""The built-in ingest steps around reading: taking the input in, OCR, metadata, the archival
copy and the seal. The readers of each format are in ``ingest.read_steps``, the clean-up of
pages in ``ingest.page_steps``; ``PIPELINE`` in ingest/pipeline.py puts them all in order."""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

import pikepdf
from PIL import Image

from archive.errors import InputRejected, ResourceExhausted, StorageError
from archive.fsutil import open_regular
from archive.models import FileRole
from archive.repository import Description, IncomingFile, Provenance
from archive.text import fold, path_text
from ingest import edxml, pdfa
from ingest.agencies import name_book
from ingest.contracts import (
    IngestContext,
    IngestResult,
    Page,
    RecognizedPage,
    Status,
    WorkItem,
)
from ingest.formats import HEADER_BYTES, PDF, detect_format
from ingest.metadata import TYPE_NAMES, DocumentMetadata, doc_type_of, extract

TEXT_MEDIA_TYPE = "text/plain; charset=utf-8"


class Step:
    name = "step"

    def able_to_run(self, item: WorkItem) -> bool:
        return item.outcome is None

    def cleanup(self, item: WorkItem) -> None:
        return None

    def reject(self, item: WorkItem, reason: str) -> InputRejected:
        return InputRejected(item.label, reason)


class CheckInput(Step):
    """Refuse what is not a regular file, empty or oversized (``/dev/zero`` would otherwise
    be read for ever), then read the input ONCE: into a staged copy in the blob store,
    hashed as it is copied. Every later step reads that copy, and sealing moves it into the
    store, so what is archived is exactly what was checked and recognised, even if the
    scanner rewrites the file meanwhile."""

    name = "check-input"

    def run(self, item: WorkItem, context: IngestContext) -> None:
        try:
            with open_regular(item.source) as handle:
                before = os.fstat(handle.fileno())
                if before.st_size == 0:
                    raise self.reject(item, _empty(handle))
                limit = context.settings.max_input_bytes
                if before.st_size > limit:
                    raise self.reject(
                        item, f"the file is {before.st_size} bytes, over the limit of {limit}"
                    )
                item.staged = context.archive.blobs.stage(handle)
                after = os.fstat(handle.fileno())
        except InputRejected as exc:
            raise self.reject(item, _socket(item.source) or exc.reason) from exc
        except OSError as exc:
            if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EROFS):
                # The archive's disk, not the input: the run stops, the input is not blamed.
                raise StorageError(
                    f"cannot write the archive while reading {item.label}: {exc}"
                ) from exc
            raise self.reject(item, f"cannot read the file: {exc.strerror}") from exc
        if (after.st_size, after.st_mtime_ns) != (before.st_size, before.st_mtime_ns) or (
            item.staged.size != before.st_size
        ):
            raise self.reject(item, "the file changed while it was being read")
        item.sha256, item.size = item.staged.sha256, item.staged.size

    def cleanup(self, item: WorkItem) -> None:
        if item.staged is not None:
            item.staged.release()
            item.staged = None


def _empty(handle: BinaryIO) -> str:
    """Why a file of 0 bytes is refused: empty, or a special file that says 0 and is not
    (``/proc/self/environ``), whose content is not a document."""
    if handle.read(1):
        return "the file says it is 0 bytes long but is not (a special file, as in /proc)"
    return "the file is empty (0 bytes)"


def _socket(path: Path) -> str:
    """Opening a socket fails ("No such device or address") before its kind can be seen on
    a descriptor; say what it is instead."""
    try:
        return "not a regular file (a socket)" if stat.S_ISSOCK(path.lstat().st_mode) else ""
    except OSError:
        return ""


def unapplied_options(item: WorkItem, context: IngestContext, record_id: str) -> str | None:
    """What the user asked for that an already archived record does not have, and how to
    change it: re-ingesting never changes a record behind anyone's back."""
    asked = context.settings
    current = context.archive.placement_of(record_id)
    differ = []
    if asked.access is not None and asked.access is not current.access:
        differ.append(f"--access {asked.access.value}")
    if asked.series_code is not None and asked.series_code != current.series_code:
        differ.append(f"--series {asked.series_code}")
    if asked.closed_year is not None and asked.closed_year != current.closed_year:
        differ.append(f"--closed-year {asked.closed_year}")
    if not differ:
        return None
    return (
        f"already archived as record {record_id} (access {current.access.value}, series "
        f"{current.series_code or '-'}, closed {current.closed_year or '-'}); "
        f"{' '.join(differ)} not applied. To change the record: "
        f"luutru edit {record_id} {' '.join(differ)} --reason TEXT"
    )


def _duplicate(item: WorkItem, context: IngestContext, record_id: str) -> IngestResult:
    destroyed = context.archive.destructions([record_id]).get(record_id)
    if destroyed is not None:
        # The id derives from the original, so the file cannot become a record anew; and
        # reported as a duplicate it read as archived when its bytes are gone.
        said = (
            f"this file is the original of record {record_id}, which was {destroyed.told()}: "
            "it was NOT archived again. If this copy should not exist either, dispose of it "
            f"as the list did; 'luutru show {record_id}' shows the record's tombstone"
        )
        return IngestResult(item.label, Status.DESTROYED, record_id, item.sha256, None, said)
    warning = unapplied_options(item, context, record_id)
    return IngestResult(item.label, Status.DUPLICATE, record_id, item.sha256, None, warning)


class SkipDuplicate(Step):
    """An original archived before is not archived again; its record is reported instead."""

    name = "skip-duplicate"

    def run(self, item: WorkItem, context: IngestContext) -> None:
        existing = context.archive.find_by_original(item.sha256)
        if existing is not None:
            item.outcome = _duplicate(item, context, existing)


class DetectFormat(Step):
    name = "detect-format"

    def run(self, item: WorkItem, context: IngestContext) -> None:
        with open_regular(item.work_path) as handle:
            header = handle.read(HEADER_BYTES)
        fmt = detect_format(header)
        if fmt is None:
            raise self.reject(
                item, "not a supported format (PNG, JPEG or TIFF scans, PDF, edXML packages)"
            )
        item.media_type = fmt.media_type


class RecognizeText(Step):
    """Text of every page, as the clean-up steps before it left the page; each page's text
    layer goes into the archival copy at once, with the page as scanned under it. A fault is
    reported with the page it happened on ("attachment 'phu-luc.pdf', page 3: …"): the page
    sources and clean-up steps name it themselves, OCR's faults are named here."""

    name = "ocr"

    def run(self, item: WorkItem, context: IngestContext) -> None:
        assert item.pages is not None, "a read step runs before RecognizeText"
        item.archival = pdfa.ArchivalCopy()
        try:
            for page in item.pages:
                self._take(item, page, context)
        except InputRejected as exc:
            raise self.reject(item, exc.reason) from exc
        item.derived_files.append(
            IncomingFile(
                FileRole.OCR_TEXT,
                TEXT_MEDIA_TYPE,
                f"{item.source.stem}.txt",
                data=item.text.encode("utf-8"),
            )
        )

    def _take(self, item: WorkItem, page: Page, context: IngestContext) -> None:
        if page.known_text is not None:
            item.recognized.append(page.known_text)  # born digital: no needless OCR
            _no_archival_copy(item, f"{page.where} is born digital")
            return
        if page.image is None:
            return
        try:
            recognized = _recognize(context, page.image, page.dpi)
        except InputRejected as exc:
            raise InputRejected(page.where, f"{page.where}: {exc.reason}") from exc
        except ResourceExhausted as exc:
            raise ResourceExhausted(f"{page.where}: {exc}") from exc
        item.pages_read_by_ocr += 1
        _add_to_archival_copy(item, page, recognized)
        # The text layer is in the copy now; the page keeps only its words.
        item.recognized.append(replace(recognized, text_layer_pdf=b""))

    def cleanup(self, item: WorkItem) -> None:
        if item.archival is not None:
            item.archival.close()
            item.archival = None


def _no_archival_copy(item: WorkItem, reason: str) -> None:
    if not item.no_archival_reason:
        item.no_archival_reason = reason


def _add_to_archival_copy(item: WorkItem, page: Page, recognized: RecognizedPage) -> None:
    if not recognized.text_layer_pdf or page.visual is None:
        _no_archival_copy(item, f"the OCR engine gave no text layer for {page.where}")
        return
    try:
        item.archival.add_page(page.visual, recognized.text_layer_pdf, page.visual_tilt)
    except (pikepdf.PdfError, ValueError, OSError) as exc:
        _no_archival_copy(item, f"{page.where} could not be laid out: {exc}")


def _recognize(context: IngestContext, image: Image.Image, dpi: float) -> RecognizedPage:
    """A timeout, a MemoryError or an engine killed by a signal is the machine's, maybe
    passing (another job, swap): one more try before the page is given up."""
    languages, work_dir = context.settings.ocr_languages, context.work_dir
    try:
        return context.ocr.recognize(image, languages, dpi, work_dir=work_dir)
    except (ResourceExhausted, MemoryError):
        pass
    try:
        return context.ocr.recognize(image, languages, dpi, work_dir=work_dir)
    except MemoryError:
        raise ResourceExhausted("OCR ran out of memory twice") from None
    except ResourceExhausted as exc:
        raise ResourceExhausted(f"{exc}, twice") from None


class Describe(Step):
    """Số/ký hiệu, tên loại, cơ quan ban hành, địa danh and ngày, trích yếu from the first
    page's words (``ingest.metadata``); the title becomes type name + subject. What cannot be
    read surely is left empty and said in the record's warnings."""

    name = "describe"

    def run(self, item: WorkItem, context: IngestContext) -> None:
        if isinstance(item.declared, edxml.EdxmlDocument):
            found = _declared_metadata(item.declared)
        else:
            names = name_book(context.settings.agency_names)
            found = extract(item.recognized[0], names) if item.recognized else DocumentMetadata()
        item.warnings.extend(f"metadata: {note}" for note in found.unsure)
        item.description = Description(
            title=found.title or path_text(item.source.stem),
            doc_number=found.number,
            doc_type=found.doc_type,
            type_name=found.type_name,
            issuer=found.issuer,
            issued_date=found.issued_date,
            place=found.place,
            subject=found.subject,
            page_count=item.page_count,
            page_confidences=tuple(page.confidence for page in item.recognized),
        )


def _declared_metadata(header: edxml.EdxmlDocument) -> DocumentMetadata:
    """An edXML header says what the document is; it is taken as said, not read from pages."""
    type_key = " ".join(fold(header.type_name).upper().split())
    type_name, abbreviation = TYPE_NAMES.get(type_key, ("", ""))
    found = DocumentMetadata(
        number=header.number,
        doc_type=abbreviation or (doc_type_of(header.number) if header.number else ""),
        type_name=type_name,
        issuer=header.issuer,
        place=header.place,
        issued_date=header.issued_date,
        subject=header.subject,
    )
    found.unsure.extend(f"{missing} missing from the edXML header" for missing in header.missing)
    found.unsure.extend(header.unsure)
    return found


class MakeArchivalCopy(Step):
    """Finish the PDF/A-2b copy that OCR filled page by page, as a file of the record. A
    record whose pages did not all go through OCR (a born-digital PDF) has none: its own
    file is the document."""

    name = "archival-copy"

    def run(self, item: WorkItem, context: IngestContext) -> None:
        copy = item.archival
        if copy is None or item.pages_read_by_ocr == 0:
            return
        if item.no_archival_reason:
            item.warnings.append(f"no archival PDF/A copy: {item.no_archival_reason}")
            return
        # In the run's folder of the archive home: the copy holds the record's pages.
        assert context.workspace is not None, "ingest_one gives every run a workspace"
        path = context.workspace.new_file("archival-", ".pdf")
        item.temp_files.append(path)
        description = item.description
        copy.save(
            path,
            pdfa.ArchivalMetadata(
                title=description.title,
                subject=description.subject,
                creator=description.issuer,
                created=datetime.now(UTC),
                producer=pdfa.PRODUCER,
            ),
        )
        item.derived_files.append(
            IncomingFile(FileRole.ARCHIVAL, PDF.media_type, f"{item.source.stem}.pdf", path=path)
        )

    def cleanup(self, item: WorkItem) -> None:
        remove_temp_files(item)


def remove_temp_files(item: WorkItem) -> None:
    """The work files the steps wrote for ``item`` (whichever step's cleanup comes first)."""
    for path in item.temp_files:
        path.unlink(missing_ok=True)
    item.temp_files.clear()


class Seal(Step):
    name = "seal"

    def run(self, item: WorkItem, context: IngestContext) -> None:
        original = IncomingFile(
            FileRole.ORIGINAL,
            item.media_type,
            item.source.name,
            staged=item.staged,
            expected_sha256=item.sha256,
        )
        outcome = context.archive.seal(
            [original, *item.derived_files],
            item.description,
            context.settings.placement(),
            source_name=item.source.name,
            warnings=item.warnings,
            provenance=Provenance(context.settings.operator, tuple(item.signatures)),
        )
        if outcome.duplicate:  # another process sealed it since skip-duplicate looked
            item.outcome = _duplicate(item, context, outcome.record_id)
        else:
            warning = "; ".join(item.warnings) or None
            item.outcome = IngestResult(
                item.label,
                Status.SEALED,
                outcome.record_id,
                item.sha256,
                None,
                warning,
                len(item.recognized),
            )
