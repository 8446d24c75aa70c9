"""The web pages through FastAPI's TestClient, on a real ingested archive: the search in its
URL, paging, facets, a record, verify, the dashboard, signing in, escaping and the CSP.
(The same pages in a real browser: tests/api/test_page.py.)"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import UTC, datetime
from html.parser import HTMLParser
from io import BytesIO
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from api import charts, web_search
from api.app import create_app
from api.auth import SESSION_COOKIE
from api.services import Services
from archive.models import AccessLevel, FileRole
from archive.repository import Archive
from archive.revision import revise_record
from archive.users import Role, add_user, disable_user
from ingest.contracts import IngestSettings
from ingest.sample_scans import SAMPLES, render_page
from tests.conftest import IngestedArchive, seal_pdf

HTML = {"accept": "text/html,application/xhtml+xml"}
EVIL = '<script>alert(1)</script><img src=x onerror="alert(2)">'


@pytest.fixture
def client(ingested_copy: IngestedArchive) -> Iterator[TestClient]:
    with TestClient(create_app(ingested_copy.home)) as test_client:
        yield test_client


def _scan(archive: IngestedArchive, name: str) -> Path:
    return Path(next(r.path for r in archive.results if r.path.endswith(name)))


def _hits(html: str) -> list[str]:
    """The record ids the hits link to, in order."""
    return re.findall(r'<h3><a href="/records/([0-9a-f]+)">', html)


def test_head_and_an_empty_search_is_just_the_form(client: TestClient) -> None:
    assert client.head("/").status_code == 200
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert '<html lang="vi">' in page.text and 'href="#main"' in page.text
    assert '<label for="q">Từ khóa</label>' in page.text and "so:30/2020/NĐ-CP" in page.text
    for label in ("Tra cứu", "Kiểm tra", "Thống kê", "Đăng nhập", "khách"):
        assert label in page.text
    assert 'id="summary"' not in page.text and not _hits(page.text)


def test_every_page_answers_head(client: TestClient, ingested_copy: IngestedArchive) -> None:
    tiff = ingested_copy.record_id("bao-cao-215.tif")
    for path in ("/", "/?q=nam", f"/records/{tiff}", f"/records/{tiff}/pages/1", "/verify",
                 "/dashboard", "/login", "/static/site.css"):  # fmt: skip
        assert client.head(path).status_code == 200, path


def test_the_query_lives_in_the_url(client: TestClient, ingested_copy: IngestedArchive) -> None:
    page = client.get("/?q=truc+lien+thong")
    assert '<p id="summary" class="summary" role="status">1 kết quả</p>' in page.text
    assert _hits(page.text) == [ingested_copy.record_id("cong-van-7816.jpg")]
    assert 'value="truc lien thong"' in page.text  # the box keeps what was typed
    assert "<b>trục</b>" in page.text and "7816/VPCP-TTĐT" in page.text
    # A submitted form's empty fields and defaults are dropped: one search, one address.
    submitted = client.get(
        "/?q=truc+lien+thong&type=&issuer=&from=&to=&year=&series=&sort=relevance",
        follow_redirects=False,
    )
    assert submitted.status_code == 302 and submitted.headers["location"] == "/?q=truc+lien+thong"


def test_twenty_a_page_with_previous_next_and_page_numbers(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert web_search.PER_PAGE == 20
    monkeypatch.setattr(web_search, "PER_PAGE", 1)  # three records: three pages of one
    first = client.get("/?q=nam")
    assert "3 kết quả" in first.text and "Trang 1 / 3" in first.text
    assert 'href="/?q=nam&amp;page=2" rel="next"' in first.text and 'rel="prev"' not in first.text
    assert 'href="/?q=nam&amp;page=3"' in first.text
    seen = []
    for number in (1, 2, 3):
        page = client.get(f"/?q=nam&page={number}")
        assert f'<ol class="hits" start="{number}">' in page.text
        assert f'aria-current="page" aria-label="Trang {number}"' in page.text
        seen += _hits(page.text)
    assert len(seen) == len(set(seen)) == 3
    last = client.get("/?q=nam&page=3").text
    assert 'href="/?q=nam&amp;page=2" rel="prev"' in last and 'rel="next"' not in last
    assert "Trang này không còn kết quả" in client.get("/?q=nam&page=9").text
    assert client.get("/?q=nam&page=abc", follow_redirects=False).headers["location"] == "/?q=nam"


def test_facets_are_links_that_add_their_filter(
    client: TestClient, ingested_copy: IngestedArchive
) -> None:
    page = client.get("/?q=nam")
    link = 'href="/?q=nam&amp;type=Q%C4%90">Quyết định (QĐ)</a>'
    assert link in page.text and 'href="/?q=nam&amp;year=2015">2015</a>' in page.text
    filtered = client.get("/?q=nam&type=QĐ")
    assert "1 kết quả" in filtered.text
    assert _hits(filtered.text) == [ingested_copy.record_id("quyet-dinh-1482.png")]
    # The facet set is marked and now removes the filter; so does its chip.
    assert 'href="/?q=nam" aria-current="true">Quyết định (QĐ)</a>' in filtered.text
    assert 'aria-label="Bỏ lọc Loại: QĐ"' in filtered.text
    # A filter alone searches too; a date that does not read is said, not applied.
    assert "1 kết quả" in client.get("/?type=QĐ").text
    bad = client.get("/?q=nam&from=2020-13-45")
    assert "Từ ngày “2020-13-45” không phải là ngày" in bad.text and "3 kết quả" in bad.text
    assert "2 kết quả" in client.get("/?q=nam&from=17/02/2023").text


def test_a_filter_that_does_not_read_is_said_beside_its_field_and_not_shown_as_set(
    client: TestClient,
) -> None:
    """``from=2020-99-01`` was said only above the form, and its chip showed it as set."""
    bad = client.get("/?q=nam&from=2020-99-01")
    assert bad.status_code == 200 and "3 kết quả" in bad.text  # not applied: all of them
    said = "Ngày không hợp lệ: Từ ngày “2020-99-01” không phải là ngày"
    assert f'<p id="from-error" class="field-error">{said}' in bad.text
    assert 'aria-invalid="true" aria-describedby="from-error"' in bad.text
    assert '<a href="#from">' + said in bad.text  # the summary leads to the field
    assert "Bỏ lọc Từ ngày" not in bad.text and "Đang lọc" not in bad.text
    year = client.get("/?q=nam&year=20x3")
    assert 'aria-describedby="year-error"' in year.text and "Năm không hợp lệ" in year.text
    # A "from" after the "to": applied (nothing lies between), and said.
    empty = client.get("/?q=nam&from=2024-01-01&to=2020-01-01")
    assert "0 kết quả" in empty.text
    assert "Khoảng ngày trống: Từ ngày 01/01/2024 sau Đến ngày 01/01/2020" in empty.text
    assert 'aria-describedby="to-error"' in empty.text
    fine = client.get("/?q=nam&from=2015-01-01")
    assert "aria-invalid" not in fine.text and 'class="problems"' not in fine.text


def test_a_type_filter_without_diacritics_finds_and_marks_its_type(
    client: TestClient, ingested_copy: IngestedArchive
) -> None:
    decision = [ingested_copy.record_id("quyet-dinh-1482.png")]
    for typed in ("QD", "qd", "qđ"):
        page = client.get(f"/?q=nam&type={typed}")
        assert "1 kết quả" in page.text and _hits(page.text) == decision, typed
        assert 'href="/?q=nam" aria-current="true">Quyết định (QĐ)</a>' in page.text
    assert _hits(client.get("/?q=quyet+dinh&type=QD").text) == decision


def test_a_record_page_shows_metadata_seal_pages_files_and_text(
    client: TestClient, ingested_copy: IngestedArchive
) -> None:
    record_id = ingested_copy.record_id("quyet-dinh-1482.png")
    page = client.get(f"/records/{record_id[:10]}")  # a unique prefix is enough
    assert page.status_code == 200
    for text in ("1482/QĐ-UBND", "17/02/2023", "ỦY BAN NHÂN DÂN TỈNH HÒA BÌNH", "Quyết định",
                 "Niêm phong nguyên vẹn.", "Công khai", record_id):  # fmt: skip
        assert text in page.text
    assert f'src="/api/v1/records/{record_id}/files/original"' in page.text
    assert f'href="/api/v1/records/{record_id}/evidence" download' in page.text
    original = _scan(ingested_copy, "quyet-dinh-1482.png").read_bytes()
    assert hashlib.sha256(original).hexdigest() in page.text
    assert "<summary>Toàn văn nhận dạng (OCR)</summary>" in page.text and "QUYẾT ĐỊNH" in page.text
    assert client.head(f"/records/{record_id}").status_code == 200


def test_a_scan_a_browser_cannot_show_is_shown_as_page_images(
    client: TestClient, ingested_copy: IngestedArchive
) -> None:
    record_id = ingested_copy.record_id("bao-cao-215.tif")  # TIFF, two pages
    page = client.get(f"/records/{record_id}")
    assert f'src="/records/{record_id}/pages/1"' in page.text
    assert f'src="/records/{record_id}/pages/2"' in page.text
    image = client.get(f"/records/{record_id}/pages/2")
    assert image.status_code == 200 and image.headers["content-type"] == "image/jpeg"
    assert abs(Image.open(BytesIO(image.content)).width - 1000) <= 1  # pdfium rounds
    assert client.get(f"/records/{record_id}/pages/3").status_code == 404
    assert client.get(f"/records/{record_id}/pages/x").status_code == 404


def test_a_damaged_record_says_so_with_its_problems(
    ingested_copy: IngestedArchive,
) -> None:
    record_id = ingested_copy.record_id("cong-van-7816.jpg")
    with Archive.open(ingested_copy.home) as archive:
        text = archive.get(record_id, AccessLevel.SECRET).file(FileRole.OCR_TEXT)
        assert text is not None
        blob = archive.blobs.path_for(text.sha256)  # type: ignore[attr-defined]
    blob.chmod(0o600)
    blob.write_bytes(blob.read_bytes() + b"!")
    with TestClient(create_app(ingested_copy.home)) as client:
        page = client.get(f"/records/{record_id}")
    assert "Niêm phong bị tổn hại." in page.text and "Niêm phong nguyên vẹn" not in page.text


def test_a_destroyed_record_shows_its_tombstone(ingested_copy: IngestedArchive) -> None:
    record_id = ingested_copy.record_id("cong-van-7816.jpg")
    with sqlite3.connect(ingested_copy.home.root / "luutru.db") as db:
        db.execute(
            "UPDATE records SET status = 'destroyed', disposed_at = ?, disposed_by = 'tran.b', "
            "disposal_list_id = 7 WHERE id = ?",
            (datetime(2030, 1, 2, tzinfo=UTC).isoformat(" "), record_id),
        )
    with TestClient(create_app(ingested_copy.home)) as client:
        page = client.get(f"/records/{record_id}")
    assert page.status_code == 200
    assert "Tài liệu này đã bị hủy" in page.text and "theo danh sách hủy số 7" in page.text
    assert "/evidence" not in page.text and "/files/original" not in page.text


def test_incoming_signatures_are_listed_with_their_outcome(ingested_copy: IngestedArchive) -> None:
    record_id = ingested_copy.record_id("cong-van-7816.jpg")
    signer = "CN=Nguyễn Văn A,O=VPCP"
    signature = {"kind": "pades", "status": "unknown-root", "signer": signer,
                 "chain": [signer, "CN=CA"], "signing_time": "2015-09-30T02:00:00+00:00",
                 "reason": "no trusted root"}  # fmt: skip
    with sqlite3.connect(ingested_copy.home.root / "luutru.db") as db:
        db.execute("UPDATE records SET signatures = ? WHERE id = ?",
                   (json.dumps([signature]), record_id))  # fmt: skip
    with TestClient(create_app(ingested_copy.home)) as client:
        page = client.get(f"/records/{record_id}").text
    assert "Không rõ tổ chức chứng thực gốc" in page and "PDF (PAdES)" in page
    assert "CN=Nguyễn Văn A,O=VPCP → CN=CA" in page and "30/09/2015" in page


def test_a_restricted_record_is_absent_until_a_cleared_reader_signs_in(
    ingested_copy: IngestedArchive, tmp_path: Path
) -> None:
    scan = tmp_path / "mat.png"
    render_page(SAMPLES[2], dpi=150).save(scan)
    with Services.open(ingested_copy.home) as services:
        [result] = services.ingest([scan], IngestSettings(access=AccessLevel.CONFIDENTIAL)).results
        _, key = add_user(services.archive, "le.c", Role.LEGAL, AccessLevel.CONFIDENTIAL, "test")
    hidden, absent = str(result.record_id), "0" * 24
    with TestClient(create_app(ingested_copy.home)) as client:
        assert hidden not in client.get("/?q=nop+luu").text
        pages = [client.get(f"/records/{rid}") for rid in (hidden, absent)]
        assert [p.status_code for p in pages] == [404, 404]
        assert pages[0].text.replace(hidden, "X") == pages[1].text.replace(absent, "X")
        assert "Không tìm thấy" in pages[0].text
        assert client.get(f"/records/{hidden}/pages/1").status_code == 404
        signed_in = client.post("/login", data={"name": "le.c", "key": key,
                                                "next": f"/records/{hidden}"},
                                follow_redirects=False)  # fmt: skip
        assert (
            signed_in.status_code == 303 and signed_in.headers["location"] == f"/records/{hidden}"
        )
        cookie = signed_in.headers["set-cookie"]
        assert cookie.startswith(f"{SESSION_COOKIE}=") and key not in cookie
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/" in cookie
        page = client.get(f"/records/{hidden}")
        assert page.status_code == 200 and "Hạn chế" in page.text and "le.c" in page.text
        assert hidden in client.get("/?q=nop+luu").text
        client.post("/logout")
        assert client.get(f"/records/{hidden}").status_code == 404


def test_a_session_ends_when_its_user_is_disabled(
    ingested_copy: IngestedArchive, tmp_path: Path
) -> None:
    """A session is its user's key by other means: 'luutru users disable' ends it at once,
    on the pages and on the API (the cookie is sent to both)."""
    with Services.open(ingested_copy.home) as services:
        hidden = seal_pdf(services, tmp_path, "Công văn hạn chế", AccessLevel.CONFIDENTIAL)
        _, key = add_user(services.archive, "le.d", Role.LEGAL, AccessLevel.CONFIDENTIAL, "test")
    with TestClient(create_app(ingested_copy.home)) as client:
        client.post("/login", data={"name": "le.d", "key": key}, follow_redirects=False)
        assert client.get(f"/records/{hidden}").status_code == 200
        assert client.get(f"/api/v1/records/{hidden}").status_code == 200
        with Archive.open(ingested_copy.home) as archive:
            disable_user(archive, "le.d")
        assert client.get(f"/api/v1/records/{hidden}").status_code == 404
        assert client.get(f"/records/{hidden}").status_code == 404
        assert client.get(f"/api/v1/records/{hidden}/files/original").status_code == 404


def test_signing_in_takes_that_users_own_key_and_a_same_site_form(
    client: TestClient, ingested_copy: IngestedArchive
) -> None:
    with Archive.open(ingested_copy.home) as archive:
        add_user(archive, "nguyen.a", Role.VIEWER, AccessLevel.PUBLIC, "test")
        _, key_b = add_user(archive, "tran.b", Role.VIEWER, AccessLevel.PUBLIC, "test")
    wrong = client.post("/login", data={"name": "nguyen.a", "key": key_b})
    assert wrong.status_code == 401 and "Tên người dùng hoặc khóa API không đúng." in wrong.text
    assert "set-cookie" not in wrong.headers
    forged = client.post("/login", data={"name": "tran.b", "key": key_b},
                         headers={"sec-fetch-site": "cross-site"})  # fmt: skip
    assert forged.status_code == 403 and "set-cookie" not in forged.headers
    elsewhere = client.post("/login", data={"name": "tran.b", "key": key_b},
                            headers={"origin": "http://evil.example"})  # fmt: skip
    assert elsewhere.status_code == 403
    # Only a path of this site is followed after signing in.
    form = {"name": "tran.b", "key": key_b, "next": "//evil.example/"}
    away = client.post("/login", data=form, follow_redirects=False)
    assert away.status_code == 303 and away.headers["location"] == "/"


def test_verify_names_the_record_of_an_archived_file_and_checks_a_bundle(
    client: TestClient, ingested_copy: IngestedArchive
) -> None:
    record_id = ingested_copy.record_id("quyet-dinh-1482.png")
    original = _scan(ingested_copy, "quyet-dinh-1482.png").read_bytes()
    found = client.post("/verify", files={"file": ("qd.png", original, "image/png")})
    assert found.status_code == 200 and "Tệp này có trong kho lưu trữ" in found.text
    assert f'href="/records/{record_id}"' in found.text and "bản gốc, nguyên vẹn" in found.text
    changed = client.post("/verify", files={"file": ("qd.png", original + b"\0", "image/png")})
    assert "Không tìm thấy tệp này trong kho" in changed.text
    bundle = client.get(f"/api/v1/records/{record_id}/evidence").content
    checked = client.post("/verify", files={"file": ("e.zip", bundle, "application/zip")})
    assert "Gói chứng cứ hợp lệ." in checked.text and record_id in checked.text
    empty = client.post("/verify", data={"nothing": "x"})
    assert empty.status_code == 400 and "Hãy chọn một tệp để kiểm tra." in empty.text


def test_the_dashboard_draws_accessible_charts_with_their_tables(client: TestClient) -> None:
    page = client.get("/dashboard")
    assert page.status_code == 200 and '<strong id="total-records">3</strong>' in page.text
    svgs = re.findall(r"<svg .*?</svg>", page.text, flags=re.DOTALL)
    assert len(svgs) == 7 and page.text.count("<caption>Bảng số liệu</caption>") == 7
    for svg in svgs:
        root = ET.fromstring(svg)
        assert root.get("role") == "img" and root.get("aria-labelledby")
        names = [child.tag.split("}")[1] for child in root]
        assert names[:2] == ["title", "desc"]
    assert "ỦY BAN NHÂN DÂN TỈNH HÒA BÌNH: 1 tài liệu" in page.text  # the <desc> says it
    assert "Chưa kiểm tra" in page.text and "Quyết định (QĐ)" in page.text


def test_an_issuer_in_capitals_and_in_small_letters_is_counted_once(
    ingested_copy: IngestedArchive,
) -> None:
    """The dashboard and the facets counted the page's ỦY BAN NHÂN DÂN TỈNH HÒA BÌNH and an
    edited Ủy ban nhân dân tỉnh Hòa Bình as two issuers."""
    letter = ingested_copy.record_id("cong-van-7816.jpg")
    with Archive.open(ingested_copy.home) as archive:
        revise_record(archive, letter, {"issuer": "Ủy ban nhân dân  tỉnh Hòa Bình"}, "test", "test")
    with TestClient(create_app(ingested_copy.home)) as client:
        figures = client.get("/api/v1/dashboard").json()["by_issuer"]
        hoa_binh = [f for f in figures if "Hòa Bình".casefold() in f["label"].casefold()]
        assert hoa_binh == [{"label": "ỦY BAN NHÂN DÂN TỈNH HÒA BÌNH", "count": 2}], figures
        assert "ỦY BAN NHÂN DÂN TỈNH HÒA BÌNH: 2 tài liệu" in client.get("/dashboard").text
        found = client.get("/api/v1/search", params={"q": "van ban"}).json()
        issuers = [f for f in found["facets"]["issuer"] if "bình" in f["value"].casefold()]
        assert issuers == [{"value": "ỦY BAN NHÂN DÂN TỈNH HÒA BÌNH", "count": 2}], found


def test_a_malicious_title_is_escaped_everywhere(ingested_copy: IngestedArchive) -> None:
    record_id = ingested_copy.record_id("quyet-dinh-1482.png")
    with Archive.open(ingested_copy.home) as archive:
        revise_record(archive, record_id, {"title": EVIL, "issuer": EVIL, "subject": EVIL},
                      "test", "test")  # fmt: skip
    with TestClient(create_app(ingested_copy.home)) as client:
        pages = [client.get(f"/records/{record_id}"), client.get("/?q=chuyen+doi+so"),
                 client.get("/dashboard")]  # fmt: skip
    for page in pages:
        assert page.status_code == 200
        assert "<script>alert" not in page.text and "<img src=x" not in page.text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text


def test_a_snippet_is_markup_only_when_it_holds_nothing_but_b() -> None:
    assert web_search.safe_snippet("a &lt;i&gt; <b>b</b> c") == "a &lt;i&gt; <b>b</b> c"
    for bad in ("<i>x</i>", "<b><img src=x></b>", "<b>x", "<b onclick=1>x</b>"):
        assert "<" not in web_search.safe_snippet(bad).replace("&lt;", "")


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.problems: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = {name for name, _ in attrs}
        if tag == "style" or "style" in names:
            self.problems.append(f"inline style in <{tag}>")
        if tag == "script" and "src" not in names:
            self.problems.append("inline <script>")
        self.problems += [f"handler {n} in <{tag}>" for n in names if n.startswith("on")]
        if any(value and value.strip().lower().startswith("javascript:") for _, value in attrs):
            self.problems.append(f"javascript: URL in <{tag}>")


def test_every_page_has_the_policy_and_no_inline_script_or_style(
    client: TestClient, ingested_copy: IngestedArchive
) -> None:
    jpeg = ingested_copy.record_id("cong-van-7816.jpg")
    tiff = ingested_copy.record_id("bao-cao-215.tif")
    answers = [client.get(path, headers=HTML) for path in (
        "/", "/?q=nam", "/?q=nam&from=x", f"/records/{jpeg}", f"/records/{tiff}", "/verify",
        "/dashboard", "/login", "/records/0000000000000000", "/no/such/page")]  # fmt: skip
    answers.append(client.post("/verify", files={"file": ("a.txt", b"abc", "text/plain")}))
    answers.append(client.post("/login", data={"name": "x", "key": "y"}))
    for answer in answers:
        policy = answer.headers["content-security-policy"]
        assert "script-src 'self';" in policy and "style-src 'self';" in policy
        assert "unsafe-inline" not in policy
        assert answer.headers["content-type"].startswith("text/html")
        parser = _Tags()
        parser.feed(answer.text)
        assert parser.problems == [], answer.url


def test_browsers_get_error_pages_and_the_api_keeps_json(client: TestClient) -> None:
    page = client.get("/no/such/page", headers=HTML)
    assert page.status_code == 404 and "Không tìm thấy" in page.text
    assert client.get("/no/such/page").json()["error"]["status"] == 404
    api = client.get("/api/v1/no-such", headers=HTML)
    assert api.status_code == 404 and api.json()["error"]["code"] == "not-found"
    wrong_method = client.get("/logout", headers=HTML)
    assert wrong_method.status_code == 405 and "Không hỗ trợ" in wrong_method.text
    short = client.get("/records/abc1234")
    assert short.status_code == 400 and "Yêu cầu không hợp lệ" in short.text


def test_charts_are_accessible_svg_with_escaped_labels_and_no_style() -> None:
    data = [
        charts.Datum("A & <B>", 3),
        charts.Datum("BỘ NỘI VỤ CỤC VĂN THƯ VÀ LƯU TRỮ NHÀ NƯỚC", 1),
    ]
    for draw in (charts.bar_chart, charts.column_chart, charts.line_chart):
        svg = draw("c", "Tiêu đề <x>", data, "tài liệu")
        root = ET.fromstring(str(svg))  # well-formed: every label was escaped
        assert root.get("role") == "img" and root.get("aria-labelledby") == "c-t c-d"
        assert root.find("{http://www.w3.org/2000/svg}title").text == "Tiêu đề <x>"  # type: ignore[union-attr]
        desc = root.find("{http://www.w3.org/2000/svg}desc").text  # type: ignore[union-attr]
        assert desc == "A & <B>: 3 tài liệu; BỘ NỘI VỤ CỤC VĂN THƯ VÀ LƯU TRỮ NHÀ NƯỚC: 1 tài liệu."
        assert not [e for e in root.iter() if "style" in e.attrib]
    empty = ET.fromstring(str(charts.bar_chart("e", "Trống", [], "trang")))
    assert "Chưa có số liệu" in "".join(empty.itertext())
    assert charts.vi_number(1234567) == "1.234.567"
