"""POST /api/v1/verify: is an uploaded file in the archive, in which record, intact? Or, for
an evidence bundle, is it valid? Uploads are written to a private temp file in the archive
home (never kept), hashed as they arrive, and only records the reader may see are named."""

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
from archive.bundle import BundleError, verify_bundle
from archive.errors import UsageError
from archive.fixity import audit_archive
from archive.models import RecordFile

CHUNK = 1 << 20


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
            return {"kind": "bundle", "sha256": sha256, "archived": report.ok, "intact": report.ok,
                    "records": [], "bundle": report.as_json()}  # fmt: skip
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
    records = [
        {"record_id": rid, "role": role, "intact": intact.get(rid, False)} for rid, role in holders
    ]
    return {"kind": "file", "sha256": sha256, "archived": True,
            "intact": all(r["intact"] for r in records), "records": records}  # fmt: skip
