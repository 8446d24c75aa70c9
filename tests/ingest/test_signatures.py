"""Incoming signatures (Decree 30/2020/NĐ-CP; edXML: QCVN 102:2016): each PDF or edXML
signature is checked offline against several trust roots at once, and what it showed is
recorded, never raised. Every certificate and signed file is generated (tests/ingest/pki.py)."""

from __future__ import annotations

import base64
import copy
import io
import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from unittest.mock import patch

import pytest
from hypothesis import given
from hypothesis import strategies as st

from archive.errors import ConfigError
from ingest import signatures
from ingest.signatures import (
    SignatureCheck,
    SignatureStatus,
    TrustRoots,
    check_pdf_signatures,
    check_xml_signatures,
)
from tests.ingest.pki import (
    SUBJECT,
    Identity,
    Pki,
    append_page_content,
    change_signed_byte,
    edxml_package,
    garble_contents,
    make_pdf,
    pki,
    remove_signatures,
    replace_keyinfo_cert,
    set_signature_value,
    sign_edxml,
    sign_pdf,
    write_trust_folder,
)

VALID, INVALID, UNKNOWN_ROOT = (
    SignatureStatus.VALID,
    SignatureStatus.INVALID,
    SignatureStatus.UNKNOWN_ROOT,
)
HANOI = timezone(timedelta(hours=7))


@pytest.fixture(scope="module")
def ca() -> Pki:
    return pki()


@pytest.fixture(scope="module")
def roots(ca: Pki, tmp_path_factory: pytest.TempPathFactory) -> TrustRoots:
    """The Government Cipher Committee's root (PEM) and a public CA's root (DER) at once."""
    folder = write_trust_folder(tmp_path_factory.mktemp("trust"), ca.bcy_root, ca.public_root)
    return TrustRoots.load(folder)


@pytest.fixture(scope="module")
def agency_pdf(ca: Pki) -> bytes:
    return sign_pdf(make_pdf(), ca.agency, when=datetime(2023, 2, 17, 8, 30, tzinfo=HANOI))


@pytest.fixture(scope="module")
def agency_xml(ca: Pki) -> bytes:
    return sign_edxml(edxml_package(), ca.agency)


def _only(checks: list[SignatureCheck]) -> SignatureCheck:
    assert len(checks) == 1, checks
    return checks[0]


def _subjects(identity: Identity) -> tuple[str, ...]:
    return tuple(cert.subject.rfc4514_string() for cert in identity.chain)


# --- trust roots ------------------------------------------------------------------------------


def test_trust_roots_load_every_certificate_file_and_nothing_else(ca: Pki, tmp_path: Path) -> None:
    folder = write_trust_folder(tmp_path / "trust", ca.bcy_root, ca.public_root)
    (folder / "README.txt").write_text("not a certificate, and not a certificate's name")
    (folder / "copy.crt").write_bytes((folder / "root-0.pem").read_bytes())  # a duplicate
    loaded = TrustRoots.load(folder)
    assert loaded.subjects == (ca.bcy_root.subject, ca.public_root.subject)
    assert "O=Ban Co yeu Chinh phu" in loaded.subjects[0]


def test_a_missing_folder_is_no_roots_and_a_bad_file_is_named(tmp_path: Path) -> None:
    assert TrustRoots.load(None).certificates == ()
    assert TrustRoots.load(tmp_path / "absent").certificates == ()
    (tmp_path / "broken.pem").write_bytes(b"-----BEGIN CERTIFICATE-----\nnope\n")
    with pytest.raises(ConfigError, match=r"broken\.pem is not an X\.509 certificate"):
        TrustRoots.load(tmp_path)
    (tmp_path / "broken.pem").unlink()
    (tmp_path / "key.der").write_bytes(b"\x30\x03\x02\x01\x00")
    with pytest.raises(ConfigError, match=r"key\.der"):
        TrustRoots.load(tmp_path)


# --- PDF --------------------------------------------------------------------------------------


