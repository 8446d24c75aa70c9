"""edXML packages (QCVN 102:2016/BTTTT): the documents agencies exchange on the national axis.

The header says what the document is (number and notation, issuer, place and date, type,
subject, signer); the attachments carry the document itself, base64-encoded. The package is
archived as received, byte for byte, and each attachment becomes a file of the record.

Parsing is defensive: defusedxml refuses any DTD, entity declaration or external reference
(no XXE, no "billion laughs"). Real packages misspell tags and leave fields empty, so
elements are found by local name whatever their namespace, and what is missing is reported,
never guessed.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass, field
from datetime import date
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as SafeElementTree
from defusedxml import DefusedXmlException

from archive.text import normalize

NAMESPACE = "http://www.mic.gov.vn/TBT/QCVN_102_2016"


class EdxmlRefused(Exception):
    """The package must not be archived; the message says why."""


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
    missing: list[str] = field(default_factory=list)


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
    if _local(root.tag) != "edXML":
        raise EdxmlRefused(f"an XML file, but not an edXML package (root <{_local(root.tag)}>)")
    header = _find(root, "MessageHeader")
    found = EdxmlDocument()
    number, notation = _text(header, "Code", "CodeNumber"), _text(header, "Code", "CodeNotation")
    found.number = "/".join(part for part in (number, notation) if part).replace(" ", "")
    found.issuer = _text(header, "From", "OrganName")
    found.place = _text(header, "PromulgationInfo", "Place")
    found.issued_date = _date(_text(header, "PromulgationInfo", "PromulgationDate"), found)
    found.type_name = _text(header, "DocumentType", "TypeName")
    found.subject = _text(header, "Subject")
    found.content = _text(header, "Content")
    signer = [_text(header, "SignerInfo", part) for part in ("Position", "FullName")]
    found.signer = " ".join(part for part in signer if part)
    for name, value in (
        ("number (Code)", found.number),
        ("issuer (From/OrganName)", found.issuer),
        ("date (PromulgationDate)", found.issued_date),
        ("subject (Subject)", found.subject),
    ):
        if not value:
            found.missing.append(name)
    found.attachments = _attachments(root, max_attachment_bytes)
    return found


def _date(text: str, found: EdxmlDocument) -> date | None:
    match = re.fullmatch(r"(\d{4})[/-](\d{1,2})[/-](\d{1,2})", text)
    if not match:
        return None
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        found.missing.append(f"date: {text!r} is no date")
        return None


def _attachments(root: Element, max_bytes: int) -> list[Attachment]:
    attachments = []
    for number, element in enumerate(
        (e for e in root.iter() if _local(e.tag) == "Attachment"), start=1
    ):
        name = _text(element, "AttachmentName") or f"attachment-{number}"
        encoded = _find(element, "ContentTransferEncoded")
        if encoded is None or not (encoded.text or "").strip():
            continue  # a manifest reference, not an attachment with content
        text = "".join((encoded.text or "").split())
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
