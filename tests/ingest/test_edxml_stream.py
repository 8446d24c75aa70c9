"""The streaming edXML reader (``ingest.edxml``) against the one that parsed the whole tree
and decoded attachments in memory (``edxml_reference``): the same header, notes, attachments
and reasons for refusing, on packages of every shape real senders write and some no one
should, cut into pieces of any size; hostile XML is still refused; memory stays flat."""

from __future__ import annotations

import base64
import binascii
import tracemalloc
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from ingest import edxml
from tests.ingest import edxml_reference

NS = edxml.NAMESPACE
# tmp_path is one folder for all examples of a test: each leaves it empty.
FIXTURE = [HealthCheck.function_scoped_fixture]
LINE_BREAKS = " \t\r\n"


def _outcome(reader: Any, data: bytes, limit: int, work_dir: Path | None) -> tuple[Any, ...]:
    """What a reader made of ``data``: its reason to refuse, or everything it read."""
    try:
        if work_dir is None:
            document = reader.parse(data, limit)
        else:
            document = reader.parse(data, limit, work_dir)
    except edxml.EdxmlRefused as exc:
        return ("refused", str(exc))
    attachments = [
        (a.content_id, a.name, a.media_type, a.data if work_dir is None else a.path.read_bytes())
        for a in document.attachments
    ]
    header = (document.number, document.issuer, document.place, document.issued_date)
    header += (document.type_name, document.subject, document.content, document.signer)
    return ("read", header, document.missing, document.unsure, document.notes, attachments)


def _same_as_before(data: bytes, limit: int, work_dir: Path) -> tuple[Any, ...]:
    before = _outcome(edxml_reference, data, limit, None)
    now = _outcome(edxml, data, limit, work_dir)
    assert now == before
    files = sorted(work_dir.iterdir())
    if now[0] == "refused":
        assert files == [], "a refused package leaves no work file"
    else:
        assert len(files) == len(now[5])
        for path in files:
            assert path.stat().st_mode & 0o077 == 0  # owner only, as the home
            path.unlink()
    return now


# -- base64, a piece at a time ---------------------------------------------------------------

BASE64_TEXT = st.text(
    alphabet=st.sampled_from(list("QUJD+/az09=") + list(LINE_BREAKS) + ["@", "-", "é", "\xa0"]),
    max_size=40,
)


def _decoded_whole(text: str) -> bytes | str:
    try:
        return base64.b64decode(text.translate(edxml._BASE64_LINE_BREAKS), validate=True)
    except (binascii.Error, ValueError) as exc:
        return str(exc)


def _decoded_in_pieces(text: str, cuts: list[int], tmp_path: Path) -> bytes | str:
    content = edxml._Content(tmp_path, 1 << 20)
    start = 0
    for cut in [*sorted(cuts), len(text)]:
        if text[start:cut]:
            content.feed(text[start:cut])
        start = max(start, cut)
    why = content.refusal("x")
    if why:
        content.discard()
        return why.removeprefix("attachment 'x' cannot be decoded from base64: ")
    content.close()
    data = content.path.read_bytes()
    content.path.unlink()
    return data


@settings(max_examples=600, deadline=None, suppress_health_check=FIXTURE)
@given(
    st.one_of(BASE64_TEXT, st.binary(max_size=30).map(lambda b: base64.b64encode(b).decode())),
    st.lists(st.integers(0, 40), max_size=6),
)
@example("QUJD", [])
@example("QUI=", [3])
@example("QQ==", [2, 3])
@example("QQ=", [])
@example("Q", [])
@example("QUJDQ", [])
@example("=QUJD", [])
@example("QUJD=", [])
@example("QUJD\nQUJD\r\n", [5])
@example("QQ==QQ==", [4])
@example("QQ=Q", [])
@example("QQ===", [4])
@example("QUJ@", [])
@example("QUJé", [])
@example("Q=====", [2])
def test_base64_in_pieces_is_base64_whole(tmp_path: Path, text: str, cuts: list[int]) -> None:
    if not text.strip():
        return  # blank content is an attachment without content, not decoded at all
    assert _decoded_in_pieces(text, cuts, tmp_path) == _decoded_whole(text)