def test_pdf_signatures_from_either_root_are_valid(
    ca: Pki, roots: TrustRoots, agency_pdf: bytes
) -> None:
    """Cross-certification: the Cipher Committee's and a public CA's signatures, one set of
    roots."""
    agency = _only(check_pdf_signatures(agency_pdf, roots))
    assert (agency.kind, agency.status, agency.reason) == ("pades", VALID, "")
    name = "Ủy ban nhân dân tỉnh Hòa Bình"
    assert agency.signer == f"CN={name},O={name},L=Hòa Bình,C=VN"  # RFC 4514, in UTF-8
    assert agency.chain == _subjects(ca.agency)  # signer, intermediate, root
    assert "O=Ban Co yeu Chinh phu" in agency.chain[-1]
    assert (agency.field, agency.covers_whole_file) == ("Signature1", True)
    public = _only(check_pdf_signatures(sign_pdf(make_pdf(), ca.public_signer, pades=True), roots))
    assert (public.status, public.chain) == (VALID, _subjects(ca.public_signer))


def test_the_signing_time_is_read_from_the_signed_attributes(
    roots: TrustRoots, agency_pdf: bytes
) -> None:
    check = _only(check_pdf_signatures(agency_pdf, roots))
    assert check.signing_time == "2023-02-17T01:30:00Z"  # 08:30 in Hà Nội, in UTC


def test_a_path_gives_the_same_checks_as_its_bytes(
    roots: TrustRoots, agency_pdf: bytes, tmp_path: Path
) -> None:
    source = tmp_path / "signed.pdf"
    source.write_bytes(agency_pdf)
    assert check_pdf_signatures(source, roots) == check_pdf_signatures(agency_pdf, roots)


def test_a_root_we_do_not_trust_is_unknown_with_the_chain_as_far_as_it_goes(
    ca: Pki, roots: TrustRoots
) -> None:
    check = _only(check_pdf_signatures(sign_pdf(make_pdf(), ca.stranger), roots))
    assert check.status is UNKNOWN_ROOT
    assert check.chain == (ca.stranger.subject, ca.unrelated_root.subject)  # carried in the CMS
    assert "does not reach any of the 2 trust roots" in check.reason
    assert "Unrelated Root" in check.reason


def test_a_certificate_not_for_signing_is_invalid(ca: Pki, roots: TrustRoots) -> None:
    """It chains to our root, but its key usage is encryption only."""
    for check in [
        _only(check_pdf_signatures(sign_pdf(make_pdf(), ca.encryption_only), roots)),
        _only(check_xml_signatures(sign_edxml(edxml_package(), ca.encryption_only), roots)),
    ]:
        assert check.status is INVALID and "not for signing" in check.reason


def test_a_byte_changed_inside_the_signed_range_is_invalid(
    roots: TrustRoots, agency_pdf: bytes
) -> None:
    check = _only(check_pdf_signatures(change_signed_byte(agency_pdf), roots))
    assert check.status is INVALID
    assert "changed after signing" in check.reason and "digest" in check.reason


def test_new_page_content_appended_after_signing_is_reported_and_invalid(
    roots: TrustRoots, agency_pdf: bytes
) -> None:
    """The signed revision is intact, but the file shows more than was signed."""
    check = _only(check_pdf_signatures(append_page_content(agency_pdf), roots))
    assert check.covers_whole_file is False
    assert check.status is INVALID
    assert "changed after this signature" in check.reason


def test_two_signatures_each_get_a_check_in_signing_order(
    ca: Pki, roots: TrustRoots, agency_pdf: bytes
) -> None:
    """A second signature is an allowed update: the first stays valid, but says it no longer
    covers the whole file."""
    both = sign_pdf(agency_pdf, ca.public_signer, field="Countersignature", pades=True)
    first, second = check_pdf_signatures(both, roots)
    assert (first.field, first.status, first.covers_whole_file) == ("Signature1", VALID, False)
    assert (second.field, second.status, second.covers_whole_file) == (
        "Countersignature",
        VALID,
        True,
    )
    assert second.signer == ca.public_signer.subject


