"""The web pages, in Vietnamese, rendered on the server (Jinja2, no JavaScript needed).

Pages: ``/`` search, ``/records/{id}`` a record, ``/records/{id}/pages/{n}`` a page image,
``/verify`` check a file, ``/dashboard`` figures, ``/login`` and ``/logout``.

Rules:
- every page reads its reader with ``api.auth.reader_of`` and shows only what that reader may
  see: a record above their clearance is "not found", exactly like an absent one;
- a search lives in its URL (``/?q=…&type=…&page=3``), so it can be shared and bookmarked;
  empty fields are dropped from the URL by one redirect;
- templates autoescape; the only markup taken from data is a snippet (the index escapes the
  text and adds ``<b>``), and only after checking it holds no other tag; charts are built
  in ``api.charts``, which escapes what it draws;
- no inline script or style anywhere (the Content-Security-Policy of ``api.http``); the
  stylesheet and the one small script are files under ``/static``;
- a POST from another site (``Sec-Fetch-Site``, else ``Origin``) is refused; the session
  cookie is HttpOnly, SameSite=Strict and holds a random token, never the API key;
- errors of a page (and of any path a browser asks for outside ``/api``) are pages in
  Vietnamese with the same status the API would answer.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import io
import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, cast
from urllib.parse import parse_qsl

import pypdfium2 as pdfium
from fastapi import FastAPI, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from starlette.datastructures import UploadFile as StarletteUpload
from starlette.exceptions import HTTPException as StarletteHTTPException

from api import charts
from api import web_search as ws
from api.auth import SESSION_COOKIE, SESSION_SECONDS, Reader, reader_of
from api.dashboard import dashboard
from api.errors import http_status_for
from api.services import Services
from api.verify_upload import verify_upload
from archive.errors import LuutruError, NotPermitted, RecordNotFound, UsageError
from archive.fixity import audit_archive
from archive.models import FileRole, Record, RecordFile, RecordStatus
from archive.text import normalize
from archive.users import user_by_key
from ingest.pdf import PDFIUM_LOCK
from search.contracts import SearchRequest, SearchResults, Sort
from search.query import Filters, parse_query

log = logging.getLogger(__name__)
HERE = Path(__file__).parent
TEMPLATES_DIR = HERE / "templates"
STATIC_DIR = HERE / "static"
MAX_PAGE_IMAGES = 30  # more pages are read in the PDF itself
PAGE_IMAGE_WIDTH = 1000  # pixels: sharp on a desktop, light enough for a phone
BROWSER_IMAGES = {"image/png", "image/jpeg", "image/gif", "image/webp"}
NOT_PAGES = ("/api/", "/docs", "/redoc", "/openapi.json")

LABELS: dict[str, dict[str, str]] = {
    "access": {"public": "Công khai", "internal": "Nội bộ", "confidential": "Hạn chế",
               "secret": "Mật"},
    "status": {"active": "Đang lưu trữ", "xem-xet-huy": "Xem xét hủy", "destroyed": "Đã hủy",
               "transferred": "Đã nộp lưu"},
    "role": {"original": "Bản gốc", "archival": "Bản lưu trữ PDF/A", "ocr-text": "Văn bản OCR",
             "attachment": "Tệp đính kèm"},
    "user": {"viewer": "người xem", "official": "cán bộ", "legal": "pháp chế",
             "archivist": "lưu trữ viên", "approver": "người phê duyệt", "admin": "quản trị"},
    "signature": {"valid": "Hợp lệ", "invalid": "Không hợp lệ",
                  "unknown-root": "Không rõ tổ chức chứng thực gốc"},
    "action": {"destroy": "Hủy", "transfer": "Nộp lưu lịch sử", "review": "Xem xét lại"},
    "fixity": {"pass": "Nguyên vẹn", "fail": "Hư hỏng", "never checked": "Chưa kiểm tra"},
    "sort": ws.SORTS,
}  # fmt: skip
ERRORS = {
    400: ("Yêu cầu không hợp lệ", "Địa chỉ hoặc dữ liệu gửi lên không đúng."),
    401: ("Chưa xác thực", "Khóa API không đúng hoặc đã bị vô hiệu hóa."),
    403: ("Không được phép", "Yêu cầu này bị từ chối."),
    404: ("Không tìm thấy", "Không có trang hay tài liệu này, hoặc bạn không có quyền xem."),
    405: ("Không hỗ trợ", "Trang này không nhận yêu cầu kiểu này."),
    413: ("Tệp quá lớn", "Tệp gửi lên vượt quá giới hạn cho phép."),
    429: ("Quá nhiều yêu cầu", "Vui lòng đợi một lát rồi thử lại."),
    503: ("Tạm thời không phục vụ được", "Kho lưu trữ đang bận hoặc gặp sự cố; thử lại sau."),
}
SERVER_ERROR = ("Lỗi máy chủ", "Kho lưu trữ không trả lời được yêu cầu này; xem nhật ký máy chủ.")
Handler = Callable[..., Response]
FIXITY_COLOURS = {"pass": "#2e7d32", "fail": "#b3261e", "never checked": "#6b6b6b"}


_ENV = Environment(
    loader=FileSystemLoader(TEMPLATES_DIR),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_ENV.filters.update(vi_date=ws.vi_date, filesize=ws.filesize, type_label=ws.type_label,
                    number=charts.vi_number, snippet=ws.safe_snippet)  # fmt: skip
_ENV.globals.update(L=LABELS, types=sorted(ws.TYPES.items(), key=lambda t: t[1]))


def install_web(app: FastAPI) -> None:
    """The pages (GET and HEAD, outside the API's schema), their static files, and error
    pages in Vietnamese for browsers."""
    pages: list[tuple[str, Handler]] = [
        ("/", search_page),
        ("/records/{record_id}", record_page),
        ("/records/{record_id}/pages/{number}", page_image),
        ("/verify", verify_page),
        ("/dashboard", dashboard_page),
        ("/login", login_page),
    ]
    for path, endpoint in pages:
        app.add_api_route(path, endpoint, methods=["GET", "HEAD"], include_in_schema=False)
    for path, post in (("/verify", verify_post), ("/login", login_post), ("/logout", logout)):
        app.add_api_route(path, post, methods=["POST"], include_in_schema=False)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    _html_errors(app)


def _html_errors(app: FastAPI) -> None:
    """A browser that asks for a page gets errors as pages; the API keeps its JSON."""
    as_json = app.exception_handlers.get(StarletteHTTPException)

    async def as_page(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        if _wants_html(request) or as_json is None:
            with contextlib.suppress(LuutruError):
                _reader(request)  # to say who is signed in, when that can be told
            return _error_page(request, exc.status_code, headers=exc.headers)
        return await as_json(request, exc)  # type: ignore[no-any-return, misc]

    app.add_exception_handler(StarletteHTTPException, as_page)


def _wants_html(request: Request) -> bool:
    return not request.url.path.startswith(NOT_PAGES) and "text/html" in request.headers.get(
        "accept", ""
    )


def _error_page(
    request: Request, status: int, detail: str = "", headers: Mapping[str, str] | None = None
) -> HTMLResponse:
    title, text = ERRORS.get(status, SERVER_ERROR)
    return _render(request, "error.html", status, headers=headers, title=title, text=text,
                   detail=detail, code=status)  # fmt: skip


def _page(handler: Callable[..., Any]) -> Any:
    """Run a page; an archive error becomes its error page (the API's status). A 404 says
    nothing of the record, so a restricted record reads exactly like an absent one. A plain
    function stays one, so that FastAPI runs it in its threads, off the event loop."""
    if inspect.iscoroutinefunction(handler):

        @functools.wraps(handler)
        async def async_page(request: Request, **params: Any) -> Response:
            try:
                return cast(Response, await handler(request, **params))
            except Exception as exc:  # noqa: BLE001 - answered in Vietnamese, logged
                return _failed(request, exc)

        return async_page

    @functools.wraps(handler)
    def page(request: Request, **params: Any) -> Response:
        try:
            return cast(Response, handler(request, **params))
        except Exception as exc:  # noqa: BLE001 - answered in Vietnamese, logged
            return _failed(request, exc)

    return page


def _failed(request: Request, exc: Exception) -> Response:
    if not isinstance(exc, LuutruError):
        log.error("unexpected failure serving %s", request.url.path, exc_info=exc)
        return _error_page(request, 500)
    status = http_status_for(exc)
    # The reader's own input may be told back; nothing else from the archive is.
    return _error_page(request, status, str(exc) if status in (400, 413) else "")


def _reader(request: Request) -> Reader:
    reader = reader_of(request)
    request.state.reader = reader
    return reader


def _services(request: Request) -> Services:
    return request.app.state.services  # type: ignore[no-any-return]


def _render(
    request: Request,
    template: str,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
    **context: Any,
) -> HTMLResponse:
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    reader = getattr(request.state, "reader", None)
    html = _ENV.get_template(template).render(reader=reader, here=here, path=request.url.path,
                                              **context)  # fmt: skip
    # Pages are the reader's own (their clearance, their session): never kept by a cache.
    return HTMLResponse(html, status, headers={**(headers or {}), "Cache-Control": "no-store"})


# --- search -------------------------------------------------------------------------------


@_page
def search_page(request: Request) -> Response:
    """The form; with a query or a filter, its hits (20 a page), facets and paging."""
    reader, services = _reader(request), _services(request)
    form = ws.SearchForm.read(dict(request.query_params))
    given = sorted(parse_qsl(request.url.query, keep_blank_values=True))
    if given != sorted(form.pairs()):
        return RedirectResponse(form.url(page=form.page), 302)  # the canonical, shareable URL
    filters, problems = form.filters()
    query = SearchRequest(parse_query(form.q), reader.clearance, filters, Sort(form.sort),
                          ws.PER_PAGE, (form.page - 1) * ws.PER_PAGE)  # fmt: skip
    searched = not (query.query.empty and query.all_filters == Filters())
    results = services.search(query) if searched else SearchResults(0, [])
    return _render(request, "search.html", form=form, problems=problems, searched=searched,
                   results=results, offset=query.offset, facets=ws.facets(form, results),
                   active=ws.active(form), pager=ws.pager(form, results.total),
                   series=sorted(services.schedule().values(), key=lambda r: r.code))  # fmt: skip


# --- a record -------------------------------------------------------------------------------


@_page
def record_page(request: Request, record_id: str) -> Response:
    reader, services = _reader(request), _services(request)
    record = services.archive.get(record_id, reader.clearance)
    services.audit_read(record, reader.name, "web: record page")
    rule = services.schedule().get(record.series_code or "")
    due = rule.due_date(record.closed_year) if rule and record.closed_year else None
    return _render(request, "record.html", record=record, rule=rule, due=due,
                   text=services.archive.text_of(record), seal=_seal_state(services, record),
                   viewer=_viewer(record), files=_files(record))  # fmt: skip


def _seal_state(services: Services, record: Record) -> dict[str, Any]:
    """Intact or damaged, with the problems: the files re-hashed against the signed seal."""
    report = audit_archive(services.archive, [record.id], record_events=False)
    problems = [p for r in report.records for p in r.problems] + report.all_problems()
    checked = sum(r.files_checked for r in report.records)
    return {"ok": report.ok and bool(report.records), "problems": problems, "checked": checked}


def _pdf_of(record: Record) -> RecordFile | None:
    """The PDF that shows the pages: the archival copy, else a born-digital original."""
    original = record.file(FileRole.ORIGINAL)
    if original is not None and original.media_type == "application/pdf":
        return record.file(FileRole.ARCHIVAL) or original
    return record.file(FileRole.ARCHIVAL)


def _viewer(record: Record) -> dict[str, Any]:
    """How the pages are shown: the original when a browser draws it (one page), else page
    images drawn from the PDF here (a PDF in a frame is refused by ``frame-ancestors``)."""
    base = f"/api/v1/records/{record.id}/files"
    if record.status == RecordStatus.DESTROYED.value:
        return {"kind": "none"}
    original = record.file(FileRole.ORIGINAL)
    pdf = _pdf_of(record)
    if original is not None and original.media_type in BROWSER_IMAGES and record.page_count <= 1:
        return {"kind": "image", "src": f"{base}/original", "pdf": pdf and f"{base}/{pdf.role}"}
    if pdf is None:
        return {"kind": "none"}
    count = max(1, record.page_count)
    return {"kind": "pages", "pages": list(range(1, min(count, MAX_PAGE_IMAGES) + 1)),
            "more": max(0, count - MAX_PAGE_IMAGES), "pdf": f"{base}/{pdf.role}"}  # fmt: skip


def _files(record: Record) -> list[dict[str, Any]]:
    """The files, each with its download link (``?n=`` picks one of several of a role)."""
    counted: dict[str, int] = {}
    files = []
    for file in record.files:
        n = counted.get(file.role, 0)
        counted[file.role] = n + 1
        link = f"/api/v1/records/{record.id}/files/{file.role}" + (f"?n={n}" if n else "")
        files.append({"file": file, "url": link})
    return files


@_page
def page_image(request: Request, record_id: str, number: str) -> Response:
    """Page ``number`` of the record's PDF as a JPEG, drawn here (pdfium)."""
    reader, services = _reader(request), _services(request)
    record = services.archive.get(record_id, reader.clearance)
    pdf = _pdf_of(record)
    wanted = int(number) if number.isdigit() else 0
    if pdf is None or record.status == RecordStatus.DESTROYED.value or wanted < 1:
        raise RecordNotFound(f"record {record.id} has no page {number}")
    services.audit_read(record, reader.name, f"web: page image {wanted}")
    image = _draw_page(services, pdf.sha256, wanted)
    if image is None:
        raise RecordNotFound(f"record {record.id} has no page {number}")
    return Response(image, media_type="image/jpeg",
                    headers={"Cache-Control": "private, max-age=3600"})  # fmt: skip


def _draw_page(services: Services, sha256: str, number: int) -> bytes | None:
    blobs = services.archive.blobs
    if not blobs.exists(sha256):
        return None  # absent, or a link or special file in its place: nothing is read
    path_for = getattr(blobs, "path_for", None)
    source = str(path_for(sha256)) if path_for else blobs.read_bytes(sha256)
    with PDFIUM_LOCK:  # pdfium is not thread-safe (ingest.pdf)
        document = pdfium.PdfDocument(source)
        try:
            if number > len(document):
                return None
            page = document[number - 1]
            try:
                bitmap = page.render(scale=PAGE_IMAGE_WIDTH / page.get_width())
                try:
                    image = bitmap.to_pil()
                finally:
                    bitmap.close()
            finally:
                page.close()
        finally:
            document.close()
    out = io.BytesIO()
    image.convert("RGB").save(out, "JPEG", quality=82, optimize=True)
    return out.getvalue()


# --- verify, dashboard ------------------------------------------------------------------------


@_page
def verify_page(request: Request) -> Response:
    _reader(request)
    return _render(request, "verify.html", answer=None, name="", problem="", titles={})


@_page
async def verify_post(request: Request) -> Response:
    """The answer of ``api.verify_upload`` for the uploaded file, in Vietnamese."""
    reader = _reader(request)
    _same_site(request)
    async with request.form(max_files=1, max_fields=4) as form:
        upload = form.get("file")
        if not isinstance(upload, StarletteUpload) or not upload.filename:
            return _render(request, "verify.html", 400, answer=None, name="", titles={},
                           problem="Hãy chọn một tệp để kiểm tra.")  # fmt: skip
        name = upload.filename
        try:
            answer = await verify_upload(_services(request), reader, cast(UploadFile, upload))
        except UsageError as exc:
            return _render(request, "verify.html", 400, answer=None, name=name, titles={},
                           problem=f"Không đọc được gói chứng cứ này ({exc}).")  # fmt: skip
    titles = {}
    for match in answer["records"]:
        try:
            titles[match["record_id"]] = _services(request).archive.get(
                match["record_id"], reader.clearance).title  # fmt: skip
        except RecordNotFound:
            continue
    return _render(request, "verify.html", answer=answer, name=name, problem="", titles=titles)


@_page
def dashboard_page(request: Request) -> Response:
    reader, services = _reader(request), _services(request)
    data = dashboard(services.archive, reader.clearance, services.schedule())
    return _render(request, "dashboard.html", data=data, charts=_charts(data))


def _charts(data: dict[str, Any]) -> list[dict[str, Any]]:
    """Each figure of ``api.dashboard`` as a chart with its table, labels in Vietnamese."""

    def rows(key: str, label: Callable[[str], str] = str) -> list[charts.Datum]:
        colours = FIXITY_COLOURS if key == "fixity" else {}
        return [
            charts.Datum(label(c["label"]), c["count"], colours.get(c["label"], charts.BAR))
            for c in data[key]
        ]

    def month(label: str) -> str:
        year, _, number = label.partition("-")
        return f"{number}/{year}"

    specs = [
        ("by_issuer", "Tài liệu theo cơ quan ban hành", "tài liệu", "Cơ quan", charts.bar_chart,
         rows("by_issuer")),
        ("by_type", "Tài liệu theo loại văn bản", "tài liệu", "Loại", charts.bar_chart,
         rows("by_type", ws.type_label)),
        ("by_year", "Tài liệu theo năm ban hành", "tài liệu", "Năm", charts.column_chart,
         rows("by_year")),
        ("pages_by_month", "Số trang đã số hóa theo tháng", "trang", "Tháng", charts.line_chart,
         rows("pages_by_month", month)),
        ("confidence", "Độ tin cậy OCR của các trang (điểm trung bình 0–100)", "trang",
         "Điểm tin cậy", charts.column_chart, rows("confidence")),
        ("fixity", "Tình trạng toàn vẹn (lần kiểm tra gần nhất)", "tài liệu", "Tình trạng",
         charts.bar_chart, rows("fixity", lambda s: LABELS["fixity"].get(s, s))),
        ("retention_due", "Tài liệu đến hạn theo thời hạn bảo quản", "tài liệu", "Việc cần làm",
         charts.bar_chart, rows("retention_due", lambda s: LABELS["action"].get(s, s))),
    ]  # fmt: skip
    return [
        {"id": key, "title": title, "unit": unit, "column": column, "rows": found,
         "svg": draw(f"chart-{key}", title, found, unit)}
        for key, title, unit, column, draw, found in specs
    ]  # fmt: skip


# --- signing in -------------------------------------------------------------------------------


def _same_site(request: Request) -> None:
    """Refuse a form posted from another site (login CSRF, uploads in someone's name). Pages
    send no Referer (``no-referrer``), so a browser's Origin may be "null": Sec-Fetch-Site,
    which every current browser sends, decides first."""
    site = request.headers.get("sec-fetch-site")
    origin = request.headers.get("origin")
    own = f"{request.url.scheme}://{request.url.netloc}"
    if site is not None and site not in ("same-origin", "none"):
        raise NotPermitted("a form posted from another site is refused")
    if site is None and origin not in (None, "null", own):
        raise NotPermitted("a form posted from another site is refused")


def _local(target: str) -> str:
    """Only a path of this site is followed after signing in (no open redirect)."""
    if target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return "/"


@_page
def login_page(request: Request) -> Response:
    _reader(request)
    target = _local(request.query_params.get("next", "/"))
    return _render(request, "login.html", target=target, name="", problem="")


@_page
async def login_post(request: Request) -> Response:
    """Sign in with a user name and that user's API key: a session cookie, never the key."""
    _reader(request)
    _same_site(request)
    async with request.form(max_files=0, max_fields=4) as form:
        name = normalize(str(form.get("name", ""))).strip()[:128]
        key = str(form.get("key", "")).strip()[:200]
        target = _local(str(form.get("next", "/")))
    user = user_by_key(_services(request).archive, key) if key else None
    if user is None or user.name != name:
        # One answer for an unknown name and a wrong key: which names exist is not told.
        return _render(request, "login.html", 401, target=target, name=name,
                       problem="Tên người dùng hoặc khóa API không đúng.")  # fmt: skip
    sessions = request.app.state.sessions
    if old := request.cookies.get(SESSION_COOKIE):
        sessions.close(old)
    response = RedirectResponse(target, 303)
    response.set_cookie(SESSION_COOKIE, sessions.open(user), max_age=SESSION_SECONDS, path="/",
                        secure=request.url.scheme == "https", httponly=True,
                        samesite="strict")  # fmt: skip
    return response


@_page
async def logout(request: Request) -> Response:
    _same_site(request)
    if token := request.cookies.get(SESSION_COOKIE):
        request.app.state.sessions.close(token)
    response = RedirectResponse("/", 303)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
    return response
