"""The edXML reader as it was before it streamed (``ingest.edxml`` until 2026-12): the whole
tree parsed at once, each attachment decoded into bytes. Kept only as the reference the
streaming reader is checked against (tests/ingest/test_edxml_stream.py) and as the baseline
of its memory benchmark (bench/edxml_memory.py)."""

# ruff: noqa
# mypy: ignore-errors
from __future__ import annotations

import base64
import binascii
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as SafeElementTree
from defusedxml import DefusedXmlException

from archive.text import normalize
from ingest.edxml import EdxmlRefused

NAMESPACE = "http://www.mic.gov.vn/TBT/QCVN_102_2016"
ROOTS = ("edXML", "edXMLEnvelope")
MAX_NAME_BYTES = 255


@dataclass(frozen=True)
class Attachment:
    content_id: str
    name: str
    media_type: str
    data: bytes


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


def parse(data: bytes, max_attachment_bytes: int) -> EdxmlDocument:
    try:
        root = SafeElementTree.fromstring(data, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise EdxmlRefused(
            f"the XML declares a DTD or entities ({type(exc).__name__}), which an archive "
            "must not expand (XXE, 'billion laughs')"
        ) from None
    except ParseError as exc:
        raise EdxmlRefused(f"not well-formed XML: {exc}") from None
    if _local(root.tag) not in ROOTS:
        raise EdxmlRefused(f"an XML file, but not an edXML package (root <{_local(root.tag)}>)")
    header = _find(root, "MessageHeader")
    found = EdxmlDocument()
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
    found.attachments = _attachments(root, max_attachment_bytes, found)
    return found


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


def _attachment_elements(root: Element) -> Iterator[Element]:
    """The ``Attachment`` elements in document order, not looking inside one: an attachment
    within an attachment is not one (and looking into each, 30,000 nested took minutes)."""
    stack = [root]
    while stack:
        element = stack.pop()
        if _local(element.tag) == "Attachment":
            yield element
            continue
        stack.extend(reversed(element))


def _attachments(root: Element, max_bytes: int, found: EdxmlDocument) -> list[Attachment]:
    attachments = []
    for number, element in enumerate(_attachment_elements(root), start=1):
        sent = _text(element, "AttachmentName")
        name = safe_name(sent, number)
        if sent and name != sent:
            found.notes.append(f"attachment name {sent!r} is stored as {name!r}")
        encoded = _find(element, "ContentTransferEncoded")
        if encoded is None or not (encoded.text or "").strip():
            # A reference to a document sent some other way, not an attachment with content.
            found.notes.append(f"attachment {name!r} has no content in the package")
            continue
        # Line breaks out by one pass over the text (splitting made a string a line).
        text = (encoded.text or "").translate(_BASE64_LINE_BREAKS)
        if len(text) * 3 // 4 > max_bytes:
            raise EdxmlRefused(f"attachment {name!r} is over the size limit of {max_bytes}")
        try:
            data = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise EdxmlRefused(
                f"attachment {name!r} cannot be decoded from base64: {exc}"
            ) from None
        attachments.append(
            Attachment(
                _text(element, "ContentId"),
                name,
                _text(element, "ContentType") or "application/octet-stream",
                data,
            )
        )
    return attachments
