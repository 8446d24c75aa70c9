"""Incoming signatures: did each one validate, offline, against the archive's trust roots.

Electronic documents exchanged between agencies are digitally signed (Decree 30/2020/NĐ-CP):
signed PDFs carry CMS signatures (PAdES or ``adbe.pkcs7.detached``), edXML packages an
enveloped XMLDSig ``Signature`` in their header (QCVN 102:2016/BTTTT). The archive records,
for each signature, whether it validated; the original is kept byte for byte either way, so
the check can be repeated later with other roots.

The rules, in the order they are applied:

- The bytes first. A signature whose digest or signature value does not verify, whose byte
  range does not cover its own revision, or after which the PDF was changed in a way a
  signature does not allow (new page content: what a reader sees is no longer what was
  signed) is ``invalid``, whatever its certificate. So a tampered file is ``invalid``, never
  ``unknown-root``, even with no trust roots at all.
- Then the certificate, the same way for PDF and XML: a chain from the signer's certificate,
  through the certificates the signature carries, to one of the trust roots. Several roots
  are trusted at once (the Government Cipher Committee's, ``O=Ban Co yeu Chinh phu``, and
  public CAs': cross-certification is planned). No chain to any root is ``unknown-root``,
  with the chain as far as it goes; a chain that reaches a root but breaks a rule (a CA that
  may not issue, a key that is not for signing, a certificate not yet valid) is ``invalid``.
- An expired certificate is judged at the signing time: at the time a trusted signature
  timestamp proves, or else at the time the signer claims. Valid then means ``valid``, with a
  reason saying the certificate has since expired and what the signing time rests on (the
  signer's own clock proves nothing); signed after expiry, or with no signing time at all,
  is ``invalid``. Records reach an archive years after signing, when most certificates have
  run out: judging them "now" would call nearly every old record invalid.
- Offline, always: nothing is fetched, revocation is not checked (no OCSP, no CRL), so a
  revoked certificate cannot be told apart here. SHA-1 and other weak algorithms are refused
  (pyHanko's and signxml's defaults).
- A PDF signature that leaves later incremental updates uncovered says so
  (``covers_whole_file=False``); an allowed update (a further signature, form filling) does
  not by itself make it invalid.
- Nothing here raises for a bad or damaged signature: it becomes an ``invalid`` check with a
  reason meant for a person. Only an unusable trust folder raises ``ConfigError``.
- Unsigned files cost almost nothing: a byte search decides before pyHanko (half a second to
  import) or lxml is loaded.
"""

from __future__ import annotations

import base64
import binascii
import io
import logging
import mmap
from collections.abc import Callable, Coroutine, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from functools import cache, partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, TypeVar

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding

from archive.errors import ConfigError

if TYPE_CHECKING:
    from pyhanko_certvalidator.path import ValidationPath

ROOT_SUFFIXES = (".pem", ".crt", ".cer", ".der")
DS_NS = "http://www.w3.org/2000/09/xmldsig#"
DS_SIGNATURE = f"{{{DS_NS}}}Signature"
XADES_NS_PREFIX = "http://uri.etsi.org/01903/"
SIGNING_KEY_USAGES = frozenset({"digital_signature", "non_repudiation"})
MAX_CHAIN = 10
# Signatures checked in one document. Each costs a parse and a validation of its own, so a
# small file of thousands (a flood of fields all pointing at one signature) took minutes;
# a real document has a few. Past this, the rest are said not checked (invalid).
MAX_SIGNATURES = 20
MAX_REASON = 400
_T = TypeVar("_T")


class SignatureStatus(StrEnum):
    VALID = "valid"
    INVALID = "invalid"
    UNKNOWN_ROOT = "unknown-root"


@dataclass(frozen=True)
class SignatureCheck:
    """What one signature showed. ``reason`` says why it is invalid or of an unknown root;
    it is "" for a plainly valid signature and carries the caveat for one judged at its
    signing time (an expired certificate)."""

    kind: str  # "pades" (a PDF's CMS signature) or "xmldsig"
    status: SignatureStatus
    signer: str  # the signer certificate's subject, RFC 4514
    chain: tuple[str, ...]  # subjects from the signer up to the root, as far as it was built
    signing_time: str | None  # ISO 8601 UTC: the trusted timestamp's, else the claimed one
    reason: str
    field: str = ""  # the PDF signature field's name, or the XML Signature's Id
    covers_whole_file: bool | None = None  # False: something was appended after signing

    def as_json(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "status": self.status.value,
            "signer": self.signer,
            "chain": list(self.chain),
            "signing_time": self.signing_time,
            "reason": self.reason,
            "field": self.field,
            "covers_whole_file": self.covers_whole_file,
        }


