"""The built-in ingest steps. ``PIPELINE`` in ingest/pipeline.py puts them in order."""

from __future__ import annotations

import errno
import io
import os
import tempfile
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from itertools import chain
from pathlib import Path

import pikepdf
import pypdfium2 as pdfium
from PIL import Image, ImageSequence, UnidentifiedImageError

from archive.errors import InputRejected, ResourceExhausted, StorageError
from archive.fsutil import open_regular
from archive.models import FileRole
from archive.repository import Description, IncomingFile, Provenance
from archive.text import fold, path_text
from ingest import cleanup, edxml, pdf, pdfa, signatures
from ingest.agencies import name_book
from ingest.contracts import (
    IngestContext,
    IngestResult,
    Page,
    RecognizedPage,
    Status,
    WorkItem,
)
from ingest.formats import HEADER_BYTES, PDF, XML, detect_format
from ingest.metadata import TYPE_NAMES, DocumentMetadata, doc_type_of, extract

TEXT_MEDIA_TYPE = "text/plain; charset=utf-8"


class _Step:
    name = "step"

    def able_to_run(self, item: WorkItem) -> bool:
        return item.outcome is None

    def cleanup(self, item: WorkItem) -> None:
        return None

    def reject(self, item: WorkItem, reason: str) -> InputRejected:
        return InputRejected(item.label, reason)


class CheckInput(_Step):
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
                    raise self.reject(item, "the file is empty (0 bytes)")
                limit = context.settings.max_input_bytes
                if before.st_size > limit:
                    raise self.reject(
                        item, f"the file is {before.st_size} bytes, over the limit of {limit}"
                    )
                item.staged = context.archive.blobs.stage(handle)
                after = os.fstat(handle.fileno())
        except InputRejected as exc:
            raise self.reject(item, exc.reason) from exc
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
    warning = unapplied_options(item, context, record_id)
    return IngestResult(item.label, Status.DUPLICATE, record_id, item.sha256, None, warning)


class SkipDuplicate(_Step):
    """An original archived before is not archived again; its record is reported instead."""

    name = "skip-duplicate"

    def run(self, item: WorkItem, context: IngestContext) -> None:
        existing = context.archive.find_by_original(item.sha256)
        if existing is not None:
            item.outcome = _duplicate(item, context, existing)


class DetectFormat(_Step):
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


class ReadScan(_Step):
    """Open the scan with Pillow and check every page against the size limits before OCR."""

    name = "read-scan"

    def able_to_run(self, item: WorkItem) -> bool:
        return item.outcome is None and item.media_type not in (PDF.media_type, XML.media_type)

    def run(self, item: WorkItem, context: IngestContext) -> None:
        limits = context.settings
        handle = open_regular(item.work_path)
        item.open_files.append(handle)
        try:
            scan = Image.open(handle)
            item.scan = scan
            pages = total = 0
            for frame in ImageSequence.Iterator(scan):
                pages += 1
                width, height = frame.size
                total += width * height
                if total > limits.max_input_pixels:
                    raise self.reject(
                        item,
                        f"its pages hold over {limits.max_input_pixels:,} pixels together "
                        f"(by page {pages}); split the file or raise max_input_pixels",
                    )
                if width * height > limits.max_page_pixels:
                    raise self.reject(
                        item,
                        f"page {pages} is {width}x{height} pixels, over the limit of "
                        f"{limits.max_page_pixels} (a decompression bomb or a mis-set scanner)",
                    )
                if pages > limits.max_pages:
                    raise self.reject(item, f"more than {limits.max_pages} pages")
                frame.load()
        except Image.DecompressionBombError as exc:
            raise self.reject(item, f"a page is over the limit of pixels: {exc}") from exc
        except UnidentifiedImageError as exc:
            raise self.reject(item, f"not a readable image: {exc}") from exc
        except (OSError, SyntaxError, ValueError) as exc:
            # Pillow reports truncated and corrupt data as OSError/SyntaxError/ValueError.
            raise self.reject(item, f"the image data is damaged: {exc}") from exc
        item.page_count = pages
        item.pages = _pages(scan)

    def cleanup(self, item: WorkItem) -> None:
        if item.scan is not None:
            item.scan.close()
            item.scan = None
        for handle in item.open_files:
            handle.close()
        item.open_files.clear()


def _pages(scan: Image.Image) -> Iterator[Page]:
    declared = cleanup.declared_dpi(scan)
    for number, frame in enumerate(ImageSequence.Iterator(scan), start=1):
        yield Page(number, frame, cleanup.effective_dpi(frame, declared))


