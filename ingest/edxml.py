"""edXML packages (QCVN 102:2016/BTTTT): the documents agencies exchange on the national axis.

The header says what the document is (number and notation, issuer, place and date, type,
subject, signer); the attachments carry the document itself, base64-encoded. The package is
archived as received, byte for byte, and each attachment becomes a file of the record.

Parsing is defensive: defusedxml refuses any DTD, entity declaration or external reference
(no XXE, no "billion laughs"). Real packages misspell tags and leave fields empty, so
elements are found by local name whatever their namespace (and a package whose root is the
envelope itself, as some gateway libraries write it, is read too), and what is missing or
cannot be so (an impossible date, one in the future) is reported, never guessed.

Attachment names are kept as the sender wrote them only as far as they are a file's name:
the last part of a path ("../../etc/x" is "x"), without control or direction-override
characters ("a\u202eexe.pdf" would show as "apdf.exe"), at most 255 bytes; a name changed
so is said in ``notes``. The package itself keeps every name as sent.

The package is read as a stream, never whole, so memory does not grow with its size or its
attachments' (bench/RESULTS.md, "edXML packages: peak memory"). Rules:
- the parser is defusedxml's own (``DefusedXMLParser``, as ``fromstring`` uses), fed the
  package ``CHUNK_BYTES`` at a time: a DTD, an entity or an external reference is refused as
  it always was, wherever it stands;
- of the tree only the header (the first ``MessageHeader``) and the attachment being read are
  built, with the text of the elements read from them; everything else is dropped as parsed;
- an attachment's base64 is decoded as it arrives into a work file (``Attachment.path``,
  owner only, in the folder the caller gives: the ingest's workspace), hashed on the way;
  the caller removes the files of a package it was given, the reader those of one it refuses;
- the reason given for refusing a package is the one reading the whole tree first gave: XML
  that is not well-formed anywhere, then a root that is not edXML's, then the first
  attachment over the size limit or not base64 (with ``base64.b64decode(validate=True)``'s
  own words).
"""

from __future__ import annotations

import binascii
import hashlib
import io
import os
import re
import tempfile
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import BinaryIO
from xml.etree.ElementTree import Element, ParseError, SubElement

import defusedxml.ElementTree as SafeElementTree
from defusedxml import DefusedXmlException

from archive.text import normalize

NAMESPACE = "http://www.mic.gov.vn/TBT/QCVN_102_2016"
ROOTS = ("edXML", "edXMLEnvelope")
MAX_NAME_BYTES = 255
# What the parser is given at a time; with expat's own 8 KiB text buffer, all the package's
# bytes the reader holds at once.
CHUNK_BYTES = 1 << 16
DEFAULT_MEDIA_TYPE = "application/octet-stream"


class EdxmlRefused(Exception):
    """The package must not be archived; the message says why."""


@dataclass(frozen=True)
class Attachment:
    content_id: str
    name: str
    media_type: str
    # The decoded content, in a work file: an attachment may be nearly as large as the
    # package, so it is never held in memory whole.
    path: Path
    size: int
    sha256: str

    def head(self, size: int) -> bytes:
        """The first ``size`` bytes: enough to tell the format."""
        with self.path.open("rb") as handle:
            return handle.read(size)


@dataclass
class EdxmlDocument:
    number: str = ""
    issuer: str = ""
    place: str = ""
    issued_date: date | None = None
    type_name: str = ""
    subject: str = ""
    content: str = ""
    signer: str = ""
    attachments: list[Attachment] = field(default_factory=list)
    # Header fields that are absent or empty.
    missing: list[str] = field(default_factory=list)
    # Header fields present but not to be believed (an impossible or future date).
    unsure: list[str] = field(default_factory=list)
    # What the record should say about the package (a renamed or empty attachment).
    notes: list[str] = field(default_factory=list)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _find(parent: Element | None, *path: str) -> Element | None:
    """The first element down ``path`` of local names, at any depth for the first step."""
    if parent is None:
        return None
    found = next((e for e in parent.iter() if _local(e.tag) == path[0]), None)
    for name in path[1:]:
        if found is None:
            return None
        found = next((e for e in found if _local(e.tag) == name), None)
    return found


def _text(parent: Element | None, *path: str) -> str:
    element = _find(parent, *path)
    return normalize(" ".join((element.text or "").split())) if element is not None else ""


# The elements whose text is read: the last step of every path given to ``_text`` below.
# Any other element's text (a signature, a second encoded content) is dropped as it is parsed.
_READ_TEXT = frozenset(
    {
        "CodeNumber",
        "CodeNotation",
        "OrganName",
        "Place",
        "PromulgationDate",
        "TypeName",
        "Subject",
        "Content",
        "Position",
        "FullName",
        "AttachmentName",
        "ContentId",
        "ContentType",
    }
)


