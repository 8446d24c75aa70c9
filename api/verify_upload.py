"""POST /api/v1/verify: is an uploaded file in the archive, in which record, intact? Or, for
an evidence bundle, is it valid, and was it made by this archive? Uploads are written to a
private temp file in the archive home (never kept), hashed as they arrive, and only records
the reader may see are named.

"archived" means archived here, now. A bundle checks against the keys it carries, so a
valid bundle may come from any archive: it is this archive's only when its keys are among
this archive's (current or rotated out) and the record it names is here, visible to the
reader, with the manifest the bundle holds in this archive's log. A record the reader may
not see answers exactly as one that is not here. A file or bundle of a record destroyed
since says so: it was archived, and is no longer."""

from __future__ import annotations

import hashlib
import os
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from fastapi import UploadFile
from sqlalchemy import select

from api.auth import Reader
from api.services import Services
from archive.bundle import MAX_SMALL_MEMBER, BundleError, BundleReport, verify_bundle
from archive.errors import UsageError
from archive.fixity import audit_archive
from archive.log import EntryKind
from archive.models import LogEntry, RecordFile

CHUNK = 1 << 20
NOT_HERE = "it names no record of this archive that you may see"


async def _save(upload: UploadFile, folder: Path) -> tuple[Path, str]:
    fd, name = tempfile.mkstemp(prefix=".upload-", dir=folder)
    digest = hashlib.sha256()
    with os.fdopen(fd, "wb") as out:
        while chunk := await upload.read(CHUNK):
            digest.update(chunk)
            out.write(chunk)
    return Path(name), digest.hexdigest()


async def verify_upload(services: Services, reader: Reader, upload: UploadFile) -> dict[str, Any]:
    path, sha256 = await _save(upload, services.archive.home.root)
    try:
        if zipfile.is_zipfile(path) and _is_bundle(path):
            try:
                report = verify_bundle(path)
            except BundleError as exc:
                raise UsageError(str(exc)) from None
            return _bundle_answer(services, reader, sha256, report, _entry_sha256(path))
        return _file_answer(services, reader, sha256)
    finally:
        path.unlink(missing_ok=True)


def _is_bundle(path: Path) -> bool:
    """A zip holding an ``entry``. A file that only ends as a zip does (its directory is not
    there) is a file like any other."""
    try:
        with zipfile.ZipFile(path) as archive:
            return "entry" in archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return False


def _entry_sha256(path: Path) -> str | None:
    """The sha256 of the bundle's ``entry`` (its manifest as logged), to find it in the log."""
    try:
        with zipfile.ZipFile(path) as archive, archive.open("entry") as handle:
            return hashlib.sha256(handle.read(MAX_SMALL_MEMBER + 1)).hexdigest()
    except (zipfile.BadZipFile, OSError, ValueError, KeyError, EOFError):
        return None  # a damaged bundle: verify_bundle has said why


def _bundle_answer(
    services: Services,
    reader: Reader,
    sha256: str,
    report: BundleReport,
    entry_sha256: str | None,
) -> dict[str, Any]:
    archive = services.archive
    ours = {key.fingerprint for key in archive.keyring()}
    made_here = (
        bool(report.key_fingerprint)
        and {
            report.key_fingerprint,
            report.checkpoint_key_fingerprint or report.key_fingerprint,
        }
        <= ours
    )
    answer: dict[str, Any] = {
        "kind": "bundle",
        "sha256": sha256,
        "archived": False,
        "intact": report.ok,
        "records": [],
        "bundle": report.as_json(),
        "made_here": made_here,
        "reason": None,
    }
    if not report.ok:
        answer["reason"] = "the bundle is not valid: " + "; ".join(report.problems)
        return answer
    if not made_here:
        answer["reason"] = (
            f"the bundle is valid, but it was not made by this archive: it is signed by key "
            f"{report.key_fingerprint}, which is not one of this archive's keys"
        )
        return answer
    record_id = report.record_id
    visible = archive.visible([record_id], reader.clearance) if record_id else set()
    if record_id not in visible:
        answer["reason"] = f"the bundle is signed by this archive's key, but {NOT_HERE}"
        return answer
    if not _logged(services, record_id, report.leaf_index, entry_sha256):
        answer["reason"] = (
            f"the bundle names record {record_id}, but its manifest is not the one this "
            "archive logged for that record at that place: it was not made by this archive"
        )
        return answer
    destroyed = archive.destructions([record_id]).get(record_id)
    if destroyed is not None:
        answer["reason"] = f"record {record_id} was {destroyed.told()}: no longer archived"
        answer["destroyed"] = destroyed.as_json()
        return answer
    answer["archived"] = True
    return answer


def _logged(services: Services, record_id: str, leaf_index: int, entry_sha256: str | None) -> bool:
    """Whether this archive's log holds the bundle's manifest, as a seal or revision of that
    record, at the leaf the bundle's proof is for (an older revision is still this archive's
    own manifest of the record)."""
    if entry_sha256 is None:
        return False
    with services.archive.faults(), services.archive.session() as session:
        found = session.scalar(
            select(LogEntry.seq).where(
                LogEntry.seq == leaf_index,
                LogEntry.record_id == record_id,
                LogEntry.entry_sha256 == entry_sha256,
                LogEntry.kind.in_([EntryKind.SEAL, EntryKind.REVISION]),
            )
        )
    return found is not None


def _file_answer(services: Services, reader: Reader, sha256: str) -> dict[str, Any]:
    with services.archive.faults(), services.archive.session() as session:
        holders: list[tuple[str, str]] = [
            (rid, role)
            for rid, role in session.execute(
                select(RecordFile.record_id, RecordFile.role).where(RecordFile.sha256 == sha256)
            )
        ]
    visible = services.archive.visible(sorted({rid for rid, _ in holders}), reader.clearance)
    holders = [(rid, role) for rid, role in holders if rid in visible]
    if not holders:
        return {"kind": "file", "sha256": sha256, "archived": False, "intact": False, "records": []}
    report = audit_archive(services.archive, sorted(visible), record_events=False)
    intact = {r.record_id: r.ok for r in report.records}
    destroyed = services.archive.destructions(sorted(visible))
    records = [
        {
            "record_id": rid,
            "role": role,
            # A destroyed record's file is neither intact nor damaged: it is gone.
            "intact": None if rid in destroyed and intact.get(rid) else intact.get(rid, False),
            "destroyed": destroyed[rid].as_json() if rid in destroyed else None,
        }
        for rid, role in holders
    ]
    living = [r for r in records if r["record_id"] not in destroyed]
    answer: dict[str, Any] = {
        "kind": "file",
        "sha256": sha256,
        "archived": bool(living),
        "intact": bool(living) and all(r["intact"] for r in living),
        "records": records,
    }
    if not living:
        answer["reason"] = "the file was archived, but every record that held it was destroyed"
    return answer