# -- whole packages --------------------------------------------------------------------------

# Pieces of names and header values, entity and character references among them (a control
# character, U+0085, and a direction override that safe_name takes out).
NAME_TEXT = st.lists(
    st.sampled_from([*"ab.-_ /\\Ơờ", "\x85", "&#x202e;", "&amp;", ".."]), max_size=6
).map("".join)
FIELD_TEXT = st.lists(st.sampled_from([*"AaĐđ ờ1/\n\t", "&lt;", "&#273;"]), max_size=8).map("".join)
HEADER_FIELDS = [
    "<{p}Code><{p}CodeNumber>{}</{p}CodeNumber><{p}CodeNotation>{}</{p}CodeNotation></{p}Code>",
    "<{p}From><{p}OrganId>H31</{p}OrganId><{p}OrganName>{}</{p}OrganName></{p}From>",
    "<{p}PromulgationInfo><{p}Place>{}</{p}Place>"
    "<{p}PromulgationDate>{}</{p}PromulgationDate></{p}PromulgationInfo>",
    "<{p}DocumentType><{p}Type>1</{p}Type><{p}TypeName>{}</{p}TypeName></{p}DocumentType>",
    "<{p}Subject>{}</{p}Subject>",
    "<{p}Content>{}<!-- a comment -->{}</{p}Content>",
    "<{p}SignerInfo><{p}Position>{}</{p}Position><{p}FullName>{}</{p}FullName></{p}SignerInfo>",
]
DATES = st.sampled_from(["2023/02/17", "2023-2-7", "2023/02/30", "2999/01/01", "17/02/2023", ""])


@st.composite
def headers(draw: st.DrawFn, prefix: str) -> str:
    fields = draw(st.lists(st.sampled_from(HEADER_FIELDS), unique=True))
    parts = []
    for template in fields:
        values = [
            draw(DATES) if "Date" in template and n == 1 else draw(FIELD_TEXT)
            for n in range(template.count("{}"))
        ]
        parts.append(template.replace("{p}", prefix).format(*values))
    return "".join(parts)


@st.composite
def encodings(draw: st.DrawFn) -> str:
    """Base64 as senders write it (lines of 76 or 64, CRLF, indented, in CDATA, with character
    references for line breaks) and as no one should (cut short, stray characters)."""
    text = base64.b64encode(draw(st.binary(max_size=200))).decode()
    width = draw(st.sampled_from([0, 4, 64, 76]))
    if width:
        breaks = draw(st.sampled_from(["\n", "\r\n", "\n    ", "&#10;", " "]))
        text = breaks.join(text[i : i + width] for i in range(0, len(text), width))
    spoil = draw(st.sampled_from(["", "", "", "cut", "stray", "pad", "blank", "nbsp", "comment"]))
    if spoil == "cut" and text:
        text = text[: draw(st.integers(0, len(text) - 1))]
    elif spoil == "stray":
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(st.sampled_from(["@", "-", "é", "=", "==", "A"])) + text[at:]
    elif spoil == "pad":
        text += "="
    elif spoil == "blank":
        text = draw(st.sampled_from(["", " ", "\n\t ", "\xa0", " \u2003 "]))
    elif spoil == "nbsp":
        text = "\xa0" + text
    elif spoil == "comment" and text:
        at = draw(st.integers(0, len(text)))
        text = text[:at] + "<!-- x -->" + text[at:]
    if draw(st.booleans()) and "<!--" not in text and "&#" not in text:
        text = f"<![CDATA[{text}]]>"
    return "\n  " + text + "\n" if draw(st.booleans()) else text


