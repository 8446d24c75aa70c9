"""A test PKI for the signature tests: every key, certificate and signed file is made here.

Nothing comes from the internet. The hierarchy mirrors what an archive receives (Decree
30/2020/NĐ-CP: documents exchanged between agencies are signed with the Government Cipher
Committee's service, or with a public CA):

- ``bcy_root`` (``O=Ban Co yeu Chinh phu``) → ``bcy_intermediate`` → ``agency`` (the People's
  Committee of Hòa Bình province, a UTF-8 subject), ``expired`` (a signer whose certificate
  ran out in 2021), ``tsa`` (a time-stamping authority) and ``encryption_only`` (a key for
  encryption, not signing);
- ``public_root`` → ``public_signer`` (a public CA: both roots are trusted at once, as
  cross-certification requires);
- ``unrelated_root`` → ``stranger``: a root that is NOT in the trust folder.

Keys are RSA 2048 like the real CAs'; they are made once per test session.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from lxml import etree
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import signers
from pyhanko.sign.fields import SigSeedSubFilter
from pyhanko.sign.timestamps import DummyTimeStamper
from pyhanko_certvalidator.registry import SimpleCertificateStore
from reportlab.pdfgen import canvas
from signxml.signer import XMLSigner
from signxml.xades.xades import XAdESSigner

EDXML_NS = "http://www.mic.gov.vn/TBT/QCVN_102_2016"
DS_NS = "http://www.w3.org/2000/09/xmldsig#"
SUBJECT = "Về việc phê duyệt kế hoạch chuyển đổi số năm 2023"
PDF_TEXT = "QUYET DINH so 1482/QD-UBND ve viec phe duyet ke hoach chuyen doi so nam 2023"


@dataclass(frozen=True)
class Identity:
    """A certificate, its private key and the identity that issued it (None for a root)."""

    cert: x509.Certificate
    key: rsa.RSAPrivateKey
    issuer: Identity | None = None

    @property
    def subject(self) -> str:
        return self.cert.subject.rfc4514_string()

    @property
    def chain(self) -> list[x509.Certificate]:
        """This certificate, then its issuers up to the root."""
        found: list[x509.Certificate] = []
        current: Identity | None = self
        while current is not None:
            found.append(current.cert)
            current = current.issuer
        return found


@dataclass(frozen=True)
class Pki:
    bcy_root: Identity
    bcy_intermediate: Identity
    agency: Identity
    expired: Identity
    tsa: Identity
    encryption_only: Identity
    public_root: Identity
    public_signer: Identity
    unrelated_root: Identity
    stranger: Identity


def _name(**parts: str) -> x509.Name:
    """A subject in the usual order (C, L, O, CN), so RFC 4514 reads "CN=…,O=…,L=…,C=VN"."""
    oids = {"L": NameOID.LOCALITY_NAME, "O": NameOID.ORGANIZATION_NAME, "CN": NameOID.COMMON_NAME}
    attributes = [x509.NameAttribute(NameOID.COUNTRY_NAME, "VN")]
    attributes += [x509.NameAttribute(oid, parts[key]) for key, oid in oids.items() if key in parts]
    return x509.Name(attributes)


def _issue(
    subject: x509.Name,
    issuer: Identity | None,
    *,
    ca: bool,
    valid: tuple[datetime, datetime],
    time_stamping: bool = False,
    for_signing: bool = True,
) -> Identity:
    """A certificate for ``subject`` signed by ``issuer`` (self-signed when None)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    signing_key = issuer.key if issuer else key
    issuer_name = issuer.cert.subject if issuer else subject
    usage = dict.fromkeys(
        (
            "digital_signature",
            "content_commitment",
            "key_encipherment",
            "data_encipherment",
            "key_agreement",
            "key_cert_sign",
            "crl_sign",
            "encipher_only",
            "decipher_only",
        ),
        False,
    )
    if ca:
        usage.update(key_cert_sign=True, crl_sign=True, digital_signature=True)
    elif for_signing:
        usage.update(digital_signature=True, content_commitment=not time_stamping)
    else:
        usage.update(key_encipherment=True)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(valid[0])
        .not_valid_after(valid[1])
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(**usage), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(signing_key.public_key()), False
        )
    )
    if time_stamping:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True
        )
    return Identity(builder.sign(signing_key, hashes.SHA256()), key, issuer)