def read(
    source: BinaryIO, max_attachment_bytes: int, work_dir: Path, max_read: int | None = None
) -> EdxmlDocument:
    """The package in ``source`` (its first ``max_read`` bytes), its attachments decoded into
    files in ``work_dir``; ``EdxmlRefused`` says why it cannot be archived."""
    reader = _Reader(max_attachment_bytes, work_dir)
    try:
        _feed(source, reader, max_read)
        return reader.document()
    except BaseException:
        reader.remove_files()
        raise


def parse(data: bytes, max_attachment_bytes: int, work_dir: Path | None = None) -> EdxmlDocument:
    """``read`` of a package already in memory. An ingest gives its workspace as ``work_dir``;
    None (outside an archive) is the system's temp folder."""
    folder = work_dir if work_dir is not None else Path(tempfile.gettempdir())
    return read(io.BytesIO(data), max_attachment_bytes, folder)


def _feed(source: BinaryIO, reader: _Reader, max_read: int | None) -> None:
    parser = SafeElementTree.DefusedXMLParser(target=reader, forbid_dtd=True)
    try:
        for chunk in _chunks(source, max_read):
            parser.feed(chunk)
        parser.close()
    except DefusedXmlException as exc:
        raise EdxmlRefused(
            f"the XML declares a DTD or entities ({type(exc).__name__}), which an archive "
            "must not expand (XXE, 'billion laughs')"
        ) from None
    except ParseError as exc:
        raise EdxmlRefused(f"not well-formed XML: {exc}") from None


def _chunks(source: BinaryIO, max_read: int | None) -> Iterator[bytes]:
    left = max_read
    while left is None or left > 0:
        chunk = source.read(CHUNK_BYTES if left is None else min(CHUNK_BYTES, left))
        if not chunk:
            return
        if left is not None:
            left -= len(chunk)
        yield chunk


class _Reader:
    """The parser's target: builds the header and one attachment at a time (the elements
    ``_find`` looks through) and streams each attachment's content into a file."""

    def __init__(self, max_attachment_bytes: int, work_dir: Path) -> None:
        self.max_bytes = max_attachment_bytes
        self.work_dir = work_dir
        # The open elements, innermost last; None for one outside the header and the
        # attachments, which is not built.
        self.open: list[Element | None] = []
        self.header: Element | None = None
        self.header_seen = False
        self.reading: _Reading | None = None
        # The element whose text is being gathered (its text is what comes before its first
        # child), and the text so far.
        self.texted: Element | None = None
        self.parts: list[str] = []
        self.content: _Content | None = None
        self.attachments: list[Attachment] = []
        self.notes: list[str] = []
        self.count = 0
        # The first reason to refuse the package: said once the XML has proved well-formed,
        # which reading the whole tree first made the first reason of all.
        self.refusal = ""

    def start(self, tag: str, attrib: dict[str, str]) -> None:
        self._end_text()
        name = _local(tag)
        if not self.open and name not in ROOTS:
            self.refusal = f"an XML file, but not an edXML package (root <{name}>)"
        parent = self.open[-1] if self.open else None
        element = None
        if not self.refusal:  # once refused, only well-formedness is left to see
            element = self._kept(name, tag, None if parent is None else SubElement(parent, tag))
        if element is not None and name in _READ_TEXT:
            self.texted = element
        self.open.append(element)

    def _kept(self, name: str, tag: str, element: Element | None) -> Element | None:
        """``element`` as built (None: outside what is kept), starting the header, an
        attachment or its content when it is one."""
        if name == "MessageHeader" and not self.header_seen:
            self.header_seen = True
            self.header = element = element if element is not None else Element(tag)
        if name == "Attachment" and self.reading is None:
            element = element if element is not None else Element(tag)
            self.reading = _Reading(element, len(self.open))
        elif name == "ContentTransferEncoded" and self.reading and not self.reading.encoded:
            self.reading.encoded = True
            self.content = self.reading.content = _Content(self.work_dir, self.max_bytes)
        return element

    def data(self, text: str) -> None:
        if self.content is not None:
            self.content.feed(text)
        elif self.texted is not None:
            self.parts.append(text)

    def end(self, tag: str) -> None:
        self._end_text()
        self.open.pop()
        reading = self.reading
        if reading is not None and len(self.open) == reading.depth:
            self.reading = None
            if not self.refusal:
                self._finish(reading)
            elif reading.content is not None:
                reading.content.discard()

    def _end_text(self) -> None:
        """A start or an end tag: the text of the innermost element, if any was read, ends."""
        self.content = None
        if self.texted is not None:
            self.texted.text = "".join(self.parts)
            self.texted = None
            self.parts.clear()

    def _finish(self, reading: _Reading) -> None:
        self.count += 1
        sent = _text(reading.element, "AttachmentName")
        name = safe_name(sent, self.count)
        if sent and name != sent:
            self.notes.append(f"attachment name {sent!r} is stored as {name!r}")
        content = reading.content
        if content is None or content.blank:
            if content is not None:
                content.discard()
            # A reference to a document sent some other way, not an attachment with content.
            self.notes.append(f"attachment {name!r} has no content in the package")
            return
        self.refusal = content.refusal(name)
        if self.refusal:
            content.discard()
            return
        size, digest = content.close()
        media_type = _text(reading.element, "ContentType") or DEFAULT_MEDIA_TYPE
        content_id = _text(reading.element, "ContentId")
        self.attachments.append(
            Attachment(content_id, name, media_type, content.path, size, digest)
        )

    def document(self) -> EdxmlDocument:
        if self.refusal:
            raise EdxmlRefused(self.refusal)
        found = EdxmlDocument(notes=self.notes)
        _read_header(self.header, found)
        found.attachments = self.attachments
        return found

    def remove_files(self) -> None:
        for attachment in self.attachments:
            attachment.path.unlink(missing_ok=True)
        if self.reading is not None and self.reading.content is not None:
            self.reading.content.discard()