def test_an_unsigned_pdf_has_no_checks(roots: TrustRoots, tmp_path: Path) -> None:
    assert check_pdf_signatures(make_pdf(), roots) == []
    empty = tmp_path / "empty.pdf"
    empty.write_bytes(b"")
    assert check_pdf_signatures(empty, roots) == []


def test_an_unsigned_pdf_does_not_load_pyhanko() -> None:
    """The byte search decides alone: pyHanko takes half a second to import."""
    program = (
        "import sys\n"
        "from ingest.signatures import TrustRoots, check_pdf_signatures\n"
        "assert check_pdf_signatures(b'%PDF-1.7\\n1 0 obj<<>>endobj\\n%%EOF', TrustRoots()) == []\n"
        "assert not [m for m in sys.modules if m.startswith(('pyhanko', 'signxml', 'lxml'))]\n"
    )
    root = Path(__file__).resolve().parents[2]
    subprocess.run([sys.executable, "-c", program], check=True, cwd=root)


def test_garbage_contents_are_invalid_not_an_exception(
    roots: TrustRoots, agency_pdf: bytes
) -> None:
    check = _only(check_pdf_signatures(garble_contents(agency_pdf), roots))
    assert (check.status, check.field, check.signer) == (INVALID, "Signature1", "")
    assert "cannot be read" in check.reason and "Traceback" not in check.reason


def test_a_damaged_pdf_with_signature_bytes_gives_one_invalid_check(roots: TrustRoots) -> None:
    check = _only(check_pdf_signatures(b"%PDF-1.7\n/ByteRange [0 1 2 3] garbage", roots))
    assert check.status is INVALID and check.reason


def test_an_expired_certificate_is_judged_at_the_signing_time(ca: Pki, roots: TrustRoots) -> None:
    """Decision: valid if the chain held when the signer says it signed, with the caveat in
    the reason; signed after expiry is invalid."""
    inside = sign_pdf(make_pdf(), ca.expired, when=datetime(2020, 6, 1, tzinfo=UTC))
    check = _only(check_pdf_signatures(inside, roots))
    assert check.status is VALID
    assert check.reason == (
        "the signer's certificate expired on 2021-01-01; valid at the signing time "
        "2020-06-01T00:00:00Z (claimed by the signer, no trusted timestamp confirms it)"
    )
    after = sign_pdf(make_pdf(), ca.expired, when=datetime(2022, 6, 1, tzinfo=UTC))
    check = _only(check_pdf_signatures(after, roots))
    assert check.status is INVALID
    assert "expired on 2021-01-01, before the signing time 2022-06-01T00:00:00Z" in check.reason


def test_a_trusted_timestamp_gives_the_signing_time_and_proves_it(
    ca: Pki, roots: TrustRoots
) -> None:
    stamped = sign_pdf(
        make_pdf(),
        ca.expired,
        when=datetime(2020, 6, 1, tzinfo=UTC),
        timestamp_at=datetime(2020, 6, 1, 0, 5, tzinfo=UTC),
    )
    check = _only(check_pdf_signatures(stamped, roots))
    assert (check.status, check.signing_time) == (VALID, "2020-06-01T00:05:00Z")
    assert "proven by a trusted timestamp" in check.reason


def test_as_json_is_plain_data(roots: TrustRoots, agency_pdf: bytes) -> None:
    data = _only(check_pdf_signatures(agency_pdf, roots)).as_json()
    assert data["status"] == "valid" and isinstance(data["chain"], list)
    assert set(data) == {
        "kind",
        "status",
        "signer",
        "chain",
        "signing_time",
        "reason",
        "field",
        "covers_whole_file",
    }


# --- edXML ------------------------------------------------------------------------------------


def test_xml_signatures_from_either_root_are_valid(
    ca: Pki, roots: TrustRoots, agency_xml: bytes
) -> None:
    agency = _only(check_xml_signatures(agency_xml, roots))
    assert (agency.kind, agency.status, agency.reason) == ("xmldsig", VALID, "")
    assert agency.chain == _subjects(ca.agency)  # the root is ours, not taken from KeyInfo
    assert (agency.field, agency.covers_whole_file, agency.signing_time) == ("sig-1", True, None)
    public = _only(check_xml_signatures(sign_edxml(edxml_package(), ca.public_signer), roots))
    assert (public.status, public.signer) == (VALID, ca.public_signer.subject)