class RecognizeText(_Step):
    """Text of every page, as the clean-up steps before it left the page; each page's text
    layer goes into the archival copy at once, with the page as scanned under it."""

    name = "ocr"

    def run(self, item: WorkItem, context: IngestContext) -> None:
        assert item.pages is not None, "ReadScan runs before RecognizeText"
        languages = context.settings.ocr_languages
        item.archival = pdfa.ArchivalCopy()
        current = 1  # the page being cleaned up or read
        try:
            for page in item.pages:
                current = page.number
                if page.known_text is not None:
                    item.recognized.append(page.known_text)  # born digital: no needless OCR
                    _no_archival_copy(item, f"page {page.number} is born digital")
                elif page.image is not None:
                    recognized = _recognize(context, page.image, languages, page.dpi)
                    item.pages_read_by_ocr += 1
                    _add_to_archival_copy(item, page, recognized)
                    # The text layer is in the copy now; the page keeps only its words.
                    item.recognized.append(replace(recognized, text_layer_pdf=b""))
                current += 1
        except InputRejected as exc:
            raise self.reject(item, f"page {current}: {exc.reason}") from exc
        except ResourceExhausted as exc:
            raise ResourceExhausted(f"page {current}: {exc}") from exc
        item.derived_files.append(
            IncomingFile(
                FileRole.OCR_TEXT,
                TEXT_MEDIA_TYPE,
                f"{item.source.stem}.txt",
                data=item.text.encode("utf-8"),
            )
        )

    def cleanup(self, item: WorkItem) -> None:
        if item.archival is not None:
            item.archival.close()
            item.archival = None


def _no_archival_copy(item: WorkItem, reason: str) -> None:
    if not item.no_archival_reason:
        item.no_archival_reason = reason


def _add_to_archival_copy(item: WorkItem, page: Page, recognized: RecognizedPage) -> None:
    if not recognized.text_layer_pdf or page.visual is None:
        _no_archival_copy(item, f"the OCR engine gave no text layer for page {page.number}")
        return
    try:
        item.archival.add_page(page.visual, recognized.text_layer_pdf)
    except (pikepdf.PdfError, ValueError, OSError) as exc:
        _no_archival_copy(item, f"page {page.number} could not be laid out: {exc}")


def _recognize(
    context: IngestContext, image: Image.Image, languages: str, dpi: float
) -> RecognizedPage:
    """A timeout or a MemoryError is the machine's, maybe passing (another job, swap): one
    more try before the page is given up."""
    try:
        return context.ocr.recognize(image, languages, dpi)
    except (ResourceExhausted, MemoryError):
        pass
    try:
        return context.ocr.recognize(image, languages, dpi)
    except MemoryError:
        raise ResourceExhausted("OCR ran out of memory twice") from None
    except ResourceExhausted as exc:
        raise ResourceExhausted(f"{exc}, twice") from None


class Describe(_Step):
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
    return found


class MakeArchivalCopy(_Step):
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
        handle, name = tempfile.mkstemp(prefix="luutru-archival-", suffix=".pdf")
        os.close(handle)
        item.temp_files.append(Path(name))
        description = item.description
        copy.save(
            Path(name),
            pdfa.ArchivalMetadata(
                title=description.title,
                subject=description.subject,
                creator=description.issuer,
                created=datetime.now(UTC),
                producer=pdfa.PRODUCER,
            ),
        )
        item.derived_files.append(
            IncomingFile(
                FileRole.ARCHIVAL, PDF.media_type, f"{item.source.stem}.pdf", path=Path(name)
            )
        )

    def cleanup(self, item: WorkItem) -> None:
        for path in item.temp_files:
            path.unlink(missing_ok=True)
        item.temp_files.clear()


class Seal(_Step):
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


class ReadPdf(_Step):
    """Refuse encrypted PDFs and PDFs with JavaScript or launch actions; check the pages
    against the limits; then give the pages, with their own text or drawn for OCR."""

    name = "read-pdf"

    def able_to_run(self, item: WorkItem) -> bool:
        return item.outcome is None and item.media_type == PDF.media_type

    def run(self, item: WorkItem, context: IngestContext) -> None:
        limits = context.settings
        try:
            facts = pdf.inspect(item.work_path)
        except pdf.PdfRefused as exc:
            raise self.reject(item, str(exc)) from exc
        if facts.pages > limits.max_pages:
            raise self.reject(item, f"more than {limits.max_pages} pages")
        handle = open_regular(item.work_path)
        item.open_files.append(handle)
        try:
            document = pdfium.PdfDocument(handle)
        except pdfium.PdfiumError as exc:
            raise self.reject(item, f"the PDF cannot be read: {exc}") from exc
        item.documents.append(document)
        total = 0
        for index in range(len(document)):
            pixels = pdf.page_pixels(document, index)
            total += pixels
            if pixels > limits.max_page_pixels or total > limits.max_input_pixels:
                raise self.reject(
                    item, f"page {index + 1} is too large to draw for OCR ({pixels:,} pixels)"
                )
        item.page_count = len(document)
        if facts.signed:
            item.warnings.append(
                "a signed PDF: kept byte for byte; its signature is not validated yet"
            )
        item.pages = pdf.pages(document)

    def cleanup(self, item: WorkItem) -> None:
        for document in item.documents:
            document.close()
        item.documents.clear()


