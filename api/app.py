"""The read API (FastAPI, /api/v1) and the web page. It never changes a record and never
loads the signing key; the only thing it writes is the audit of reads of non-public records.

Readers are who their API key says (``Authorization: Bearer KEY``) or their web session, else
anonymous at ``anonymous_clearance``. A record above the reader's clearance answers 404
everywhere — search totals, facets, snippets, files, evidence, verify — exactly as an absent
one, by the same query: the clearance is part of the SQL, so not even timing tells them apart.
"""

from __future__ import annotations

import base64
import importlib
import importlib.util
import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import date
from pathlib import Path
from typing import Annotated, Any, TypeVar

from anyio import to_thread
from fastapi import Depends, FastAPI, File, Query, Request, UploadFile
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, Response
from sqlalchemy import Row
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool

from api import schemas
from api.auth import RateLimiter, Reader, Sessions, reader_of_request
from api.dashboard import dashboard
from api.http import (
    BodyLimit,
    SecurityHeaders,
    error_response,
    install_error_handlers,
    json_answer,
    range_problem,
)
from api.offline_docs import ASSETS_URL, docs_pages, mount_offline_docs
from api.services import Services
from api.verify_upload import verify_upload
from api.views import described_json
from archive import log
from archive.errors import NotFound, RecordNotFound
from archive.evidence import write_evidence
from archive.home import ArchiveHome
from archive.models import FileRole, Record
from retention import holds
from retention.due import due_records
from search.contracts import FACETS, SearchRequest, SearchResults, Sort
from search.query import Filters, parse_query

STATIC_DIR = Path(__file__).parent / "static"
MAX_UPLOAD_BYTES = 1 << 30
# Requests served at once in worker threads (anyio's default is 40): as many as the cores.
# More only take turns at the GIL while the event loop waits its turn to answer: on 2 cores,
# p99 of a record read under 20 connections was 72 ms with 2 threads, 125 with 4 and 150
# with 40 (bench/RESULTS.md). A download takes a thread only for each chunk it reads.
SERVE_THREADS = max(2, os.cpu_count() or 1)
READ_ROLES_FOR_HOLDS = {"legal", "archivist", "approver", "admin"}
ReaderDep = Annotated[Reader, Depends(reader_of_request)]
RecordId = Annotated[
    str,
    PathParam(
        pattern=r"^[0-9A-Fa-f]{8,32}$",
        description="the record id, or a unique prefix of 8 or more of its characters",
    ),
]
Responses = dict[int | str, dict[str, Any]]
# 400: a prefix that names several records the reader may see.
NOT_FOUND: Responses = {404: {"model": schemas.ErrorBody}, 400: {"model": schemas.ErrorBody}}
BAD_REQUEST: Responses = {400: {"model": schemas.ErrorBody}}
FORBIDDEN: Responses = {403: {"model": schemas.ErrorBody}}
T = TypeVar("T")


def _services(request: Request) -> Services:
    return request.app.state.services  # type: ignore[no-any-return]


async def _read_by_key(request: Request, read: Callable[[], T]) -> T:
    """Run ``read``, a few rows by key (a record by its id): on the event loop when the
    archive is the embedded SQLite file, in a worker thread when it is PostgreSQL
    (``Services.key_reads_on_loop``). Work that grows with the archive or the input (search,
    files and texts, evidence, the dashboard) and commits always run in worker threads."""
    if _services(request).key_reads_on_loop:
        return read()
    return await run_in_threadpool(read)


async def _audit(request: Request, record: Record | Row[Any], reader: Reader, what: str) -> None:
    """Keep the read (``Services.audit_read``), durably committed, in a worker thread: the
    event loop never waits for a disk."""
    services = _services(request)
    if services.audited(record):
        await run_in_threadpool(services.audit_read, record, reader.name, what)


def create_app(home: ArchiveHome) -> FastAPI:
    home.require()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Fewer threads than anyio's 40: on a few cores more of them only take turns at
        # the GIL, and each request waits longer for its turn (see bench/RESULTS.md).
        to_thread.current_default_thread_limiter().total_tokens = SERVE_THREADS
        app.state.services = Services.open(home, catch_up_index=True)
        app.state.sessions = Sessions()
        app.state.limiter = RateLimiter()
        try:
            yield
        finally:
            app.state.services.close()

    app = FastAPI(
        title="luutru",
        summary="Read API of a luutru records archive",
        lifespan=lifespan,
        docs_url=None,  # served from local files by mount_offline_docs: no CDN offline
        redoc_url=None,
        responses={401: {"model": schemas.ErrorBody}, 429: {"model": schemas.ErrorBody}},
    )
    mount_offline_docs(app)
    install_error_handlers(app)
    _routes(app)
    _web(app)
    app.add_middleware(BodyLimit, limit=MAX_UPLOAD_BYTES)
    app.add_middleware(
        SecurityHeaders, docs_pages=docs_pages(app), cacheable=("/static/", ASSETS_URL + "/")
    )
    return app


