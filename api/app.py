"""The read API (FastAPI). Read-only: it never loads the signing key and never writes.

Readers are not identified yet, so every request is served at the archive's
``anonymous_clearance`` (public by default); records above it answer 404, exactly as absent ones.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI, Query, Request
from fastapi.responses import FileResponse, JSONResponse

from api.errors import http_status_for
from api.offline_docs import mount_offline_docs
from api.services import Services
from api.views import record_json
from archive.errors import LuutruError
from archive.home import ArchiveHome
from search.contracts import SearchRequest

STATIC_DIR = Path(__file__).parent / "static"


def create_app(home: ArchiveHome) -> FastAPI:
    home.require()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.services = Services.open(home, catch_up_index=True)
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
    )
    mount_offline_docs(app)

    @app.exception_handler(LuutruError)
    async def luutru_error(_request: Request, exc: LuutruError) -> JSONResponse:
        return JSONResponse({"error": str(exc)}, status_code=http_status_for(exc))

    def services(request: Request) -> Services:
        return request.app.state.services  # type: ignore[no-any-return]

    @app.get("/api/v1/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/api/v1/search")
    def search(
        request: Request,
        q: Annotated[str, Query(max_length=500, description="words, with or without diacritics")],
        limit: Annotated[int, Query(ge=1, le=100)] = 10,
        offset: Annotated[int, Query(ge=0, le=10_000)] = 0,
    ) -> dict[str, Any]:
        svc = services(request)
        clearance = svc.archive.settings.anonymous_clearance
        query = SearchRequest.of(q, clearance, limit=limit, offset=offset)
        return svc.search(query).as_json()

    @app.get("/api/v1/records/{record_id}")
    def record(request: Request, record_id: str) -> dict[str, Any]:
        svc = services(request)
        found = svc.archive.get(record_id, svc.archive.settings.anonymous_clearance)
        return record_json(found, svc.archive.text_of(found))

    @app.get("/", include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html", media_type="text/html; charset=utf-8")

    return app