@dataclass(frozen=True)
class TrustRoots:
    """The certificates a chain may end at; all of them are trusted at once."""

    certificates: tuple[x509.Certificate, ...] = ()

    @classmethod
    def load(cls, folder: Path | None) -> TrustRoots:
        """Every ``*.pem``/``*.crt``/``*.cer``/``*.der`` file in ``folder`` (PEM may hold
        several certificates). A missing folder means no roots; a file that is not a
        certificate is a ``ConfigError`` naming it, never skipped: a root silently missing
        would turn valid signatures into unknown ones."""
        if folder is None or not folder.exists():
            return cls()
        if not folder.is_dir():
            raise ConfigError(f"trust roots: {folder} is not a folder")
        found: dict[bytes, x509.Certificate] = {}
        for path in sorted(folder.iterdir()):
            if path.suffix.lower() in ROOT_SUFFIXES and path.is_file():
                for cert in _read_certificates(path):
                    found.setdefault(cert.fingerprint(hashes.SHA256()), cert)
        return cls(tuple(found.values()))

    @property
    def subjects(self) -> tuple[str, ...]:
        return tuple(_subject(cert) for cert in self.certificates)


def _read_certificates(path: Path) -> list[x509.Certificate]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"trust roots: cannot read {path}: {exc.strerror}") from None
    try:
        if b"-----BEGIN" in data:
            return x509.load_pem_x509_certificates(data)
        return [x509.load_der_x509_certificate(data)]
    except ValueError:
        raise ConfigError(
            f"trust roots: {path} is not an X.509 certificate (PEM or DER); remove it from "
            "the trust folder or replace it with the CA's certificate"
        ) from None


# --- PDF ------------------------------------------------------------------------------------


def check_pdf_signatures(source: Path | bytes, roots: TrustRoots) -> list[SignatureCheck]:
    """One check per signature of the PDF, in signing order; [] for an unsigned PDF.

    Every signature dictionary has a ``/ByteRange`` written in clear (its ``/Contents`` is
    patched in place at a known offset, so it is never inside a compressed object stream):
    without those bytes there is no signature, and pyHanko is not even imported. A PDF that
    has them but cannot be read gives one ``invalid`` check with field "".
    """
    if not _may_hold_pdf_signature(source):
        return []
    if isinstance(source, bytes):
        return _check_pdf(io.BytesIO(source), roots)
    with source.open("rb") as stream:
        return _check_pdf(stream, roots)


def _may_hold_pdf_signature(source: Path | bytes) -> bool:
    if isinstance(source, bytes):
        return b"/ByteRange" in source
    with source.open("rb") as stream:
        if source.stat().st_size == 0:
            return False
        # mmap: a 1 GB scan is searched without reading it into memory.
        with mmap.mmap(stream.fileno(), 0, access=mmap.ACCESS_READ) as view:
            return view.find(b"/ByteRange") >= 0


def _check_pdf(stream: Any, roots: TrustRoots) -> list[SignatureCheck]:
    hanko = _pyhanko()
    try:
        reader = hanko.PdfFileReader(stream, strict=False)
        if reader.encrypted:
            return [_unread("pades", "the PDF is encrypted; its signatures were not checked")]
        fields = list(hanko.enumerate_sig_fields(reader, filled_status=True))
    except MemoryError:  # the machine's limit, not the file's
        raise
    except Exception as exc:  # noqa: BLE001 - hostile input: any failure is the file's
        return [_unread("pades", f"the PDF cannot be read to check its signatures: {_say(exc)}")]
    distinct, seen = [], set()
    for name, value, sig_field in fields:
        # Many fields may point at one signature dictionary: it is one signature.
        key = getattr(value, "idnum", None) or id(value)
        if key not in seen:
            seen.add(key)
            distinct.append((name, sig_field))
    checks = [
        _check_pdf_field(reader, name, sig_field, roots)
        for name, sig_field in distinct[:MAX_SIGNATURES]
    ]
    found = [check for check in checks if check is not None]
    if len(distinct) > MAX_SIGNATURES:
        found.append((1 << 30, _too_many("pades", len(distinct))))
    # Signing order: earlier revisions first; a signature too broken to place goes last.
    return [check for _revision, check in sorted(found, key=lambda pair: pair[0])]