def _routes(app: FastAPI) -> None:
    _search_routes(app)
    _record_routes(app)
    _integrity_routes(app)
    _retention_routes(app)


def _search_routes(app: FastAPI) -> None:
    @app.get("/api/v1/health", response_model=schemas.Health)
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/api/v1/search", response_model=schemas.SearchResponse)
    def search(
        request: Request,
        reader: ReaderDep,
        q: Annotated[
            str, Query(max_length=500, description="the query (see the README's syntax)")
        ] = "",
        type: Annotated[
            str | None, Query(max_length=32, description="document type, e.g. QĐ")
        ] = None,
        issuer: Annotated[str | None, Query(max_length=200)] = None,
        date_from: Annotated[date | None, Query(alias="from")] = None,
        date_to: Annotated[date | None, Query(alias="to")] = None,
        year: Annotated[int | None, Query(ge=1000, le=9999)] = None,
        series: Annotated[str | None, Query(max_length=64)] = None,
        sort: Sort = Sort.RELEVANCE,
        limit: Annotated[int, Query(ge=1, le=100)] = 10,
        offset: Annotated[int, Query(ge=0, le=10_000)] = 0,
    ) -> Response:
        filters = Filters(doc_type=type, issuer=issuer, date_from=date_from, date_to=date_to,
                          series=series, year=year)  # fmt: skip
        query = SearchRequest(parse_query(q), reader.clearance, filters, sort, limit, offset)
        if query.query.empty and query.all_filters == Filters():
            return json_answer(SearchResults(0, [], {name: [] for name in FACETS}).as_json())
        return json_answer(_services(request).search(query).as_json())


def _record_routes(app: FastAPI) -> None:
    @app.get(
        "/api/v1/records/{record_id}", response_model=schemas.RecordResponse, responses=NOT_FOUND
    )
    async def record(request: Request, reader: ReaderDep, record_id: RecordId) -> Response:
        archive = _services(request).archive
        found = await _read_by_key(request, lambda: archive.describe(record_id, reader.clearance))
        await _audit(request, found.record, reader, "record")
        return json_answer(described_json(found))

    @app.get(
        "/api/v1/records/{record_id}/text", response_model=schemas.TextResponse, responses=NOT_FOUND
    )
    async def text(request: Request, reader: ReaderDep, record_id: RecordId) -> dict[str, str]:
        archive = _services(request).archive
        found = await _read_by_key(request, lambda: archive.get(record_id, reader.clearance))
        await _audit(request, found, reader, "text")
        # A file, as long as the record's text: read in a worker thread.
        return {"record_id": found.id, "text": await run_in_threadpool(archive.text_of, found)}

    @app.get(
        "/api/v1/records/{record_id}/files/{role}",
        response_class=FileResponse,
        responses={**NOT_FOUND, 200: {"content": {"application/octet-stream": {}}}},
    )
    def file(
        request: Request,
        reader: ReaderDep,
        record_id: RecordId,
        role: FileRole,
        n: Annotated[
            int,
            Query(ge=0, le=100_000, description="which file of that role: 0 is the first, "
                  "in the order of the record's `files`"),
        ] = 0,
    ) -> Response:  # fmt: skip
        """The record's file of that role (original, archival PDF/A, ocr-text, attachment:
        a package may have several, ``?n=1`` the second), with its own media type; Range
        requests are answered."""
        services = _services(request)
        found = services.archive.get(record_id, reader.clearance)
        wanted = found.file(role, n)
        if wanted is None or not services.archive.blobs.exists(wanted.sha256):
            which = f"{role.value} file" if n == 0 else f"{role.value} file n={n} (0 is the first)"
            raise RecordNotFound(f"record {found.id} has no {which}")
        if problem := range_problem(request, wanted.size):
            return problem
        services.audit_read(found, reader.name, f"file {role.value}")
        path = services.archive.blobs.path_for(wanted.sha256)  # type: ignore[attr-defined]
        return FileResponse(
            path, media_type=wanted.media_type, filename=wanted.name or f"{found.id}.{role.value}"
        )

    @app.get(
        "/api/v1/records/{record_id}/evidence",
        response_class=FileResponse,
        responses={**NOT_FOUND, 200: {"content": {"application/zip": {}}}},
    )
    def evidence(request: Request, reader: ReaderDep, record_id: RecordId) -> FileResponse:
        """The evidence bundle ('luutru evidence'): check it with 'luutru verify FILE.zip'."""
        services = _services(request)
        found = services.archive.get(record_id, reader.clearance)
        services.audit_read(found, reader.name, "evidence")
        folder = Path(tempfile.mkdtemp(prefix=".evidence-", dir=services.archive.home.root))
        target = folder / f"evidence-{found.id}.zip"
        try:
            write_evidence(services.archive, found.id, target)
        except BaseException:
            # Refused (destroyed, damaged): answered as an error, and no folder is left.
            _remove_folder(folder)
            raise
        cleanup = BackgroundTask(_remove_folder, folder)
        return FileResponse(
            target, media_type="application/zip", filename=target.name, background=cleanup
        )