@st.composite
def attachments(draw: st.DrawFn, prefix: str) -> str:
    parts = [f"<{prefix}ContentId>cid:{draw(st.integers(0, 9))}</{prefix}ContentId>"]
    if draw(st.booleans()):
        parts.append(f"<{prefix}AttachmentName>{draw(NAME_TEXT)}</{prefix}AttachmentName>")
    if draw(st.booleans()):
        parts.append(f"<{prefix}ContentType>application/pdf</{prefix}ContentType>")
    content = draw(st.sampled_from(["one", "one", "none", "two", "child", "nested"]))
    encoded = f"<{prefix}ContentTransferEncoded>{draw(encodings())}"
    if content == "child":  # text after a child is its tail, not the content
        encoded += f"<{prefix}Note>n</{prefix}Note>QUJD"
    encoded += f"</{prefix}ContentTransferEncoded>"
    if content in ("one", "child"):
        parts.append(encoded)
    elif content == "two":
        parts += [encoded, encoded.replace(">", ">QUJD", 1)]
    elif content == "nested":
        inner = f"<{prefix}AttachmentName>inner.pdf</{prefix}AttachmentName>{encoded}"
        parts.append(f"<{prefix}Attachment>{inner}</{prefix}Attachment>")
    order = draw(st.permutations(parts))
    return f"<{prefix}Attachment>{''.join(order)}</{prefix}Attachment>"


@st.composite
def packages(draw: st.DrawFn) -> bytes:
    style = draw(st.sampled_from(["prefixed", "default", "none"]))
    prefix = "edXML:" if style == "prefixed" else ""
    declare = {"prefixed": f' xmlns:edXML="{NS}"', "default": f' xmlns="{NS}"', "none": ""}[style]
    header = f"<{prefix}MessageHeader>{draw(headers(prefix))}</{prefix}MessageHeader>"
    found = draw(st.lists(attachments(prefix), max_size=4))
    encoded = f"<{prefix}AttachmentEncoded>{''.join(found)}</{prefix}AttachmentEncoded>"
    signature = "<Signature><SignatureValue>c2ln</SignatureValue></Signature>"
    envelope = f"<{prefix}edXMLHeader>{header}</{prefix}edXMLHeader>"
    shape = draw(st.sampled_from(["package", "envelope", "attachments first", "other root"]))
    if shape == "package":
        body = f"<{prefix}edXMLEnvelope>{envelope}</{prefix}edXMLEnvelope>{encoded}{signature}"
        root = "edXML"
    elif shape == "envelope":  # as some gateway libraries write it
        body, root = envelope + encoded, "edXMLEnvelope"
    elif shape == "attachments first":
        body, root = encoded + envelope, "edXML"
    else:
        body, root = envelope + encoded, "invoice"
    xml = f"<{prefix}{root}{declare}>{body}</{prefix}{root}>"
    if draw(st.integers(0, 20)) == 0:
        xml = xml[: draw(st.integers(0, len(xml) - 1))]  # cut short: not well-formed
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' + xml).encode()


@settings(max_examples=400, deadline=None, suppress_health_check=FIXTURE)
@given(packages(), st.sampled_from([1, 7, 100, 1 << 16]), st.sampled_from([10, 100, 1 << 20]))
def test_a_package_read_as_a_stream_reads_as_it_did_whole(
    tmp_path: Path, package: bytes, chunk: int, limit: int
) -> None:
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    with mock.patch.object(edxml, "CHUNK_BYTES", chunk):
        _same_as_before(package, limit, work)


def test_the_shapes_the_packages_take_are_all_seen(tmp_path: Path) -> None:
    """The generator above does reach every outcome, not only the easy ones."""
    seen: set[str] = set()

    @settings(max_examples=300, database=None)
    @given(packages())
    def look(package: bytes) -> None:
        outcome = _outcome(edxml_reference, package, 10, None)
        if outcome[0] == "refused":
            reason = outcome[1]
            kinds = ("well-formed", "not an edXML", "size", "base64")
            seen.add(next(kind for kind in kinds if kind in reason))
        else:
            seen.add("read" if outcome[5] else "empty")
            seen.update("note" for note in outcome[4] if "no content" in note)

    look()
    assert seen >= {"well-formed", "not an edXML", "size", "base64", "read", "empty", "note"}