def _check_pdf_field(
    reader: Any, name: str, sig_field: Any, roots: TrustRoots
) -> tuple[int, SignatureCheck] | None:
    """The check of one filled signature field, with its revision for ordering; None for a
    document timestamp (it proves a time, it is nobody's signature)."""
    hanko = _pyhanko()
    try:
        embedded = hanko.EmbeddedPdfSignature(reader, sig_field, name)
        if embedded.sig_object_type == "/DocTimeStamp":
            return None
        revision = int(embedded.signed_revision)
        signer = _from_asn1(embedded.signer_cert)
        carried = [_from_asn1(cert) for cert in embedded.other_embedded_certs]
    except MemoryError:  # the machine's limit, not the file's
        raise
    except Exception as exc:  # noqa: BLE001 - a damaged /Contents is the file's fault
        reason = f"the signature's content (CMS) cannot be read: {_say(exc)}"
        return 1 << 30, _unread("pades", reason, field=name)
    try:
        context = _validation_context(roots, None)
        status = _run(
            hanko.async_validate_pdf_signature(
                embedded,
                signer_validation_context=context,
                ts_validation_context=context,
                key_usage_settings=hanko.KeyUsageConstraints(key_usage=set(SIGNING_KEY_USAGES)),
            )
        )
    except MemoryError:  # the machine's limit, not the file's
        raise
    except Exception as exc:  # noqa: BLE001 - a damaged signature is the file's fault
        reason = f"the signature cannot be verified: {_say(exc)}"
        chain = _subjects(_chain_as_far_as(signer, carried, roots))
        return revision, _check("pades", SignatureStatus.INVALID, chain, None, reason, name)
    return revision, _guarded(
        "pades", name, partial(_pdf_check, status, signer, carried, roots, name)
    )


def _pdf_check(
    status: Any,
    signer: x509.Certificate,
    carried: list[x509.Certificate],
    roots: TrustRoots,
    name: str,
) -> SignatureCheck:
    hanko = _pyhanko()
    covers = status.coverage == hanko.SignatureCoverageLevel.ENTIRE_FILE
    signing_time, proven = _pdf_signing_time(status)
    problem = _pdf_integrity_problem(status)
    if problem:
        chain = _subjects(_chain_as_far_as(signer, carried, roots))
        verdict = _Verdict(SignatureStatus.INVALID, chain, problem)
    else:
        verdict = _judge_certificate(signer, carried, roots, signing_time, proven)
    return SignatureCheck(
        "pades",
        verdict.status,
        _subject(signer),
        verdict.chain,
        _iso(signing_time),
        verdict.reason,
        name,
        covers,
    )


def _pdf_signing_time(status: Any) -> tuple[datetime | None, bool]:
    """The time a trusted signature timestamp proves, else the one the signer claims
    (signingTime attribute or the dictionary's /M); and whether it is proven."""
    stamp = status.timestamp_validity
    if stamp is not None and stamp.intact and stamp.valid and stamp.trusted:
        return stamp.timestamp, True
    claimed = status.signer_reported_dt
    return (claimed, False) if isinstance(claimed, datetime) else (None, False)


def _pdf_integrity_problem(status: Any) -> str:
    """Why the signed bytes themselves do not hold, or "" when they do."""
    hanko = _pyhanko()
    if not status.intact:
        return (
            "the signed bytes were changed after signing: their digest does not match the "
            "one the signature covers"
        )
    if not status.valid:
        return "the signature value does not verify with the signer's certificate's key"
    if status.trust_problem_indic in hanko.CRYPTO_FAILURES:
        return (
            f"the signature uses an algorithm no longer accepted ({status.md_algorithm}, "
            f"{status.pkcs7_signature_mechanism})"
        )
    full = (hanko.SignatureCoverageLevel.ENTIRE_FILE, hanko.SignatureCoverageLevel.ENTIRE_REVISION)
    if status.coverage not in full:
        return "the signed byte range does not cover the whole revision it belongs to"
    if status.docmdp_ok is False:
        # pyHanko's own account names object numbers; its first clause is enough for a person.
        detail = status.diff_result if isinstance(status.diff_result, Exception) else ""
        clause = _say(detail).split(":")[0].split(". ")[0] if detail else ""
        return (
            "the document was changed after this signature in a way a signature does not "
            "allow, so what a reader sees is not what was signed"
            + (f" ({clause})" if clause else "")
        )
    stamp = status.timestamp_validity
    if stamp is not None and not (stamp.intact and stamp.valid):
        return "the signature's timestamp token does not verify"
    return ""