def _remove_folder(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)


def _integrity_routes(app: FastAPI) -> None:
    @app.post("/api/v1/verify", response_model=schemas.VerifyResponse)
    async def verify(
        request: Request, reader: ReaderDep, upload: Annotated[UploadFile, File()]
    ) -> dict[str, Any]:
        """Upload a file or an evidence bundle: is it archived, in which record, intact?
        Only records the reader may see are named."""
        return await verify_upload(_services(request), reader, upload)

    @app.get(
        "/api/v1/log/checkpoint", response_model=schemas.CheckpointResponse, responses=NOT_FOUND
    )
    def checkpoint(request: Request, reader: ReaderDep) -> dict[str, Any]:
        with _services(request).archive.session() as session:
            newest = log.latest_checkpoint(session)
            origin = log.head(session).origin
        if newest is None:
            raise RecordNotFound("the log has no checkpoint yet")
        note = newest.witnessed_note or newest.note
        return {
            "origin": origin,
            "size": newest.size,
            "root": base64.b64encode(newest.root).decode(),
            "note": note,
        }

    @app.get(
        "/api/v1/log/inclusion/{record_id}",
        response_model=schemas.InclusionResponse,
        responses=NOT_FOUND,
    )
    def inclusion(request: Request, reader: ReaderDep, record_id: RecordId) -> dict[str, Any]:
        services = _services(request)
        found = services.archive.get(record_id, reader.clearance)
        with services.archive.session() as session:
            entries = [
                e
                for e in log.entries_of(session, found.id)
                if found.seal and e.entry_sha256 == found.seal.manifest_sha256
            ]
            newest = log.latest_checkpoint(session)
            if not entries or newest is None:
                raise RecordNotFound(f"record {found.id} is not in the log")
            proof = log.inclusion_proof(session, entries[-1].seq, newest.size)
        return {
            "record_id": found.id,
            "leaf_index": entries[-1].seq,
            "tree_size": newest.size,
            "hashes": [base64.b64encode(h).decode() for h in proof],
            "checkpoint": newest.witnessed_note or newest.note,
        }

    @app.get(
        "/api/v1/log/consistency",
        response_model=schemas.ConsistencyResponse,
        responses=NOT_FOUND,
    )
    def consistency(
        request: Request,
        reader: ReaderDep,
        old: Annotated[int, Query(ge=1, le=1 << 62)],
        new: Annotated[int, Query(ge=1, le=1 << 62)],
    ) -> dict[str, Any]:
        with _services(request).archive.session() as session:
            size = log.head(session).size
            if not old <= new <= size:
                raise NotFound(f"the log has no trees of those sizes (1 ≤ old ≤ new ≤ {size})")
            proof = log.consistency_proof(session, old, new)
        return {
            "old_size": old,
            "new_size": new,
            "hashes": [base64.b64encode(h).decode() for h in proof],
        }


def _retention_routes(app: FastAPI) -> None:
    @app.get("/api/v1/retention/due", response_model=schemas.DueResponse)
    def due(request: Request, reader: ReaderDep, as_of: date | None = None) -> dict[str, Any]:
        """What falls due by a date (today by default), among the records the reader may see."""
        services = _services(request)
        when = as_of or date.today()
        found = due_records(services.archive, services.schedule(), when)
        visible = services.archive.visible([d.record_id for d in found], reader.clearance)
        return {
            "as_of": when.isoformat(),
            "due": [d.as_json() for d in found if d.record_id in visible],
        }

    @app.get(
        "/api/v1/retention/holds",
        response_model=schemas.HoldsResponse,
        responses=FORBIDDEN,
    )
    def hold_list(request: Request, reader: ReaderDep) -> dict[str, Any]:
        """Legal holds (legal staff, archivists, approvers and admins only)."""
        if reader.role not in READ_ROLES_FOR_HOLDS:
            return error_response(403, "legal holds are for legal staff and archivists")  # type: ignore[return-value]
        found = holds.holds(_services(request).archive, clearance=reader.clearance)
        return {"holds": [h.__dict__ for h in found]}

    @app.get("/api/v1/dashboard", response_model=schemas.DashboardResponse)
    def dashboard_data(request: Request, reader: ReaderDep) -> dict[str, Any]:
        services = _services(request)
        return dashboard(services.archive, reader.clearance, services.schedule())


def _web(app: FastAPI) -> None:
    """The web page (server-rendered, api/web.py), or the bare search page until it exists."""
    if importlib.util.find_spec("api.web") is None:

        @app.api_route("/", methods=["GET", "HEAD"], include_in_schema=False)
        def page() -> FileResponse:
            return FileResponse(STATIC_DIR / "index.html", media_type="text/html; charset=utf-8")

        return
    importlib.import_module("api.web").install_web(app)