@cache
def pki() -> Pki:
    """The whole test hierarchy, made once."""
    now = datetime.now(UTC)
    long = (datetime(2015, 1, 1, tzinfo=UTC), now + timedelta(days=3650))
    bcy_root = _issue(
        _name(CN="Co quan chung thuc so chuyen dung Chinh phu (test)", O="Ban Co yeu Chinh phu"),
        None,
        ca=True,
        valid=long,
    )
    bcy_intermediate = _issue(
        _name(CN="Cuc Chung thuc so va Bao mat thong tin (test)", O="Ban Co yeu Chinh phu"),
        bcy_root,
        ca=True,
        valid=long,
    )
    agency_name = "Ủy ban nhân dân tỉnh Hòa Bình"
    agency = _issue(
        _name(CN=agency_name, O=agency_name, L="Hòa Bình"),
        bcy_intermediate,
        ca=False,
        valid=(datetime(2022, 1, 1, tzinfo=UTC), now + timedelta(days=1825)),
    )
    expired = _issue(
        _name(CN="Sở Nội vụ tỉnh Hòa Bình", O="Sở Nội vụ tỉnh Hòa Bình", L="Hòa Bình"),
        bcy_intermediate,
        ca=False,
        valid=(datetime(2020, 1, 1, tzinfo=UTC), datetime(2021, 1, 1, tzinfo=UTC)),
    )
    tsa = _issue(
        _name(CN="Dich vu cap dau thoi gian (test)", O="Ban Co yeu Chinh phu"),
        bcy_intermediate,
        ca=False,
        valid=long,
        time_stamping=True,
    )
    encryption_only = _issue(
        _name(CN="Văn phòng UBND tỉnh Hòa Bình (mã hóa)"),
        bcy_intermediate,
        ca=False,
        valid=long,
        for_signing=False,
    )
    public_root = _issue(
        _name(CN="Public CA Root (test)", O="Cong ty Chung thuc so Cong cong"),
        None,
        ca=True,
        valid=long,
    )
    public_signer = _issue(
        _name(CN="Công ty Cổ phần Sông Đà", O="Công ty Cổ phần Sông Đà"),
        public_root,
        ca=False,
        valid=long,
    )
    unrelated_root = _issue(
        _name(CN="Unrelated Root (test)", O="Nobody"), None, ca=True, valid=long
    )
    stranger = _issue(_name(CN="Người lạ"), unrelated_root, ca=False, valid=long)
    return Pki(
        bcy_root,
        bcy_intermediate,
        agency,
        expired,
        tsa,
        encryption_only,
        public_root,
        public_signer,
        unrelated_root,
        stranger,
    )


def write_trust_folder(folder: Path, *roots: Identity) -> Path:
    """The roots as an administrator would drop them in: the first as PEM, the others DER."""
    folder.mkdir(parents=True, exist_ok=True)
    for number, root in enumerate(roots):
        if number == 0:
            (folder / f"root-{number}.pem").write_bytes(
                root.cert.public_bytes(serialization.Encoding.PEM)
            )
        else:
            (folder / f"root-{number}.cer").write_bytes(
                root.cert.public_bytes(serialization.Encoding.DER)
            )
    return folder


# --- PDF ------------------------------------------------------------------------------------


def make_pdf(text: str = PDF_TEXT) -> bytes:
    """A one-page born-digital PDF, its content stream uncompressed so tests can find bytes."""
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer, pageCompression=0)
    page.drawString(72, 720, text)
    page.showPage()
    page.save()
    return buffer.getvalue()