@cache
def _pyhanko() -> Any:
    """pyHanko, imported on the first signed PDF only (about half a second)."""
    from types import SimpleNamespace

    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.ades.report import AdESIndeterminate
    from pyhanko.sign.fields import enumerate_sig_fields
    from pyhanko.sign.validation import (
        EmbeddedPdfSignature,
        SignatureCoverageLevel,
        async_validate_pdf_signature,
    )
    from pyhanko.sign.validation.settings import KeyUsageConstraints

    _quiet_library_logs()
    return SimpleNamespace(
        PdfFileReader=PdfFileReader,
        enumerate_sig_fields=enumerate_sig_fields,
        EmbeddedPdfSignature=EmbeddedPdfSignature,
        SignatureCoverageLevel=SignatureCoverageLevel,
        async_validate_pdf_signature=async_validate_pdf_signature,
        KeyUsageConstraints=KeyUsageConstraints,
        CRYPTO_FAILURES=(
            AdESIndeterminate.CRYPTO_CONSTRAINTS_FAILURE,
            AdESIndeterminate.CRYPTO_CONSTRAINTS_FAILURE_NO_POE,
        ),
    )


def _quiet_library_logs() -> None:
    # pyHanko logs every untrusted or broken signature as a warning with a traceback; with no
    # logging configured Python prints those on stderr. The check's reason says it instead;
    # an application that configures logging still receives the records.
    for name in ("pyhanko", "pyhanko_certvalidator"):
        logger = logging.getLogger(name)
        if not logger.handlers:
            logger.addHandler(logging.NullHandler())


# --- XML (edXML) ----------------------------------------------------------------------------


def check_xml_signatures(xml_bytes: bytes, roots: TrustRoots) -> list[SignatureCheck]:
    """One check per ``ds:Signature`` in the document, in document order; [] when there is
    none.

    The XML may be hostile: it is parsed without DTD, entities or network, and XML that
    declares a DTD gives one ``invalid`` check (the pipeline quarantines it earlier anyway)
    unless the bytes never mention a Signature: then it is [] without parsing.
    The signer is the certificate in the Signature's ``KeyInfo/X509Data``; the other
    certificates there help build its chain, which must end at one of our roots (the
    receiver must already hold the root, it is not taken from the file).
    """
    if _surely_unsigned_xml(xml_bytes):
        return []
    root = _parse_xml(xml_bytes)
    if isinstance(root, str):
        return [_unread("xmldsig", root)]
    signatures = list(root.iter(DS_SIGNATURE))
    checks = [
        _guarded(
            "xmldsig",
            str(signature.get("Id") or ""),
            partial(_check_xml_signature, xml_bytes, root, index, signature, roots),
        )
        for index, signature in enumerate(signatures[:MAX_SIGNATURES])
    ]
    if len(signatures) > MAX_SIGNATURES:
        checks.append(_too_many("xmldsig", len(signatures)))
    return checks


def _too_many(kind: str, count: int) -> SignatureCheck:
    return _unread(
        kind,
        f"the document holds {count} signatures; only the first {MAX_SIGNATURES} were "
        "checked, the rest could not be",
    )


def check_xml_file_signatures(handle: BinaryIO, roots: TrustRoots) -> list[SignatureCheck]:
    """``check_xml_signatures`` of an open file. Most packages are unsigned: that is told
    by reading the file in pieces, never whole into memory (a signed one must be parsed
    whole: XMLDSig's references and canonicalisation need the tree)."""
    if _surely_unsigned_stream(handle):
        return []
    handle.seek(0)
    return check_xml_signatures(handle.read(), roots)


_SCAN_CHUNK = 1 << 20


