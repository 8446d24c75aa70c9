"""The ingest steps that open an input by its format and hand its pages on: scans, PDFs and
edXML packages, and the check of the signatures they carry. ``PIPELINE`` in
ingest/pipeline.py puts them in order.

Rules shared by all three readers:
- every page is checked against the limits (``ingest.limits``) before any is decoded or
  drawn, with one budget per input: an edXML package's attachments share it;
- what would be quarantined as an input is quarantined as an attachment too, and then the
  whole package is, with the attachment named in the reason (an encrypted PDF, one with
  JavaScript or launch actions, a damaged scan or PDF, a page over the limits): a record is
  never sealed with a part that the archive would refuse on its own;
- attachments whose content is the same (the same appendix attached twice) are stored and
  read once, under the first name, and the record says so.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from itertools import chain

from archive.errors import InputRejected, StorageError
from archive.fsutil import open_regular
from archive.models import FileRole
from archive.repository import IncomingFile
from ingest import edxml, pdf, scans, signatures
from ingest.contracts import IngestContext, Page, WorkItem
from ingest.formats import HEADER_BYTES, PDF, XML, detect_format
from ingest.limits import PixelBudget
from ingest.steps import Step, remove_temp_files


class ReadScan(Step):
    """Open the scan with Pillow and check every page against the limits before OCR."""

    name = "read-scan"

    def able_to_run(self, item: WorkItem) -> bool:
        return item.outcome is None and item.media_type not in (PDF.media_type, XML.media_type)

    def run(self, item: WorkItem, context: IngestContext) -> None:
        handle = open_regular(item.work_path)
        item.open_files.append(handle)
        budget = PixelBudget(context.settings)
        try:
            item.scan = scans.open_scan(handle, budget)
        except InputRejected as exc:
            raise self.reject(item, exc.reason) from exc
        item.page_count = budget.pages
        item.pages = scans.pages(item.scan)

    def cleanup(self, item: WorkItem) -> None:
        if item.scan is not None:
            item.scan.close()
            item.scan = None
        for handle in item.open_files:
            handle.close()
        item.open_files.clear()


class ReadPdf(Step):
    """Refuse encrypted PDFs and PDFs with JavaScript or launch actions; check the pages
    against the limits; then give the pages, with their own text or drawn for OCR."""

    name = "read-pdf"

    def able_to_run(self, item: WorkItem) -> bool:
        return item.outcome is None and item.media_type == PDF.media_type

    def run(self, item: WorkItem, context: IngestContext) -> None:
        try:
            facts = pdf.inspect(item.work_path)
        except pdf.PdfRefused as exc:
            raise self.reject(item, str(exc)) from exc
        handle = open_regular(item.work_path)
        item.open_files.append(handle)
        try:
            document = pdf.Document(handle)
            item.documents.append(document)
            document.check_pages(PixelBudget(context.settings))
        except pdf.PdfRefused as exc:
            raise self.reject(item, str(exc)) from exc
        except InputRejected as exc:
            raise self.reject(item, exc.reason) from exc
        item.page_count = document.page_count
        if facts.signed:
            # Its signatures are checked by 'check-signatures', which says what it found.
            item.warnings.append("a signed PDF: kept byte for byte, the archival copy beside it")
        item.pages = pdf.pages(document)

    def cleanup(self, item: WorkItem) -> None:
        for document in item.documents:
            document.close()
        item.documents.clear()
        for handle in item.open_files:
            handle.close()
        item.open_files.clear()


class CheckSignatures(Step):
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
                checks = signatures.check_xml_file_signatures(handle, roots)
            package = item.declared
            for attachment in package.attachments if package is not None else ():
                if attachment.head(4) == b"%PDF":
                    found = signatures.check_pdf_signatures(attachment.path, roots)
                    checks += [replace(c, field=f"{attachment.name}: {c.field}") for c in found]
        item.signatures = [check.as_json() for check in checks]
        for check in checks:
            if check.status is not signatures.SignatureStatus.VALID:
                item.warnings.append(
                    f"signature {check.field or check.kind} by {check.signer or 'unknown'}: "
                    f"{check.status.value} ({check.reason})"
                )


class ReadEdxml(Step):
    """An edXML package: its header becomes the record's metadata, each distinct attachment a
    file of the record, and the attachments that are PDFs or scans are read like any input
    (see the module's rules)."""

    name = "read-edxml"

    def able_to_run(self, item: WorkItem) -> bool:
        return item.outcome is None and item.media_type == XML.media_type

    def run(self, item: WorkItem, context: IngestContext) -> None:
        # The attachments are decoded into the run's folder of the archive home: they hold the
        # record's content, and may be nearly as large as the package.
        assert context.workspace is not None, "ingest_one gives every run a workspace"
        limit = context.settings.max_input_bytes
        try:
            with open_regular(item.work_path) as handle:
                package = edxml.read(handle, limit, context.workspace.path, max_read=limit + 1)
        except edxml.EdxmlRefused as exc:
            raise self.reject(item, str(exc)) from exc
        except OSError as exc:
            # The staged copy or the work folder: the archive's disk, not the input.
            raise StorageError(
                f"cannot read or write the archive's work files reading {item.label}: {exc}"
            ) from exc
        item.temp_files.extend(attachment.path for attachment in package.attachments)
        item.declared = package
        item.preface = "\n".join(
            part for part in (package.subject, package.content, package.signer) if part
        )
        item.warnings.extend(package.notes)
        package.attachments = self._distinct(item, package.attachments)
        if not package.attachments:
            item.warnings.append(
                "the package carries no attachment with content: the record holds its header only"
            )
        budget = PixelBudget(context.settings)
        sources = [self._read(item, attachment, budget) for attachment in package.attachments]
        item.pages = chain.from_iterable(sources)

    def _distinct(
        self, item: WorkItem, attachments: list[edxml.Attachment]
    ) -> list[edxml.Attachment]:
        """One of each content: a record's files are distinct blobs."""
        first: dict[str, str] = {}
        distinct = []
        for attachment in attachments:
            digest = attachment.sha256
            if digest in first:
                item.warnings.append(
                    f"attachment {attachment.name!r} has the same content as "
                    f"{first[digest]!r} (sha256 {digest[:16]}…): stored and read once"
                )
                continue
            first[digest] = attachment.name
            distinct.append(attachment)
        return distinct

    def _read(
        self, item: WorkItem, attachment: edxml.Attachment, budget: PixelBudget
    ) -> Iterator[Page]:
        fmt = detect_format(attachment.head(HEADER_BYTES))
        media_type = fmt.media_type if fmt else attachment.media_type
        item.derived_files.append(
            IncomingFile(
                FileRole.ATTACHMENT,
                media_type,
                attachment.name,
                path=attachment.path,
                expected_sha256=attachment.sha256,
            )
        )
        origin = f"attachment {attachment.name!r}"
        try:
            if fmt is PDF:
                return self._pdf_pages(item, attachment, budget, origin)
            if fmt is not None and fmt.is_scan:
                return self._scan_pages(item, attachment, budget, origin)
        except pdf.PdfRefused as exc:
            raise self.reject(item, f"{origin}: {exc}") from exc
        except InputRejected as exc:
            raise self.reject(item, exc.reason) from exc
        item.warnings.append(f"{origin} is stored, not read")
        return iter(())

    def _pdf_pages(
        self, item: WorkItem, attachment: edxml.Attachment, budget: PixelBudget, origin: str
    ) -> Iterator[Page]:
        pdf.inspect(attachment.path)
        handle = open_regular(attachment.path)
        item.open_files.append(handle)
        document = pdf.Document(handle, origin)
        item.documents.append(document)
        document.check_pages(budget)
        item.page_count += document.page_count
        return pdf.pages(document)

    def _scan_pages(
        self, item: WorkItem, attachment: edxml.Attachment, budget: PixelBudget, origin: str
    ) -> Iterator[Page]:
        before = budget.pages
        handle = open_regular(attachment.path)
        item.open_files.append(handle)
        scan = scans.open_scan(handle, budget, origin)
        item.documents.append(scan)
        item.page_count += budget.pages - before
        return scans.pages(scan, origin)

    def cleanup(self, item: WorkItem) -> None:
        for document in item.documents:
            document.close()
        item.documents.clear()
        for handle in item.open_files:
            handle.close()
        item.open_files.clear()
        remove_temp_files(item)
