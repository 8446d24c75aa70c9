"""The API's interactive documentation (/docs and /redoc), served from the package, never
from a CDN.

FastAPI's default pages load their scripts and style sheets from the internet, so on an
offline archive machine /docs is a blank page. The Swagger UI and ReDoc files come from the
fastapi-offline package instead (Swagger UI 5, which reads the OpenAPI 3.1 that FastAPI
writes; the swagger-ui-bundle package's 4.x cannot) and are served under /docs-assets/.
"""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import FastAPI
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS_URL = "/docs-assets"
ASSETS_DIR = Path(fastapi_offline.__file__).parent / "static"
OAUTH2_REDIRECT_URL = "/docs/oauth2-redirect"


def _swagger(app: FastAPI) -> HTMLResponse:
    return get_swagger_ui_html(
        openapi_url=app.openapi_url or "/openapi.json",
        title=f"{app.title} — API",
        swagger_js_url=f"{ASSETS_URL}/swagger-ui-bundle.js",
        swagger_css_url=f"{ASSETS_URL}/swagger-ui.css",
        swagger_favicon_url=f"{ASSETS_URL}/favicon.png",
        oauth2_redirect_url=OAUTH2_REDIRECT_URL,
    )


def _redoc(app: FastAPI) -> HTMLResponse:
    return get_redoc_html(
        openapi_url=app.openapi_url or "/openapi.json",
        title=f"{app.title} — API",
        redoc_js_url=f"{ASSETS_URL}/redoc.standalone.js",
        redoc_favicon_url=f"{ASSETS_URL}/favicon.png",
        with_google_fonts=False,
    )


def docs_pages(app: FastAPI) -> dict[str, str]:
    """The documentation pages' HTML by path: their inline scripts are allowed by hash in the
    Content-Security-Policy of those pages only."""
    pages = {
        "/docs": _swagger(app),
        "/redoc": _redoc(app),
        OAUTH2_REDIRECT_URL: get_swagger_ui_oauth2_redirect_html(),
    }
    return {path: bytes(page.body).decode("utf-8") for path, page in pages.items()}


def mount_offline_docs(app: FastAPI) -> None:
    """Serve /docs, /redoc and the OAuth2 redirect page with local files."""
    app.mount(ASSETS_URL, StaticFiles(directory=ASSETS_DIR), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return _swagger(app)

    @app.get(OAUTH2_REDIRECT_URL, include_in_schema=False)
    def oauth2_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get("/redoc", include_in_schema=False)
    def redoc() -> HTMLResponse:
        return _redoc(app)