def _surely_unsigned_stream(handle: BinaryIO) -> bool:
    handle.seek(0)
    head = handle.read(4)
    if not _surely_unsigned_xml(head):  # UTF-16, or too short to tell: parsed
        return False
    tail = head
    while chunk := handle.read(_SCAN_CHUNK):
        # The last bytes of the piece before: a "Signature" cut across two pieces is found.
        window = tail + chunk
        if b"Signature" in window:
            return False
        tail = window[-len(b"Signature") :]
    return True


def _surely_unsigned_xml(data: bytes) -> bool:
    # Only for ASCII-compatible encodings (UTF-8, the edXML norm); UTF-16 is always parsed.
    head = data[:4]
    ascii_compatible = b"\x00" not in head and not head.startswith((b"\xff\xfe", b"\xfe\xff"))
    return ascii_compatible and b"Signature" not in data


def _parse_xml(data: bytes) -> Any:
    """The root element, or why the XML cannot be checked."""
    from xml.parsers import expat

    from lxml import etree  # type: ignore[import-untyped]

    try:
        if _declares_dtd(data):
            return (
                "the XML declares a DTD, which an archive must not expand (XXE, 'billion "
                "laughs'); its signatures were not checked"
            )
        return etree.fromstring(data, parser=_xml_parser())
    except (expat.ExpatError, etree.XMLSyntaxError) as exc:
        return f"not well-formed XML, its signatures cannot be checked: {_say(exc)}"


class _PrologRead(Exception):
    """Raised by the expat handlers to stop reading once the answer is known."""

    def __init__(self, dtd: bool) -> None:
        super().__init__()
        self.dtd = dtd


def _declares_dtd(data: bytes) -> bool:
    """Whether a DOCTYPE comes before the root element; expat reads only that far.

    Checked before lxml sees the bytes: lxml must parse with ``huge_tree`` (an edXML
    attachment is one base64 text node, often over libxml2's 10 MB limit), and that option
    also lifts libxml2's own guards, so no DTD may reach it. A prolog expat cannot read (an
    encoding it does not know) raises ``ExpatError``: the XML is then not checked at all.
    """
    from xml.parsers import expat

    def found(dtd: bool) -> Any:
        def handler(*_: object) -> None:
            raise _PrologRead(dtd)

        return handler

    parser = expat.ParserCreate()
    parser.StartDoctypeDeclHandler = found(True)
    parser.StartElementHandler = found(False)
    try:
        parser.Parse(data, True)
    except _PrologRead as stop:
        return stop.dtd
    return False  # pragma: no cover - a document always has a root element


def _xml_parser() -> Any:
    from lxml import etree

    # No entity expansion, no DTD loading, no network (the settings signxml recommends,
    # tightened); huge_tree for big attachments, safe because a DTD never gets this far.
    return etree.XMLParser(resolve_entities=False, load_dtd=False, no_network=True, huge_tree=True)


def _check_xml_signature(
    data: bytes, root: Any, index: int, signature: Any, roots: TrustRoots
) -> SignatureCheck:
    name = str(signature.get("Id") or "")
    certs = _keyinfo_certificates(signature)
    if isinstance(certs, str):
        return _unread("xmldsig", certs, field=name)
    signer = _leaf(certs)
    carried = [cert for cert in certs if cert is not signer]
    results = _verify_xml(data, index, signer)
    if isinstance(results, str):
        chain = _subjects(_chain_as_far_as(signer, carried, roots))
        return _check("xmldsig", SignatureStatus.INVALID, chain, None, results, name)
    signing_time = _xades_signing_time(results)
    verdict = _judge_certificate(signer, carried, roots, signing_time, proven=False)
    return SignatureCheck(
        "xmldsig",
        verdict.status,
        _subject(signer),
        verdict.chain,
        _iso(signing_time),
        verdict.reason,
        name,
        _covers_whole_document(signature, root),
    )


def _keyinfo_certificates(signature: Any) -> list[x509.Certificate] | str:
    """The certificates of ``KeyInfo/X509Data``, or why there are none to use."""
    path = f"{{{DS_NS}}}KeyInfo/{{{DS_NS}}}X509Data/{{{DS_NS}}}X509Certificate"
    texts = [element.text or "" for element in signature.findall(path)]
    if not texts:
        return (
            "the signature carries no X509Certificate in its KeyInfo, so the archive cannot "
            "tell who signed"
        )
    certs = []
    for text in texts:
        try:
            der = base64.b64decode("".join(text.split()), validate=True)
            certs.append(x509.load_der_x509_certificate(der))
        except (binascii.Error, ValueError) as exc:
            return f"a certificate in the signature's KeyInfo cannot be read: {_say(exc)}"
    return certs