def test_a_xades_signing_time_is_read_when_signed(ca: Pki, roots: TrustRoots) -> None:
    check = _only(check_xml_signatures(sign_edxml(edxml_package(), ca.agency, xades=True), roots))
    assert check.status is VALID and check.signing_time is not None
    signed_at = datetime.fromisoformat(check.signing_time)
    assert abs(datetime.now(UTC) - signed_at) < timedelta(minutes=5)


def test_an_xml_signature_from_an_unknown_root(ca: Pki, roots: TrustRoots) -> None:
    check = _only(check_xml_signatures(sign_edxml(edxml_package(), ca.stranger), roots))
    assert check.status is UNKNOWN_ROOT
    assert check.chain == (ca.stranger.subject,)
    assert "whose issuer CN=Unrelated Root (test)" in check.reason


def test_a_subject_changed_after_signing_is_invalid(roots: TrustRoots, agency_xml: bytes) -> None:
    tampered = agency_xml.replace(SUBJECT.encode(), "Về việc khác".encode())
    assert tampered != agency_xml
    check = _only(check_xml_signatures(tampered, roots))
    assert check.status is INVALID and "changed after signing" in check.reason


def test_each_xml_signature_is_checked_on_its_own(
    ca: Pki, roots: TrustRoots, agency_xml: bytes
) -> None:
    """A second enveloped signature, added at the end, is inside what the first one signed
    (URI=""): the first no longer verifies, the second does. Each is picked by position."""
    first, second = check_xml_signatures(
        sign_edxml(agency_xml, ca.public_signer, signature_id="sig-2"), roots
    )
    assert (first.field, first.status) == ("sig-1", INVALID)
    assert (second.field, second.status) == ("sig-2", VALID)
    assert second.signer == ca.public_signer.subject


def test_a_package_whose_signature_was_removed_has_no_checks(
    roots: TrustRoots, agency_xml: bytes
) -> None:
    unsigned = remove_signatures(agency_xml)
    assert b"Signature" not in unsigned
    assert check_xml_signatures(unsigned, roots) == []


def test_a_wrong_certificate_in_keyinfo_is_invalid(
    ca: Pki, roots: TrustRoots, agency_xml: bytes
) -> None:
    """The public signer's certificate is trusted, but its key did not sign this."""
    check = _only(check_xml_signatures(replace_keyinfo_cert(agency_xml, ca.public_signer), roots))
    assert (check.status, check.signer) == (INVALID, ca.public_signer.subject)
    assert "does not verify" in check.reason


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("@@@ not base64 @@@", "XMLDSig schema"),
        (base64.b64encode(b"\x01" * 256).decode(), "does not verify"),
    ],
)
def test_a_garbage_signature_value_is_invalid(
    roots: TrustRoots, agency_xml: bytes, value: str, expected: str
) -> None:
    check = _only(check_xml_signatures(set_signature_value(agency_xml, value), roots))
    assert check.status is INVALID and expected in check.reason


def test_an_expired_xml_signer_without_a_signing_time_is_invalid(
    ca: Pki, roots: TrustRoots
) -> None:
    """Plain XMLDSig carries no signing time, so there is no time to judge it at."""
    check = _only(check_xml_signatures(sign_edxml(edxml_package(), ca.expired), roots))
    assert check.status is INVALID
    assert "expired on 2021-01-01, and the signature gives no signing time" in check.reason


def test_xml_with_a_dtd_is_refused_without_expanding_it(roots: TrustRoots) -> None:
    hostile = (
        b'<?xml version="1.0"?>\n<!DOCTYPE edXML [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b'<edXML><Signature xmlns="http://www.w3.org/2000/09/xmldsig#">&x;</Signature></edXML>'
    )
    check = _only(check_xml_signatures(hostile, roots))
    assert check.status is INVALID and "DTD" in check.reason
    assert "root:" not in check.reason