@dataclass
class _Reading:
    """An outermost ``Attachment`` element being parsed: the first ``ContentTransferEncoded``
    inside it, at any depth, is its content (an attachment within it is not one of its own)."""

    element: Element
    depth: int
    encoded: bool = False
    content: _Content | None = None


def _read_header(header: Element | None, found: EdxmlDocument) -> None:
    number, notation = _text(header, "Code", "CodeNumber"), _text(header, "Code", "CodeNotation")
    found.number = "/".join(part for part in (number, notation) if part).replace(" ", "")
    found.issuer = _text(header, "From", "OrganName")
    found.place = _text(header, "PromulgationInfo", "Place")
    when = _text(header, "PromulgationInfo", "PromulgationDate")
    found.issued_date = _date(when, found)
    found.type_name = _text(header, "DocumentType", "TypeName")
    found.subject = _text(header, "Subject")
    found.content = _text(header, "Content")
    signer = [_text(header, "SignerInfo", part) for part in ("Position", "FullName")]
    found.signer = " ".join(part for part in signer if part)
    for name, value in (
        ("number (Code)", found.number),
        ("issuer (From/OrganName)", found.issuer),
        ("date (PromulgationDate)", when),
        ("subject (Subject)", found.subject),
    ):
        if not value:
            found.missing.append(name)


def _date(text: str, found: EdxmlDocument) -> date | None:
    """The promulgation date (yyyy/mm/dd, or with dashes); an impossible one, or one after
    tomorrow (a day's slack for time zones), is left empty and said."""
    if not text:
        return None
    match = re.fullmatch(r"(\d{4})[/-](\d{1,2})[/-](\d{1,2})", text)
    if not match:
        found.unsure.append(f"date (PromulgationDate): {text!r} is not a date (yyyy/mm/dd)")
        return None
    try:
        when = date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        found.unsure.append(f"date (PromulgationDate): {text!r} is no day of the calendar")
        return None
    if when > date.today() + timedelta(days=1):
        found.unsure.append(f"date (PromulgationDate): {text!r} is in the future")
        return None
    return when


def safe_name(raw: str, number: int) -> str:
    """An attachment's name as a file name (see the module's docstring)."""
    kept = "".join(c for c in raw if unicodedata.category(c) not in ("Cc", "Cf"))
    name = re.split(r"[/\\]", kept)[-1].strip()
    if name in ("", ".", ".."):
        return f"attachment-{number}"
    if len(name.encode("utf-8")) > MAX_NAME_BYTES:
        stem, dot, suffix = name.rpartition(".")
        tail = f".{suffix}" if dot and stem and len(suffix) <= 10 else ""
        room = MAX_NAME_BYTES - len(tail.encode("utf-8"))
        head = (stem if tail else name).encode("utf-8")[:room].decode("utf-8", "ignore")
        name = head + tail
    return name


_BASE64_LINE_BREAKS = str.maketrans("", "", " \t\r\n\x0b\x0c")
_NOT_DATA = re.compile(rb"[^A-Za-z0-9+/]")