def _asn1_cert(cert: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


def _asn1_key(key: rsa.RSAPrivateKey) -> asn1_keys.PrivateKeyInfo:
    der = key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return asn1_keys.PrivateKeyInfo.load(der)


class _DatedPdfSigner(signers.PdfSigner):
    """A PdfSigner whose claimed signing time is chosen (pyHanko takes the clock's)."""

    def __init__(self, *args: Any, when: datetime | None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._when = when

    def init_signing_session(self, pdf_out: Any, existing_fields_only: bool = False) -> Any:
        session = super().init_signing_session(pdf_out, existing_fields_only)
        if self._when is not None:
            session.system_time = self._when
        return session


def sign_pdf(
    data: bytes,
    signer: Identity,
    *,
    field: str = "Signature1",
    when: datetime | None = None,
    timestamp_at: datetime | None = None,
    pades: bool = False,
) -> bytes:
    """``data`` signed in an incremental update, the signer's chain embedded in the CMS.

    ``when`` is the signing time the signer claims; ``timestamp_at`` adds a signature
    timestamp from the test TSA at that time.
    """
    chain = [_asn1_cert(cert) for cert in signer.chain]
    cms_signer = signers.SimpleSigner(
        signing_cert=chain[0],
        signing_key=_asn1_key(signer.key),
        cert_registry=SimpleCertificateStore.from_certs(chain),
    )
    timestamper = None
    if timestamp_at is not None:
        tsa = pki().tsa
        timestamper = DummyTimeStamper(
            tsa_cert=_asn1_cert(tsa.cert),
            tsa_key=_asn1_key(tsa.key),
            certs_to_embed=SimpleCertificateStore.from_certs(
                [_asn1_cert(cert) for cert in tsa.chain]
            ),
            fixed_dt=timestamp_at,
        )
    meta = signers.PdfSignatureMetadata(
        field_name=field,
        md_algorithm="sha256",
        subfilter=SigSeedSubFilter.PADES if pades else SigSeedSubFilter.ADOBE_PKCS7_DETACHED,
    )
    pdf_signer = _DatedPdfSigner(meta, cms_signer, timestamper=timestamper, when=when)
    output = pdf_signer.sign_pdf(IncrementalPdfFileWriter(io.BytesIO(data), strict=False))
    return bytes(output.getvalue())


def change_signed_byte(data: bytes) -> bytes:
    """One digit of the document number changed in the page's content stream, which lies
    inside the first signature's byte range (a marker with "/" never occurs in hex)."""
    marker = b"so 1482/QD-UBND"
    assert data.count(marker) == 1
    return data.replace(marker, b"so 1483/QD-UBND")


def append_page_content(data: bytes, text: str = "DA SUA SAU KHI KY") -> bytes:
    """An incremental update that draws new text on page 1: what a reader sees changes."""
    writer = IncrementalPdfFileWriter(io.BytesIO(data), strict=False)
    stream = generic.StreamObject(stream_data=f"BT /F1 12 Tf 72 700 Td ({text}) Tj ET".encode())
    writer.add_stream_to_page(0, writer.add_object(stream))
    output = io.BytesIO()
    writer.write(output)
    return data + output.getvalue()[len(data) :]


def garble_contents(data: bytes) -> bytes:
    """The first signature's /Contents replaced by hex of the same length that is no CMS."""
    start = data.index(b"/Contents <") + len(b"/Contents <")
    end = data.index(b">", start)
    garbage = (b"3082" + b"de" * (end - start))[: end - start]
    return data[:start] + garbage + data[end:]


# --- edXML ----------------------------------------------------------------------------------


def edxml_package(subject: str = SUBJECT) -> bytes:
    """A minimal edXML package (QCVN 102:2016) with a signature placeholder in its header."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<edXML:edXML xmlns:edXML="{EDXML_NS}">
<edXML:edXMLEnvelope><edXML:edXMLHeader><edXML:MessageHeader>
<edXML:From><edXML:OrganId>000.00.00.H31</edXML:OrganId>
<edXML:OrganName>Ủy ban nhân dân tỉnh Hòa Bình</edXML:OrganName></edXML:From>
<edXML:Code><edXML:CodeNumber>1482</edXML:CodeNumber>
<edXML:CodeNotation>QĐ-UBND</edXML:CodeNotation></edXML:Code>
<edXML:PromulgationInfo><edXML:Place>Hòa Bình</edXML:Place>
<edXML:PromulgationDate>2023/02/17</edXML:PromulgationDate></edXML:PromulgationInfo>
<edXML:Subject>{subject}</edXML:Subject>
</edXML:MessageHeader>
<ds:Signature xmlns:ds="{DS_NS}" Id="placeholder"/>
</edXML:edXMLHeader></edXML:edXMLEnvelope>
<edXML:AttachmentEncoded><edXML:Attachment><edXML:ContentId>cid:1</edXML:ContentId>
<edXML:AttachmentName>1482-QD.pdf</edXML:AttachmentName>
<edXML:ContentType>application/pdf</edXML:ContentType>
<edXML:ContentTransferEncoded>{base64.b64encode(make_pdf()).decode()}</edXML:ContentTransferEncoded>
</edXML:Attachment></edXML:AttachmentEncoded></edXML:edXML>""".encode()


def sign_edxml(
    data: bytes, signer: Identity, *, signature_id: str = "sig-1", xades: bool = False
) -> bytes:
    """``data`` with an enveloped XMLDSig over the whole package, the chain in X509Data: at
    the placeholder in the header if there is one, else at the end of the root element.

    signxml drops the placeholder's Id; the Id is set afterwards, which is harmless because
    the enveloped-signature transform leaves the Signature element out of the digest.
    """
    parser = etree.XMLParser(huge_tree=True)  # big attachments, as in real packages
    root = etree.fromstring(data, parser=parser)
    chain = signer.chain[:-1]  # the root is what the receiver must already trust
    maker = XAdESSigner() if xades else XMLSigner()
    maker._parser = parser
    signed = maker.sign(root, key=signer.key, cert=chain)
    # XAdES gives its Signature an Id of its own (its properties point at it): kept.
    for unnamed in [s for s in signed.iter(f"{{{DS_NS}}}Signature") if s.get("Id") is None]:
        unnamed.set("Id", signature_id)
    return bytes(etree.tostring(signed, xml_declaration=True, encoding="UTF-8"))


def cert_base64(identity: Identity) -> str:
    return base64.b64encode(identity.cert.public_bytes(serialization.Encoding.DER)).decode()


def _edit_signatures(data: bytes, edit: Callable[[Any], None]) -> bytes:
    """``data`` with ``edit`` applied to each ds:Signature element, serialized again."""
    root = etree.fromstring(data)
    for signature in list(root.iter(f"{{{DS_NS}}}Signature")):
        edit(signature)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


def _set_text(path: str, text: str) -> Callable[[Any], None]:
    def edit(signature: Any) -> None:
        element = signature.find(path)
        assert element is not None, path
        element.text = text

    return edit


def replace_keyinfo_cert(data: bytes, identity: Identity) -> bytes:
    """The signed package with another identity's certificate in place of the signer's."""
    path = f"{{{DS_NS}}}KeyInfo/{{{DS_NS}}}X509Data/{{{DS_NS}}}X509Certificate"
    return _edit_signatures(data, _set_text(path, cert_base64(identity)))


def set_signature_value(data: bytes, text: str) -> bytes:
    return _edit_signatures(data, _set_text(f"{{{DS_NS}}}SignatureValue", text))


def remove_signatures(data: bytes) -> bytes:
    return _edit_signatures(data, lambda signature: signature.getparent().remove(signature))