HOSTILE = {
    "xxe": b"""<?xml version="1.0"?>
<!DOCTYPE edXML [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<edXML><Subject>&secret;</Subject></edXML>""",
    "laughs": b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
<edXML><Subject>&lol2;</Subject></edXML>""",
    "external dtd": b"""<?xml version="1.0"?>
<!DOCTYPE edXML SYSTEM "http://example.invalid/edxml.dtd"><edXML/>""",
    "bare dtd": b"<?xml version='1.0'?><!DOCTYPE edXML><edXML/>",
    "parameter entity": b"""<?xml version="1.0"?>
<!DOCTYPE edXML [<!ENTITY % p SYSTEM "file:///etc/passwd"> %p;]><edXML/>""",
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
@pytest.mark.parametrize("chunk", [1, 1 << 16])
def test_a_dtd_or_entities_are_refused_as_before(name: str, chunk: int, tmp_path: Path) -> None:
    with mock.patch.object(edxml, "CHUNK_BYTES", chunk):
        outcome = _same_as_before(HOSTILE[name], 1 << 20, tmp_path)
    assert outcome[0] == "refused"
    assert "declares a DTD or entities" in outcome[1] and "root:" not in outcome[1]


def test_a_dtd_after_a_good_attachment_is_refused_and_its_file_removed(tmp_path: Path) -> None:
    """The first attachment is decoded before the parser meets what refuses the package:
    its work file goes with the refusal."""
    good = base64.b64encode(b"%PDF-1.7 ok").decode()
    package = (
        f'<edXML xmlns="{NS}"><AttachmentEncoded><Attachment><AttachmentName>a.pdf'
        f"</AttachmentName><ContentTransferEncoded>{good}</ContentTransferEncoded></Attachment>"
        "<Attachment><ContentTransferEncoded>&undeclared;</ContentTransferEncoded></Attachment>"
        "</AttachmentEncoded></edXML>"
    ).encode()
    outcome = _same_as_before(package, 1 << 20, tmp_path)
    assert outcome[0] == "refused" and "undefined entity" in outcome[1]


def _big_package(path: Path, sizes: list[int]) -> None:
    """A package of attachments of ``sizes`` bytes, written a piece at a time."""
    with path.open("wb") as out:
        out.write(f'<?xml version="1.0"?><edXML:edXML xmlns:edXML="{NS}">'.encode())
        out.write(b"<edXML:AttachmentEncoded>")
        for n, size in enumerate(sizes):
            out.write(f"<edXML:Attachment><edXML:AttachmentName>{n}.bin".encode())
            out.write(b"</edXML:AttachmentName><edXML:ContentTransferEncoded>")
            piece = bytes(range(256)) * 171  # 43,776 bytes: a multiple of 3 and of 57
            for start in range(0, size, len(piece)):
                out.write(base64.encodebytes(piece[: size - start]))
            out.write(b"</edXML:ContentTransferEncoded></edXML:Attachment>")
        out.write(b"</edXML:AttachmentEncoded></edXML:edXML>")


def test_memory_does_not_grow_with_the_attachment(tmp_path: Path) -> None:
    """A 12 MB attachment (16 MB of base64) read with at most a few hundred KB of Python
    memory: the whole tree and a bytes copy of it took 6 to 25 times the package."""
    source, work = tmp_path / "big.xml", tmp_path / "work"
    work.mkdir()
    _big_package(source, [12_000_000, 1000])
    tracemalloc.start()
    try:
        with source.open("rb") as handle:
            document = edxml.read(handle, 1 << 30, work)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert [a.size for a in document.attachments] == [12_000_000, 1000]
    assert peak < 1_000_000, peak
    assert document.attachments[0].head(512) == bytes(range(256)) * 2