def _leaf(certs: list[x509.Certificate]) -> x509.Certificate:
    """The signer among the KeyInfo certificates: the one that issued none of the others
    (the order in X509Data is not fixed by XMLDSig)."""
    for cert in certs:
        if not any(other.issuer == cert.subject for other in certs if other is not cert):
            return cert
    return certs[0]


def _verify_xml(data: bytes, index: int, signer: x509.Certificate) -> list[Any] | str:
    """signxml's verification of signature number ``index`` with ``signer``'s key: the
    references' digests and the signature value; why not, when it fails.

    The certificate's dates and chain are judged by ``_judge_certificate``, as for PDF, so
    signxml is given a verification time inside the certificate's validity.
    """
    from lxml import etree
    from signxml.exceptions import InvalidDigest, SignXMLException
    from signxml.verifier import SignatureConfiguration

    config = SignatureConfiguration(
        expect_references=True, verification_time=_inside_validity(signer)
    )
    try:
        results = _nth_signature_verifier()(index).verify(
            data, x509_cert=signer, parser=_xml_parser(), expect_config=config
        )
    except InvalidDigest:
        return (
            "the signed content was changed after signing: a reference's digest does not "
            "match the one the signature covers"
        )
    except InvalidSignature:  # signxml's own subclasses it
        return "the signature value does not verify with the key of the certificate in KeyInfo"
    except (SignXMLException, binascii.Error, ValueError) as exc:
        return f"the signature is damaged or not of a supported kind: {_say(exc)}"
    except etree.DocumentInvalid as exc:
        return f"the signature does not follow the XMLDSig schema: {_say(exc)}"
    except MemoryError:  # the machine's limit, not the file's
        raise
    except Exception as exc:  # noqa: BLE001 - hostile input: any failure is the file's
        return f"the signature is damaged: {_say(exc)}"
    return results if isinstance(results, list) else [results]


@cache
def _nth_signature_verifier() -> Any:
    """An XMLVerifier for the n-th ``ds:Signature`` in document order.

    signxml verifies the first Signature it finds at a path; a package with several (or one
    not where signxml looks) needs each picked by position. ``_get_signature`` is called
    on the document and on each copy made for a reference, so the position holds for both.
    """
    from signxml.verifier import XMLVerifier

    class NthSignatureVerifier(XMLVerifier):
        def __init__(self, index: int) -> None:
            super().__init__()
            self.index = index

        def _get_signature(self, root: Any) -> Any:
            return list(root.iter(DS_SIGNATURE))[self.index]

    return NthSignatureVerifier


def _inside_validity(cert: x509.Certificate) -> datetime:
    now = datetime.now(UTC)
    return max(cert.not_valid_before_utc, min(now, cert.not_valid_after_utc))


def _xades_signing_time(results: Iterable[Any]) -> datetime | None:
    """A XAdES ``SigningTime``, read only from content a verified reference covers (an
    unsigned one could be rewritten by anybody)."""
    for result in results:
        if result.signed_xml is None:
            continue
        for element in result.signed_xml.iter():
            tag = element.tag if isinstance(element.tag, str) else ""
            if tag.startswith("{" + XADES_NS_PREFIX) and tag.endswith("}SigningTime"):
                try:
                    found = datetime.fromisoformat((element.text or "").strip())
                except ValueError:
                    return None
                return found if found.tzinfo is not None else None
    return None


def _covers_whole_document(signature: Any, root: Any) -> bool:
    """Whether a reference covers the whole document (``URI=""``, or the root's Id) rather
    than parts of it."""
    path = f"{{{DS_NS}}}SignedInfo/{{{DS_NS}}}Reference"
    root_id = root.get("Id") or root.get("ID")
    for reference in signature.findall(path):
        uri = reference.get("URI")
        if uri == "" or (root_id and uri == f"#{root_id}"):
            return True
    return False


# --- certificate chain, the same for both kinds -----------------------------------------------


@dataclass(frozen=True)
class _Verdict:
    status: SignatureStatus
    chain: tuple[str, ...]
    reason: str = ""