class CheckSignatures(_Step):
    """Validate the incoming digital signatures (a signed PDF; an edXML package's XMLDSig and
    its PDF attachments') against the archive's trust roots, offline (``ingest.signatures``).
    The outcome of each is sealed with the record and shown by ``show``; one that does not
    validate is a warning, never a reason to refuse: the archive keeps what it received, and
    a signed original is kept byte for byte."""

    name = "check-signatures"

    def able_to_run(self, item: WorkItem) -> bool:
        return item.outcome is None and item.media_type in (PDF.media_type, XML.media_type)

    def run(self, item: WorkItem, context: IngestContext) -> None:
        roots = context.settings.trust_roots
        if item.media_type == PDF.media_type:
            checks = signatures.check_pdf_signatures(item.work_path, roots)
        else:
            with open_regular(item.work_path) as handle:
                checks = signatures.check_xml_signatures(handle.read(), roots)
            package = item.declared
            for attachment in package.attachments if package is not None else ():
                if attachment.data.startswith(b"%PDF"):
                    found = signatures.check_pdf_signatures(attachment.data, roots)
                    checks += [replace(c, field=f"{attachment.name}: {c.field}") for c in found]
        item.signatures = [check.as_json() for check in checks]
        for check in checks:
            if check.status is not signatures.SignatureStatus.VALID:
                item.warnings.append(
                    f"signature {check.field or check.kind} by {check.signer or 'unknown'}: "
                    f"{check.status.value} ({check.reason})"
                )


class ReadEdxml(_Step):
    """An edXML package: its header becomes the record's metadata, each attachment a file of
    the record, and the attachments that are PDFs or scans are read like any input."""

    name = "read-edxml"

    def able_to_run(self, item: WorkItem) -> bool:
        return item.outcome is None and item.media_type == XML.media_type

    def run(self, item: WorkItem, context: IngestContext) -> None:
        with open_regular(item.work_path) as handle:
            data = handle.read(context.settings.max_input_bytes + 1)
        try:
            package = edxml.parse(data, context.settings.max_input_bytes)
        except edxml.EdxmlRefused as exc:
            raise self.reject(item, str(exc)) from exc
        item.declared = package
        item.preface = "\n".join(
            part for part in (package.subject, package.content, package.signer) if part
        )
        sources: list[Iterator[Page]] = []
        for attachment in package.attachments:
            fmt = detect_format(attachment.data[:HEADER_BYTES])
            media_type = fmt.media_type if fmt else attachment.media_type
            item.derived_files.append(
                IncomingFile(FileRole.ATTACHMENT, media_type, attachment.name, data=attachment.data)
            )
            if fmt is PDF:
                sources.append(self._pdf_pages(item, attachment, context))
            elif fmt is not None and fmt.is_scan:
                sources.append(self._scan_pages(item, attachment))
            else:
                item.warnings.append(f"attachment {attachment.name!r} is stored, not read")
        item.pages = chain.from_iterable(sources)

    def _pdf_pages(
        self, item: WorkItem, attachment: edxml.Attachment, context: IngestContext
    ) -> Iterator[Page]:
        try:
            pdf.inspect(attachment.data)
            document = pdfium.PdfDocument(attachment.data)
        except (pdf.PdfRefused, pdfium.PdfiumError) as exc:
            item.warnings.append(f"attachment {attachment.name!r} is stored, not read: {exc}")
            return iter(())
        item.documents.append(document)
        item.page_count += len(document)
        return pdf.pages(document)

    def _scan_pages(self, item: WorkItem, attachment: edxml.Attachment) -> Iterator[Page]:
        try:
            scan = Image.open(io.BytesIO(attachment.data))
            frames = [frame.copy() for frame in ImageSequence.Iterator(scan)]
        except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
            item.warnings.append(f"attachment {attachment.name!r} is stored, not read: {exc}")
            return iter(())
        item.page_count += len(frames)
        dpi = cleanup.declared_dpi(scan)
        return (
            Page(n, frame, cleanup.effective_dpi(frame, dpi)) for n, frame in enumerate(frames, 1)
        )

    def cleanup(self, item: WorkItem) -> None:
        for document in item.documents:
            document.close()
        item.documents.clear()