class _Content:
    """The text of an attachment's ``ContentTransferEncoded`` as it is parsed, decoded into
    a work file; what is wrong with it is said by ``refusal`` once the text has ended, in the
    order the whole text was judged: its size, then ASCII, then base64."""

    def __init__(self, work_dir: Path, max_bytes: int) -> None:
        fd, name = tempfile.mkstemp(prefix="attachment-", dir=work_dir)
        self.path = Path(name)
        self._out = os.fdopen(fd, "wb")
        self._digest = hashlib.sha256()
        self._size = 0
        self._max_bytes = max_bytes
        # Only whitespace so far (str.strip's, wider than the line breaks taken out).
        self.blank = True
        self._chars = 0
        self._non_ascii = False
        self._base64 = _StrictBase64()

    @property
    def _over_limit(self) -> bool:
        return self._chars * 3 // 4 > self._max_bytes

    def feed(self, text: str) -> None:
        if self.blank and text.strip():
            self.blank = False
        text = text.translate(_BASE64_LINE_BREAKS)
        # Both looked for to the end whatever else is wrong: the size limit is the first
        # reason given, a character that is not ASCII the second.
        self._chars += len(text)
        self._non_ascii = self._non_ascii or not text.isascii()
        if self._non_ascii or self._base64.error or self._over_limit:
            return
        self._write(self._base64.decode(text.encode("ascii")))

    def _write(self, data: bytes) -> None:
        if data:
            self._out.write(data)
            self._digest.update(data)
            self._size += len(data)

    def refusal(self, name: str) -> str:
        """Why the attachment called ``name`` cannot be archived, or ""."""
        if self._over_limit:
            return f"attachment {name!r} is over the size limit of {self._max_bytes}"
        if self._non_ascii:
            error = "string argument should contain only ASCII characters"
        else:
            self._write(self._base64.finish())
            error = self._base64.error
        return f"attachment {name!r} cannot be decoded from base64: {error}" if error else ""

    def close(self) -> tuple[int, str]:
        """The content's size and sha256, once it is on disk."""
        self._out.flush()
        # A full disk or quota can show only here (NFS, delayed allocation): said while the
        # package is read, not later as an attachment cut short.
        os.fsync(self._out.fileno())
        self._out.close()
        return self._size, self._digest.hexdigest()

    def discard(self) -> None:
        self._out.close()
        self.path.unlink(missing_ok=True)


class _StrictBase64:
    """``binascii.a2b_base64(text, strict_mode=True)``, which ``b64decode(validate=True)``
    is, a piece of the text at a time: the same bytes, and for bad text the same first error
    (``error``), without the text ever whole. tests/ingest/test_edxml_stream.py holds the two
    to the same answers."""

    def __init__(self) -> None:
        self.error = ""
        self._judged = 0  # characters looked at
        self._data = 0  # of them, data characters (not padding)
        self._carry = b""  # data characters short of a group of 4
        self._padding = False
        self._pads = 0  # '=' that close the last group
        self._closed = False

    def decode(self, piece: bytes) -> bytes:
        """The bytes ``piece`` completes."""
        if self.error:
            return b""
        decoded = b""
        if not self._padding:
            bad = _NOT_DATA.search(piece)
            end = bad.start() if bad else len(piece)
            decoded = self._data_run(piece[:end])
            piece = piece[end:]
        self._after_data(piece)
        return decoded

    def _data_run(self, data: bytes) -> bytes:
        self._judged += len(data)
        self._data += len(data)
        joined = self._carry + data
        whole = len(joined) - len(joined) % 4
        self._carry = joined[whole:]
        return binascii.a2b_base64(joined[:whole], strict_mode=True)

    def _after_data(self, rest: bytes) -> None:
        """From a character that is not data on: padding, or what makes the text bad."""
        while rest and not self.error:
            if self._closed:
                self.error = "Excess data after padding"
            elif rest.startswith(b"="):
                run = len(rest) - len(rest.lstrip(b"="))
                self._pad(run)
                rest = rest[run:]
            elif _NOT_DATA.match(rest):
                self.error = "Only base64 data is allowed"
            else:
                self.error = "Discontinuous padding not allowed"

    def _pad(self, run: int) -> None:
        group = self._data % 4
        if self._judged == 0:
            self.error = "Leading padding not allowed"
        elif group < 2:
            # Passed over, as Python 3.11's binascii does (after a whole group, or a lone data
            # character the text's end then refuses); the property test holds the reader to
            # the binascii it runs with.
            self._padding = True
            self._judged += run
        else:
            self._padding = True
            taken = min(run, 4 - group - self._pads)
            self._pads += taken
            self._judged += taken
            self._closed = group + self._pads == 4
            if run > taken:
                self.error = "Excess data after padding"

    def finish(self) -> bytes:
        """The last bytes, the text having ended; sets ``error`` if it ended badly."""
        if self.error:
            return b""
        if self._closed:
            return binascii.a2b_base64(self._carry + b"=" * self._pads, strict_mode=True)
        group = self._data % 4
        if group == 1:
            self.error = (
                f"Invalid base64-encoded string: number of data characters ({self._data}) "
                "cannot be 1 more than a multiple of 4"
            )
        elif group:
            self.error = "Incorrect padding"
        return b""