def _judge_certificate(
    signer: x509.Certificate,
    carried: list[x509.Certificate],
    roots: TrustRoots,
    signing_time: datetime | None,
    proven: bool,
) -> _Verdict:
    """The chain from ``signer`` to a root, judged now, or at the signing time when a
    certificate has expired since (see the module's rules)."""
    from pyhanko_certvalidator.errors import ExpiredError

    result = _validate_path(signer, carried, roots, None)
    if isinstance(result, ExpiredError):
        return _judge_expired(signer, carried, roots, result, signing_time, proven)
    return _verdict(signer, carried, roots, result)


def _judge_expired(
    signer: x509.Certificate,
    carried: list[x509.Certificate],
    roots: TrustRoots,
    expired: Any,
    signing_time: datetime | None,
    proven: bool,
) -> _Verdict:
    """A certificate has expired since: the chain is judged again at the signing time."""
    from pyhanko_certvalidator.errors import ExpiredError

    whose = "the signer's certificate" if expired.is_ee_cert else "a CA certificate of the chain"
    lapse = f"{whose} expired on {expired.expired_dt:%Y-%m-%d}"
    if signing_time is None:
        chain = _path_subjects(expired.original_path)
        return _Verdict(
            SignatureStatus.INVALID, chain, f"{lapse}, and the signature gives no signing time"
        )
    when = _iso(signing_time)
    basis = (
        "proven by a trusted timestamp"
        if proven
        else "claimed by the signer, no trusted timestamp confirms it"
    )
    result = _validate_path(signer, carried, roots, signing_time)
    if isinstance(result, ExpiredError):
        chain = _path_subjects(result.original_path)
        reason = f"{lapse}, before the signing time {when} ({basis})"
        return _Verdict(SignatureStatus.INVALID, chain, reason)
    verdict = _verdict(signer, carried, roots, result)
    if verdict.status is SignatureStatus.VALID:
        reason = f"{lapse}; valid at the signing time {when} ({basis})"
        return _Verdict(verdict.status, verdict.chain, reason)
    reason = f"{lapse}; at the signing time {when} ({basis}): {verdict.reason}"
    return _Verdict(verdict.status, verdict.chain, reason)


def _verdict(
    signer: x509.Certificate, carried: list[x509.Certificate], roots: TrustRoots, result: Any
) -> _Verdict:
    """The status a path validation ``result`` (a path, or the error) stands for."""
    from pyhanko_certvalidator.errors import PathBuildingError

    if isinstance(result, PathBuildingError):
        walked = _chain_as_far_as(signer, carried, roots)
        reason = _no_root_reason(walked, roots)
        return _Verdict(SignatureStatus.UNKNOWN_ROOT, _subjects(walked), reason)
    if isinstance(result, Exception):
        path = getattr(result, "original_path", None)
        chain = (
            _path_subjects(path) if path else _subjects(_chain_as_far_as(signer, carried, roots))
        )
        reason = f"the certificate chain does not hold: {_say(result)}"
        return _Verdict(SignatureStatus.INVALID, chain, reason)
    usage = _usage_problem(signer)
    if usage:
        return _Verdict(SignatureStatus.INVALID, _path_subjects(result), usage)
    return _Verdict(SignatureStatus.VALID, _path_subjects(result))


def _validate_path(
    signer: x509.Certificate,
    carried: list[x509.Certificate],
    roots: TrustRoots,
    moment: datetime | None,
) -> ValidationPath | Exception:
    """pyhanko-certvalidator's path validation at ``moment`` (None: now), or its error."""
    from pyhanko_certvalidator import CertificateValidator
    from pyhanko_certvalidator.errors import PathError, ValidationError

    try:
        validator = CertificateValidator(
            _to_asn1(signer),
            [_to_asn1(cert) for cert in carried],
            validation_context=_validation_context(roots, moment),
        )
        return _run(validator.async_validate_path())
    except (PathError, ValidationError, ValueError, TypeError) as exc:
        return exc


def _validation_context(roots: TrustRoots, moment: datetime | None) -> Any:
    """Our roots and nothing else (an explicit list: None would mean the system's TLS
    roots), nothing fetched, no revocation checking: the archive is offline."""
    from pyhanko_certvalidator import ValidationContext

    _quiet_library_logs()
    return ValidationContext(
        trust_roots=[_to_asn1(cert) for cert in roots.certificates],
        allow_fetching=False,
        revocation_mode="none",
        moment=moment,
    )