def test_entity_expansion_is_refused_even_in_attributes(roots: TrustRoots) -> None:
    laughs = (
        b'<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;">]>'
        b'<x k="&c;"><Signature xmlns="http://www.w3.org/2000/09/xmldsig#"/></x>'
    )
    assert "DTD" in _only(check_xml_signatures(laughs, roots)).reason


def test_a_package_with_an_attachment_over_libxml2s_text_limit_is_checked(
    ca: Pki, roots: TrustRoots
) -> None:
    """An attachment is one base64 text node; libxml2 refuses those over 10 MB by default."""
    big = base64.b64encode(bytes(8_000_000)).decode()  # 10.7 MB of text
    package = edxml_package().replace(
        b"</edXML:AttachmentEncoded>",
        b"<edXML:Attachment><edXML:ContentTransferEncoded>"
        + big.encode()
        + b"</edXML:ContentTransferEncoded></edXML:Attachment></edXML:AttachmentEncoded>",
    )
    assert _only(check_xml_signatures(sign_edxml(package, ca.agency), roots)).status is VALID


def test_broken_xml_gives_one_invalid_check(roots: TrustRoots) -> None:
    check = _only(check_xml_signatures(b"<edXML><ds:Signature>", roots))
    assert check.status is INVALID and "not well-formed" in check.reason


# --- no roots at all --------------------------------------------------------------------------


def test_with_no_roots_every_signature_is_unknown_but_tampering_still_shows(
    ca: Pki, agency_pdf: bytes, agency_xml: bytes, tmp_path: Path
) -> None:
    empty = TrustRoots.load(tmp_path)  # an empty trust folder: not the system's TLS roots
    for check in [
        *check_pdf_signatures(agency_pdf, empty),
        *check_pdf_signatures(sign_pdf(make_pdf(), ca.public_signer), empty),
        *check_xml_signatures(agency_xml, empty),
    ]:
        assert check.status is UNKNOWN_ROOT, check
        assert check.reason == "there are no trust roots (the trust folder is empty or missing)"
    tampered_pdf = _only(check_pdf_signatures(change_signed_byte(agency_pdf), empty))
    tampered_xml = _only(
        check_xml_signatures(agency_xml.replace(SUBJECT.encode(), b"Other"), empty)
    )
    assert tampered_pdf.status is INVALID and tampered_xml.status is INVALID


def test_a_flood_of_xml_signatures_is_checked_up_to_a_limit(
    roots: TrustRoots, agency_xml: bytes
) -> None:
    """Each signature costs a parse of the whole document: thousands in a small package took
    minutes. The first ``MAX_SIGNATURES`` are checked, the rest said not checked."""
    from lxml import etree

    from ingest.signatures import MAX_SIGNATURES

    root = etree.fromstring(agency_xml)
    [signature] = list(root.iter("{http://www.w3.org/2000/09/xmldsig#}Signature"))
    parent = signature.getparent()
    for _ in range(3 * MAX_SIGNATURES):
        parent.append(copy.deepcopy(signature))
    checks = check_xml_signatures(etree.tostring(root), roots)
    assert len(checks) == MAX_SIGNATURES + 1
    assert checks[-1].status is INVALID
    assert f"holds {3 * MAX_SIGNATURES + 1} signatures" in checks[-1].reason


@given(
    before=st.binary(max_size=40),
    after=st.binary(max_size=40),
    signed=st.booleans(),
    chunk=st.integers(min_value=1, max_value=12),
)
def test_a_file_is_told_unsigned_in_pieces_as_whole(
    before: bytes, after: bytes, signed: bool, chunk: int
) -> None:
    """Read in pieces of any size (a "Signature" may be cut across two), a file is told
    unsigned exactly when its bytes, read whole, are."""
    data = b"<?xml" + before + (b"Signature" if signed else b"") + after
    with patch.object(signatures, "_SCAN_CHUNK", chunk):
        told = signatures._surely_unsigned_stream(io.BytesIO(data))
    assert told == signatures._surely_unsigned_xml(data)
