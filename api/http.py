"""What every HTTP response has in common: one error shape, security headers, upload limits.

- Every error, ours or the framework's (validation, an unknown path, a wrong method), answers
  ``{"error": {"status", "code", "message"}}`` with the status from ``api/errors.py`` and a
  code by status, except ``damaged`` for damage found in what the archive holds (500 too); an
  unexpected failure answers 500 ``internal`` with a plain message, never a traceback.
- Every response carries a Content-Security-Policy without inline script, nosniff, no
  referrer, and may not be framed; CORS is off (no Access-Control headers are ever sent).
  Nothing but the static files may be kept by a cache (``Cache-Control: no-store``): a
  confidential record's file is not left in a browser's or a proxy's cache.
- A request body over ``max_body_bytes`` is refused (413) before it is read whole.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import FileResponse, MalformedRangeHeader, RangeNotSatisfiable

from api.errors import http_status_for
from archive.errors import IntegrityError, LuutruError, TooLarge

log = logging.getLogger(__name__)
Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'self'; frame-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "form-action 'self'"
)
HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
]
_CODES = {400: "bad-request", 401: "unauthenticated", 403: "forbidden", 404: "not-found",
          405: "method-not-allowed", 409: "refused", 410: "gone", 413: "too-large",
          416: "range-not-satisfiable", 422: "invalid",
          429: "rate-limited", 500: "internal", 503: "unavailable"}  # fmt: skip


def error_response(
    status: int, message: str, headers: dict[str, str] | None = None, code: str | None = None
) -> JSONResponse:
    code = code or _CODES.get(status, "error")
    return JSONResponse(
        {"error": {"status": status, "code": code, "message": message}},
        status_code=status,
        headers=headers,
    )


def json_answer(data: Any) -> Response:
    """``data``, already in the shape of the route's response model, as JSON: the routes read
    most often answer so, without FastAPI's validation of their answer against the model
    and its serialisation in Python (a tenth of a record read's time, bench/RESULTS.md). The
    schema tests (schemathesis) hold those answers to the OpenAPI schema instead."""
    return Response(orjson.dumps(data), media_type="application/json")


def range_problem(request: Request, size: int) -> JSONResponse | None:
    """The error a file's Range request gets, in the one shape (Starlette's file response
    answers it in plain text), or None when the file response may serve it (a Range of
    another unit than bytes is taken off the request: the whole file is served)."""
    asked = request.headers.get("range")
    if asked is None or "if-range" in request.headers:
        return None  # with If-Range, a range that no longer applies gets the whole file
    unit = asked.partition("=")[0].strip().lower()
    if unit != "bytes":
        # RFC 9110 14.2: a range unit the server does not know is ignored, and the whole
        # file sent; Starlette's file response would refuse it, so it never sees it.
        request.scope["headers"] = [(k, v) for k, v in request.scope["headers"] if k != b"range"]
        return None
    try:
        FileResponse._parse_range_header(asked, size)
    except MalformedRangeHeader as exc:
        return error_response(400, f"the Range header cannot be served: {exc.content}")
    except RangeNotSatisfiable:
        return error_response(416, f"the Range asked is not within the file's {size} bytes",
                              headers={"Content-Range": f"bytes */{size}"})  # fmt: skip
    return None


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(LuutruError)
    async def ours(_request: Request, exc: LuutruError) -> JSONResponse:
        # Damage found in what the archive holds is no fault of the server's code: said so.
        code = "damaged" if isinstance(exc, IntegrityError) else None
        return error_response(http_status_for(exc), str(exc), code=code)

    @app.exception_handler(RequestValidationError)
    async def invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        parts = []
        for problem in exc.errors()[:5]:
            where = ".".join(str(p) for p in problem.get("loc", ()) if p not in ("query", "body"))
            parts.append(
                f"{where}: {str(problem.get('msg', 'invalid')).removeprefix('Value error, ')}"
            )
        return error_response(422, "; ".join(parts) or "the request is not valid")

    @app.exception_handler(StarletteHTTPException)
    async def framework(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        message = exc.detail if isinstance(exc.detail, str) else "the request cannot be served"
        return error_response(exc.status_code, message, getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected failure serving %s", request.url.path)
        response = error_response(
            500, "the archive could not answer this request; see the server log"
        )
        # Starlette answers this from outside every middleware: the headers are set here.
        response.headers.update(
            {"content-security-policy": POLICY, **{k.decode(): v.decode() for k, v in HEADERS}}
        )
        return response


def _inline_script_hashes(html: str) -> list[str]:
    return [
        "'sha256-" + base64.b64encode(hashlib.sha256(body.encode()).digest()).decode() + "'"
        for body in re.findall(r"<script>(.*?)</script>", html, flags=re.DOTALL)
    ]


def _docs_policy(html: str) -> str:
    """Swagger UI and ReDoc start with an inline script and style: those scripts (by hash)
    and inline styles are allowed on those pages only."""
    scripts = " ".join(_inline_script_hashes(html))
    return POLICY.replace("script-src 'self'", f"script-src 'self' {scripts}").replace(
        "style-src 'self'", "style-src 'self' 'unsafe-inline'"
    )


class SecurityHeaders:
    """ASGI middleware (no per-request Python objects beyond the headers): the headers above
    on every response; the API documentation pages' own inline scripts are allowed by hash."""

    def __init__(
        self, app: ASGIApp, docs_pages: dict[str, str], cacheable: tuple[str, ...] = ()
    ) -> None:
        self.app = app
        self.policies: dict[str, bytes] = {
            path: _docs_policy(html).encode() for path, html in docs_pages.items()
        }
        self.default = POLICY.encode()
        self.cacheable = cacheable  # path prefixes of files that are the same for everyone

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        policy = self.policies.get(scope["path"], self.default)
        stored = scope["path"].startswith(self.cacheable) if self.cacheable else False

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.append((b"content-security-policy", policy))
                headers.extend(HEADERS)
                if not stored and all(name.lower() != b"cache-control" for name, _ in headers):
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)


class BodyLimit:
    """Refuse request bodies over ``limit`` bytes: by Content-Length at once, and while
    reading for a body sent in chunks."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers", []))
        declared = headers.get(b"content-length")
        if declared is None and b"transfer-encoding" not in headers:
            # No body (HTTP/1.1 sends one only with either header): nothing to count, and
            # no wrappers around every message of the answer.
            await self.app(scope, receive, send)
            return
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await _send_error(send, 413, f"the upload is over {self.limit >> 20} MiB")
            return
        seen, over = 0, False

        async def counted() -> Message:
            nonlocal seen, over
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:
                over = True
                raise TooLarge(f"the upload is over {self.limit >> 20} MiB")
            return message

        replaced = False

        async def answered(message: Message) -> None:
            # The framework's form parser takes any failure of reading for a bad body (400):
            # once the limit was passed, the answer is 413 whatever it says.
            nonlocal replaced
            start = message["type"] == "http.response.start"
            if start and over and message["status"] != 413:
                replaced = True
                await _send_error(send, 413, f"the upload is over {self.limit >> 20} MiB")
            elif not replaced:
                await send(message)

        await self.app(scope, counted, answered)


async def _send_error(send: Send, status: int, message: str) -> None:
    response = error_response(status, message)
    await send({"type": "http.response.start", "status": status, "headers": response.raw_headers})
    await send({"type": "http.response.body", "body": response.body})