def _usage_problem(cert: x509.Certificate) -> str:
    try:
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return ""
    except ValueError as exc:
        return f"the signer's certificate has a damaged key usage extension: {_say(exc)}"
    if usage.digital_signature or usage.content_commitment:
        return ""
    return (
        "the signer's certificate is not for signing: its key usage allows neither "
        "digitalSignature nor nonRepudiation"
    )


def _no_root_reason(chain: list[x509.Certificate], roots: TrustRoots) -> str:
    if not roots.certificates:
        return "there are no trust roots (the trust folder is empty or missing)"
    last = chain[-1]
    if last.issuer == last.subject:
        end = f"the root {_subject(last)}, which is not one of them"
    else:
        end = (
            f"{_subject(last)}, whose issuer {_name(last.issuer)} is neither carried by "
            "the signature nor one of them"
        )
    count = len(roots.certificates)
    return f"the chain does not reach any of the {count} trust roots: it ends at {end}"


def _chain_as_far_as(
    signer: x509.Certificate, carried: list[x509.Certificate], roots: TrustRoots
) -> list[x509.Certificate]:
    """The signer, then issuers found among the carried certificates and the roots, as far
    as they go (each link's signature checked, loops stopped)."""
    pool = [*carried, *roots.certificates]
    chain = [signer]
    while len(chain) < MAX_CHAIN and chain[-1].issuer != chain[-1].subject:
        issuer = next((c for c in pool if c not in chain and _issued(chain[-1], c)), None)
        if issuer is None:
            break
        chain.append(issuer)
    return chain


def _issued(child: x509.Certificate, parent: x509.Certificate) -> bool:
    if child.issuer != parent.subject:
        return False
    try:
        child.verify_directly_issued_by(parent)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def _path_subjects(path: Any) -> tuple[str, ...]:
    """A certvalidator path (root first) as subjects from the signer up."""
    certs = [_from_asn1(cert) for cert in path.iter_certs(include_root=True)]
    return _subjects(reversed(certs))


# --- small helpers ----------------------------------------------------------------------------


def _check(
    kind: str,
    status: SignatureStatus,
    chain: tuple[str, ...],
    signing_time: datetime | None,
    reason: str,
    field: str,
) -> SignatureCheck:
    return SignatureCheck(
        kind, status, chain[0] if chain else "", chain, _iso(signing_time), reason, field
    )


def _guarded(kind: str, field: str, work: Callable[[], SignatureCheck]) -> SignatureCheck:
    """``work``'s check; should a hostile file still break something underneath (a
    certificate that parses for one library and not the other), an invalid check instead."""
    try:
        return work()
    except MemoryError:  # the machine's limit, not the file's
        raise
    except Exception as exc:  # noqa: BLE001 - hostile input: never an exception for a file
        return _unread(kind, f"the signature could not be checked: {_say(exc)}", field)


def _unread(kind: str, reason: str, field: str = "") -> SignatureCheck:
    """A signature too damaged to say who made it."""
    return SignatureCheck(kind, SignatureStatus.INVALID, "", (), None, reason, field)


def _run(coroutine: Coroutine[Any, Any, _T]) -> _T:
    """Run pyHanko's coroutine to its end, also when called from inside an event loop (a
    web request): then on a thread of its own."""
    # Imported here: asyncio alone would double this module's import time.
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def _to_asn1(cert: x509.Certificate) -> Any:
    from asn1crypto import x509 as asn1_x509  # type: ignore[import-untyped]

    return asn1_x509.Certificate.load(cert.public_bytes(Encoding.DER))


def _from_asn1(cert: Any) -> x509.Certificate:
    return x509.load_der_x509_certificate(cert.dump())


def _subject(cert: x509.Certificate) -> str:
    return _name(cert.subject)


def _name(name: x509.Name) -> str:
    try:
        return name.rfc4514_string()
    except ValueError:
        return "(a name that cannot be read)"


def _subjects(certs: Iterable[x509.Certificate]) -> tuple[str, ...]:
    return tuple(_subject(cert) for cert in certs)


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)  # PDF dates without a zone: taken as UTC
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _say(exc: BaseException | object) -> str:
    """An error as one line for a person: its message, never a traceback."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= MAX_REASON else text[: MAX_REASON - 1] + "…"
