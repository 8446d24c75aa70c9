"""Evidence bundles (``luutru evidence``): everything needed to prove, away from the archive,
that a record's files are exactly what was archived and that the archive logged it.

The layout is the one ``archive.bundle`` checks; the bundle is written to a temp file and
renamed into place, so a half-written bundle never exists. Every file (and the manifest) is
hashed as it is copied in: a bundle of bytes that are not the sealed ones would be evidence
against the archive itself, so none is written, and the damage is named instead.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from archive import log
from archive.bundle import BUNDLE_FORMAT, member_names
from archive.errors import BlobMissing, IntegrityError, RecordDestroyed, UsageError
from archive.fsutil import file_mode, fsync_directory, locked_temp_file, make_directories
from archive.models import AccessLevel, LogEntry, RecordStatus
from archive.repository import Archive

README = """\
BẰNG CHỨNG LƯU TRỮ — luutru evidence bundle
==========================================

Tiếng Việt
----------
Gói này chứng minh, không cần mạng và không cần kho lưu trữ, rằng các tệp trong thư mục
files/ đúng là các tệp đã được lưu trữ, và kho đã ghi nhận chúng vào sổ nhật ký (Merkle log)
không thể sửa đổi. Kiểm tra tự động: `luutru verify {bundle}` (mã thoát 0: hợp lệ, 5: hỏng).

Kiểm tra bằng tay:
1. Băm từng tệp và so với "sha256" ghi trong tệp entry (bản kê ký số, JSON):
       sha256sum files/*/*
2. Kiểm tra chữ ký của bản kê bằng khóa công khai của kho (Ed25519):
       openssl pkeyutl -verify -pubin -inkey keys/{key_id}.pub.pem -rawin \\
           -in entry -sigfile entry.sig
   Dấu vân tay của khóa (sha256 của 32 byte khóa) phải khớp với dấu vân tay cơ quan đã ghi
   lại bên ngoài kho khi khởi tạo (`luutru init` in ra):
       openssl pkey -pubin -in keys/{key_id}.pub.pem -outform DER | tail -c 32 | sha256sum
3. Băm lá của bản kê trong cây Merkle (RFC 9162): (printf '\\000'; cat entry) | sha256sum
   rồi kết hợp với các giá trị "hashes" trong inclusion.json theo RFC 9162 mục 2.1.3.2;
   kết quả phải bằng gốc (dòng thứ ba, base64) của tệp checkpoint.
4. Tệp checkpoint là một ghi chú ký số (c2sp.org/tlog-checkpoint); khóa kiểm tra nằm trong
   checkpoint.vkey.

English
-------
This bundle proves, offline and without the archive, that the files under files/ are exactly
the files that were archived, and that the archive entered them in its append-only Merkle
log. To check it automatically: `luutru verify {bundle}` (exit 0: valid, 5: damaged).

By hand:
1. Hash each file and compare with the "sha256" values in `entry` (the signed manifest, JSON):
       sha256sum files/*/*
2. Check the manifest's signature with the archive's public key (Ed25519):
       openssl pkeyutl -verify -pubin -inkey keys/{key_id}.pub.pem -rawin \\
           -in entry -sigfile entry.sig
   The key's fingerprint (sha256 of its 32 raw bytes) must match the fingerprint the agency
   wrote down outside the archive when it was created (`luutru init` prints it):
       openssl pkey -pubin -in keys/{key_id}.pub.pem -outform DER | tail -c 32 | sha256sum
3. The manifest's leaf hash in the Merkle tree (RFC 9162): (printf '\\000'; cat entry) | sha256sum,
   combined with the "hashes" of inclusion.json as RFC 9162 section 2.1.3.2 says, must give
   the root hash (third line, base64) of `checkpoint`.
4. `checkpoint` is a signed note (c2sp.org/tlog-checkpoint); its verifier key is in
   checkpoint.vkey.

Record {record_id}, log entry {leaf_index} of {tree_size}, log {origin}.
"""


@dataclass(frozen=True)
class EvidenceReport:
    path: Path
    record_id: str
    leaf_index: int
    tree_size: int
    files: int


def write_evidence(archive: Archive, record_id: str, target: Path) -> EvidenceReport:
    """Write the evidence bundle of ``record_id`` (any unique prefix) to ``target``."""
    if target.exists() and target.is_dir():
        raise UsageError(f"{target} is a folder; give the bundle's file name (…/evidence.zip)")
    record = archive.get(record_id, AccessLevel.SECRET)
    if record.status == RecordStatus.DESTROYED.value:
        _refuse_destroyed(archive, record.id)
    seal = record.seal
    if seal is None:
        raise IntegrityError(f"record {record.id} has no seal")
    with archive.faults(), archive.session() as session:
        entry_row = session.scalar(
            select(LogEntry)
            .where(LogEntry.entry_sha256 == seal.manifest_sha256, LogEntry.record_id == record.id)
            .order_by(LogEntry.seq.desc())
            .limit(1)
        )
        checkpoint = log.latest_checkpoint(session)
        if entry_row is None or checkpoint is None:
            raise IntegrityError(
                f"record {record.id}'s seal is not in the log; 'luutru verify' says more"
            )
        proof = log.inclusion_proof(session, entry_row.seq, checkpoint.size)
        origin = log.head(session).origin
    keyring = archive.keyring()
    signer = keyring.get(checkpoint.key_id)
    if signer is None:
        raise IntegrityError(f"the checkpoint's key {checkpoint.key_id} is not published")
    entry = _read_checked(archive, record.id, "the signed manifest", seal.manifest_sha256)
    members: list[tuple[str, bytes | str]] = [
        ("entry", entry),
        ("entry.sig", base64.b64decode(seal.signature)),
        (
            "inclusion.json",
            json.dumps(
                {
                    "format": BUNDLE_FORMAT,
                    "leaf_index": entry_row.seq,
                    "tree_size": checkpoint.size,
                    "hashes": [base64.b64encode(h).decode() for h in proof],
                },
                indent=2,
            ).encode(),
        ),
        ("checkpoint", (checkpoint.witnessed_note or checkpoint.note).encode("utf-8")),
        ("checkpoint.vkey", signer.note_verifier(origin).vkey().encode() + b"\n"),
        *((f"keys/{key.key_id}.pub.pem", key.public_pem()) for key in keyring),
        *(
            (member, f"blob:{f.sha256}")
            for f, member in zip(
                record.files,
                member_names([(f.role, f.name, f.sha256) for f in record.files]),
                strict=True,
            )
        ),
    ]
    readme = README.format(
        bundle=target.name,
        key_id=seal.key_id,
        record_id=record.id,
        leaf_index=entry_row.seq,
        tree_size=checkpoint.size,
        origin=origin,
    )
    members.insert(0, ("README.txt", readme.encode("utf-8")))
    _write_zip(archive, record.id, target, members)
    return EvidenceReport(target, record.id, entry_row.seq, checkpoint.size, len(record.files))


def _refuse_destroyed(archive: Archive, record_id: str) -> None:
    how = archive.destructions([record_id]).get(record_id)
    told = how.told() if how else "destroyed"
    report = ""
    if how is not None and how.report_record_id:
        report = f"; 'luutru evidence {how.report_record_id}' proves the destruction"
    raise RecordDestroyed(
        f"record {record_id} was {told}: its files are gone, so no evidence bundle can be "
        f"made of it ('luutru show {record_id}' shows its tombstone{report})"
    )


def _damaged(record_id: str, what: str, problem: str) -> IntegrityError:
    return IntegrityError(
        f"record {record_id}: {what} is not as sealed ({problem}); no evidence bundle was "
        "written. Run 'luutru verify' to see what is damaged, and restore it from a backup"
    )


def _read_checked(archive: Archive, record_id: str, what: str, sha256: str) -> bytes:
    try:
        data = archive.blobs.read_bytes(sha256)
    except BlobMissing as exc:
        raise _damaged(record_id, what, str(exc)) from None
    actual = hashlib.sha256(data).hexdigest()
    if actual != sha256:
        raise _damaged(record_id, what, f"blob {sha256} now hashes to {actual}")
    return data


def _write_zip(
    archive: Archive, record_id: str, target: Path, members: list[tuple[str, bytes | str]]
) -> None:
    """Write the zip into a locked temp file beside ``target``, fsync, rename: the files
    stream from the blob store, so a bundle of large scans never sits in memory. Each file
    is hashed as it streams; one that is not its sealed sha256 stops the bundle before the
    rename, so no damaged bundle ever stands at ``target``."""
    make_directories(target.parent)
    fd, tmp = locked_temp_file(target.parent)
    try:
        with os.fdopen(fd, "w+b") as handle:
            with zipfile.ZipFile(handle, "w", zipfile.ZIP_DEFLATED) as bundle:
                for name, content in members:
                    if isinstance(content, bytes):
                        bundle.writestr(name, content)
                        continue
                    _copy_checked(archive, record_id, bundle, name, content.removeprefix("blob:"))
            handle.flush()
            os.fsync(handle.fileno())
            os.chmod(tmp, file_mode())
            os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_directory(target.parent)


def _copy_checked(
    archive: Archive, record_id: str, bundle: zipfile.ZipFile, name: str, sha256: str
) -> None:
    what = name.removeprefix("files/")
    digest = hashlib.sha256()
    try:
        source = archive.blobs.open(sha256)
    except BlobMissing as exc:
        raise _damaged(record_id, what, str(exc)) from None
    with source, bundle.open(name, "w", force_zip64=True) as sink:
        while chunk := source.read(1 << 20):
            digest.update(chunk)
            sink.write(chunk)
    if (actual := digest.hexdigest()) != sha256:
        raise _damaged(record_id, what, f"its bytes hash to {actual}, the seal says {sha256}")
