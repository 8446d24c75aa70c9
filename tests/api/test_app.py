"""The read API through FastAPI's TestClient, on a real ingested archive: answers, auth, one
error shape, security headers, and a confidential record leaking through no endpoint."""

from __future__ import annotations

import io
import json
import shutil
import sqlite3
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.services import Services
from api.views import described_json, provenance_json, record_json
from archive.bundle import verify_bundle
from archive.errors import RecordNotFound, SchemaOutdated
from archive.home import ArchiveHome
from archive.models import AccessLevel, FileRole
from archive.repository import Archive, Description, IncomingFile, Placement
from archive.users import Role, add_user
from ingest.contracts import IngestSettings
from ingest.sample_scans import SAMPLES, render_page
from retention.holds import HoldKind, add_hold
from tests.conftest import IngestedArchive, seal_pdf


@pytest.fixture
def client(ingested_copy: IngestedArchive) -> Iterator[TestClient]:
    with TestClient(create_app(ingested_copy.home)) as test_client:
        yield test_client


def _error(response) -> dict:  # type: ignore[no-untyped-def]
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"status", "code", "message"}
    assert body["error"]["status"] == response.status_code
    return body["error"]


def test_search_finds_a_record_without_diacritics(client: TestClient) -> None:
    response = client.get("/api/v1/search", params={"q": "truc lien thong van ban"})
    assert response.status_code == 200
    body = response.json()
    assert body["total"] == 1 and set(body["facets"]) == {"doc_type", "issuer", "year"}
    hit = body["hits"][0]
    assert hit["title"] == "Công văn V/v triển khai trục liên thông văn bản quốc gia"
    assert hit["number"] == "7816/VPCP-TTĐT" and hit["date"] == "2015-09-30"
    assert "<b>trục</b>" in hit["snippet"]


def test_scores_are_told_only_to_readers_cleared_for_every_record(
    client: TestClient, ingested_copy: IngestedArchive
) -> None:
    """A score weighs a word by how many records hold it, restricted ones too: from it an
    anonymous reader could count the secret records that say a word."""
    with Services.open(ingested_copy.home) as services:
        _, operator = add_user(services.archive, "quan.tri", Role.ADMIN, AccessLevel.SECRET, "t")
        _, official = add_user(services.archive, "can.bo", Role.OFFICIAL, AccessLevel.CONFIDENTIAL,
                               "t")  # fmt: skip

    def scores(key: str | None) -> list[object]:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        found = client.get("/api/v1/search", params={"q": "quyet dinh"}, headers=headers).json()
        assert found["hits"]
        return [hit["score"] for hit in found["hits"]]

    assert all(score is None for score in scores(None) + scores(official))
    assert all(isinstance(score, float) and score > 0 for score in scores(operator))


def test_search_filters_sort_and_paging(client: TestClient) -> None:
    nothing = client.get("/api/v1/search", params={"q": ""}).json()
    some = client.get("/api/v1/search", params={"q": "nam"}).json()
    assert nothing["total"] == 0 and set(nothing["facets"]) == set(some["facets"])
    everything = client.get("/api/v1/search", params={"q": "nam", "limit": 100}).json()
    dated = client.get("/api/v1/search", params={"q": "nam", "sort": "newest"}).json()
    dates = [h["date"] for h in dated["hits"] if h["date"]]
    assert dates == sorted(dates, reverse=True)
    first = client.get("/api/v1/search", params={"q": "nam", "limit": 1}).json()
    second = client.get("/api/v1/search", params={"q": "nam", "limit": 1, "offset": 1}).json()
    assert first["total"] == everything["total"] and first["hits"] != second["hits"]
    decision = client.get("/api/v1/search", params={"q": "nam", "type": "QĐ"}).json()
    assert {h["doc_type"] for h in decision["hits"]} == {"QĐ"}


def test_record_text_and_files(client: TestClient, ingested_copy: IngestedArchive) -> None:
    record_id = ingested_copy.record_id("quyet-dinh-1482.png")
    record = client.get(f"/api/v1/records/{record_id}").json()
    assert set(record["metadata"]) >= {"number", "doc_type", "issuer", "date", "place", "subject"}
    assert {f["role"] for f in record["files"]} == {"original", "ocr-text", "archival"}
    assert record["seal"]["algorithm"] == "ed25519" and record["log"][0]["kind"] == "seal"
    assert "QUYẾT ĐỊNH" in client.get(f"/api/v1/records/{record_id}/text").json()["text"]
    original = client.get(f"/api/v1/records/{record_id}/files/original")
    assert original.status_code == 200 and original.headers["content-type"] == "image/png"
    archival = client.get(f"/api/v1/records/{record_id}/files/archival")
    assert archival.headers["content-type"] == "application/pdf" and archival.content.startswith(
        b"%PDF"
    )
    part = client.get(f"/api/v1/records/{record_id}/files/archival", headers={"Range": "bytes=0-3"})
    assert part.status_code == 206 and part.content == b"%PDF"
    whole = client.get(
        f"/api/v1/records/{record_id}/files/archival", headers={"Range": "lines=1-2"}
    )
    assert whole.status_code == 200 and whole.content == archival.content  # unknown unit: ignored
    for asked, status in (("bytes=abc", 400), ("bytes=5-2", 400), ("bytes=99999999-", 416)):
        url = f"/api/v1/records/{record_id}/files/original"
        refused = client.get(url, headers={"Range": asked})
        assert _error(refused)["status"] == status, asked
    assert refused.headers["content-range"].startswith("bytes */")


def test_each_attachment_of_a_record_can_be_downloaded(
    client: TestClient, ingested_copy: IngestedArchive, tmp_path: Path
) -> None:
    """A package may carry several attachments: ``?n=`` picks one, and the record page
    links each of them."""
    source = tmp_path / "goi.xml"
    source.write_bytes(b"<package/>")
    with Services.open(ingested_copy.home) as services:
        record_id = services.archive.seal(
            [
                IncomingFile(FileRole.ORIGINAL, "application/xml", source.name, path=source),
                IncomingFile(FileRole.ATTACHMENT, "application/pdf", "a.pdf", data=b"%PDF-first"),
                IncomingFile(FileRole.ATTACHMENT, "text/plain", "phu-luc.txt", data=b"second"),
            ],
            Description(title="Công văn kèm phụ lục"),
            Placement(access=AccessLevel.PUBLIC, series_code="VP-01", closed_year=2019),
            source.name,
        ).record_id
    url = f"/api/v1/records/{record_id}/files/attachment"
    assert client.get(url).content == b"%PDF-first"
    second = client.get(url, params={"n": 1})
    assert second.content == b"second" and second.headers["content-type"].startswith("text/plain")
    assert _error(client.get(url, params={"n": 2}))["message"] == (
        f"record {record_id} has no attachment file n=2 (0 is the first)"
    )
    page = client.get(f"/records/{record_id}").text
    assert f'href="{url}"' in page and f'href="{url}?n=1"' in page


def test_a_blob_replaced_by_a_link_is_never_served(
    client: TestClient, ingested_copy: IngestedArchive, tmp_path: Path
) -> None:
    """Whoever can write the blob store could point a record's file at any file the server
    may read; the API serves only files the store wrote."""
    record_id = ingested_copy.record_id("quyet-dinh-1482.png")
    with Services.open(ingested_copy.home) as services:
        original = services.archive.get(record_id, AccessLevel.SECRET).file(FileRole.ORIGINAL)
        assert original is not None
        path = services.archive.blobs.path_for(original.sha256)
    elsewhere = tmp_path / "not-archived.txt"
    elsewhere.write_bytes(b"a file outside the archive")
    path.unlink()
    path.symlink_to(elsewhere)
    response = client.get(f"/api/v1/records/{record_id}/files/original")
    assert response.status_code == 404 and b"outside the archive" not in response.content
    assert _error(response)["message"] == f"record {record_id} has no original file"


def test_evidence_and_verify(
    client: TestClient, ingested_copy: IngestedArchive, tmp_path: Path
) -> None:
    record_id = ingested_copy.record_id("quyet-dinh-1482.png")
    bundle = client.get(f"/api/v1/records/{record_id}/evidence")
    assert bundle.status_code == 200 and bundle.headers["content-type"] == "application/zip"
    saved = tmp_path / "b.zip"
    saved.write_bytes(bundle.content)
    assert verify_bundle(saved).ok
    checked = client.post("/api/v1/verify", files={"upload": ("b.zip", bundle.content)}).json()
    assert checked["kind"] == "bundle" and checked["intact"]
    original = client.get(f"/api/v1/records/{record_id}/files/original").content
    found = client.post("/api/v1/verify", files={"upload": ("s.png", original)}).json()
    assert found["archived"] and found["records"] == [
        {"record_id": record_id, "role": "original", "intact": True, "destroyed": None}
    ]
    stranger = client.post("/api/v1/verify", files={"upload": ("x.png", b"not archived")}).json()
    assert not stranger["archived"] and stranger["records"] == []


def _damaged_bundle() -> bytes:
    """A zip with an ``entry`` whose bytes were changed after their CRC was written."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as bundle:
        bundle.writestr("entry", b"A" * 16)
        bundle.writestr("entry.sig", b"x")
    return out.getvalue().replace(b"A" * 16, b"B" * 16, 1)


def test_a_damaged_or_false_zip_is_an_answer_not_a_500(ingested_copy: IngestedArchive) -> None:
    """A bundle whose member fails its CRC is a bundle that is not intact; a file that only
    ends as a zip does is a file. Neither is a failure of the server, on the API or the page."""
    end_only = b"not a zip at all" * 4 + b"PK\x05\x06" + bytes(4) + b"\x01\x00\x01\x00"
    end_only += (46).to_bytes(4, "little") + bytes(6)
    with TestClient(create_app(ingested_copy.home), raise_server_exceptions=False) as client:
        damaged = client.post("/api/v1/verify", files={"upload": ("b.zip", _damaged_bundle())})
        assert damaged.status_code == 200, damaged.text
        answer = damaged.json()
        assert answer["kind"] == "bundle" and not answer["intact"]
        assert any("damaged" in p for p in answer["bundle"]["problems"])
        plain = client.post("/api/v1/verify", files={"upload": ("s.bin", end_only)})
        assert plain.status_code == 200 and plain.json()["kind"] == "file"
        for upload in (_damaged_bundle(), end_only):
            page = client.post("/verify", files={"file": ("b.zip", upload)})
            assert page.status_code == 200, page.status_code


def test_an_unexpected_failure_is_500_with_the_security_headers(
    ingested_copy: IngestedArchive, monkeypatch: pytest.MonkeyPatch
) -> None:
    from api import app as app_module

    def broken(*_args: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(app_module, "dashboard", broken)
    with TestClient(create_app(ingested_copy.home), raise_server_exceptions=False) as client:
        response = client.get("/api/v1/dashboard")
    assert _error(response)["code"] == "internal" and "a bug" not in response.text
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"


def test_log_endpoints(client: TestClient, ingested_copy: IngestedArchive) -> None:
    record_id = ingested_copy.record_id("quyet-dinh-1482.png")
    checkpoint = client.get("/api/v1/log/checkpoint").json()
    assert checkpoint["size"] == 3 and checkpoint["note"].startswith(checkpoint["origin"])
    proof = client.get(f"/api/v1/log/inclusion/{record_id}").json()
    assert proof["tree_size"] == 3 and proof["checkpoint"] == checkpoint["note"]
    assert client.get("/api/v1/log/consistency", params={"old": 1, "new": 3}).status_code == 200
    assert (
        _error(client.get("/api/v1/log/consistency", params={"old": 3, "new": 9}))["code"]
        == "not-found"
    )


def test_one_error_shape_everywhere(client: TestClient) -> None:
    assert _error(client.get("/api/v1/records/0123456789abcdef"))["code"] == "not-found"
    # Not a record id at all: said so, as any other malformed parameter.
    assert _error(client.get("/api/v1/records/nosuchrecord"))["code"] == "invalid"
    assert _error(client.get("/api/v1/search", params={"limit": 0}))["code"] == "invalid"
    assert _error(client.get("/api/v1/no/such/path"))["code"] == "not-found"
    assert _error(client.post("/api/v1/search"))["code"] == "method-not-allowed"
    short = client.get("/api/v1/records/abc1234")
    assert "record_id" in _error(short)["message"]
    assert "Value error" not in json.dumps(client.get("/api/v1/search", params={"year": 1}).json())


def test_security_headers_and_head(client: TestClient) -> None:
    for path in ("/", "/api/v1/health", "/api/v1/records/nosuchrecord", "/docs"):
        headers = client.get(path).headers
        policy = headers["content-security-policy"]
        assert "frame-ancestors 'none'" in policy and "unsafe-eval" not in policy
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "no-referrer"
        assert "access-control-allow-origin" not in headers
    assert (
        "'unsafe-inline'"
        not in client.get("/")
        .headers["content-security-policy"]
        .split("script-src")[1]
        .split(";")[0]
    )
    assert client.head("/").status_code == 200
    # What a reader was given is not kept by caches (a confidential file on a shared proxy);
    # the static files, the same for everyone, may be.
    for path in ("/", "/api/v1/search?q=x", "/api/v1/records/nosuchrecord", "/dashboard"):
        assert client.get(path).headers["cache-control"] == "no-store", path
    assert "no-store" not in client.get("/static/site.css").headers.get("cache-control", "")


def test_an_upload_over_the_limit_is_refused(
    ingested_copy: IngestedArchive, monkeypatch: pytest.MonkeyPatch
) -> None:
    from api import app as app_module

    monkeypatch.setattr(app_module, "MAX_UPLOAD_BYTES", 1024)
    with TestClient(app_module.create_app(ingested_copy.home)) as small:
        response = small.post("/api/v1/verify", files={"upload": ("big.bin", b"x" * 5000)})
        assert response.status_code == 413 and _error(response)["code"] == "too-large"
        # Sent in chunks, without a Content-Length: refused while it is read, as 413 too.
        body = (b'--zz\r\nContent-Disposition: form-data; name="upload"; filename="a.bin"\r\n'
                b"\r\n" + b"x" * 5000 + b"\r\n--zz--\r\n")  # fmt: skip
        chunks = (body[start : start + 512] for start in range(0, len(body), 512))
        multipart = {"content-type": "multipart/form-data; boundary=zz"}
        response = small.post("/api/v1/verify", content=chunks, headers=multipart)
        assert response.status_code == 413 and _error(response)["code"] == "too-large"


@pytest.fixture
def with_secret(ingested_copy: IngestedArchive, tmp_path: Path) -> tuple[IngestedArchive, str, str]:
    """The sample archive plus one confidential record, and an official's key for it."""
    scan = tmp_path / "mat.png"
    render_page(SAMPLES[2], dpi=150).save(scan)
    with Services.open(ingested_copy.home) as services:
        [result] = services.ingest([scan], IngestSettings(access=AccessLevel.CONFIDENTIAL)).results
        _, key = add_user(services.archive, "can.bo", Role.OFFICIAL, AccessLevel.CONFIDENTIAL, "t")
    return ingested_copy, result.record_id or "", key


def test_a_confidential_record_leaks_through_no_endpoint(with_secret, tmp_path: Path) -> None:
    archived, secret, key = with_secret
    absent = "000000000000000000000000"
    with TestClient(create_app(archived.home)) as client:
        for query in ("kho luu tru lich su", "nop luu"):
            body = client.get("/api/v1/search", params={"q": query}).json()
            assert secret not in {h["record_id"] for h in body["hits"]}
        # The public TIFF carries the same words: it alone is counted, and in the facets.
        body = client.get("/api/v1/search", params={"q": "nop luu"}).json()
        assert body["total"] == 1 and sum(f["count"] for f in body["facets"]["doc_type"]) <= 1
        for path in ("", "/text", "/files/original", "/files/archival", "/evidence"):
            hidden, gone = (
                client.get(f"/api/v1/records/{secret}{path}"),
                client.get(f"/api/v1/records/{absent}{path}"),
            )
            assert hidden.status_code == gone.status_code == 404
            assert _error(hidden)["message"].replace(secret, "X") == _error(gone)[
                "message"
            ].replace(absent, "X")
        assert client.get(f"/api/v1/log/inclusion/{secret}").status_code == 404
        assert client.get(f"/api/v1/records/{secret[:8]}").status_code == 404  # nor by prefix
        with Services.open(archived.home) as services:
            record = services.archive.get(secret, AccessLevel.SECRET)
            original = services.archive.blobs.read_bytes(record.files[0].sha256)
        answer = client.post("/api/v1/verify", files={"upload": ("x.png", original)}).json()
        assert answer["archived"] is False and answer["records"] == []
        dashboard = client.get("/api/v1/dashboard").json()
        assert dashboard["records"] == 3
        due = client.get("/api/v1/retention/due", params={"as_of": "2999-01-01"}).json()
        assert secret not in {d["record_id"] for d in due["due"]}
        # The official cleared for it sees it, and the read is audited.
        auth = {"Authorization": f"Bearer {key}"}
        assert client.get(f"/api/v1/records/{secret}", headers=auth).status_code == 200
        assert client.get("/api/v1/dashboard", headers=auth).json()["records"] == 4
    with sqlite3.connect(archived.home.root / "luutru.db") as db:
        reads = db.execute(
            "SELECT agent, detail FROM events WHERE kind = 'read' AND record_id = ?", (secret,)
        ).fetchall()
    assert reads == [("can.bo", "record")]


def test_a_wrong_key_is_refused_not_taken_for_anonymous(client: TestClient) -> None:
    response = client.get(
        "/api/v1/search", params={"q": "x"}, headers={"Authorization": "Bearer nope"}
    )
    assert response.status_code == 401 and _error(response)["code"] == "unauthenticated"
    odd = client.get("/api/v1/search", params={"q": "x"}, headers={"Authorization": "Basic abc"})
    assert odd.status_code == 401


def test_holds_are_for_legal_staff(client: TestClient, ingested_copy: IngestedArchive) -> None:
    assert client.get("/api/v1/retention/holds").status_code == 403
    with Services.open(ingested_copy.home) as services:
        _, key = add_user(services.archive, "phap.che", Role.LEGAL, AccessLevel.PUBLIC, "t")
    allowed = client.get("/api/v1/retention/holds", headers={"Authorization": f"Bearer {key}"})
    assert allowed.status_code == 200 and allowed.json() == {"holds": []}


def test_holds_tell_a_reader_only_of_records_they_may_see(
    client: TestClient, ingested_copy: IngestedArchive, tmp_path: Path
) -> None:
    """A hold on a secret record names it and says why: not there for a reader below secret.
    A query hold counts only the records the reader may see; a series hold names none."""
    with Services.open(ingested_copy.home) as services:
        secret = seal_pdf(services, tmp_path, "Công văn tối mật", AccessLevel.SECRET)
        public = seal_pdf(services, tmp_path, "Công văn công khai", AccessLevel.PUBLIC)
        add_hold(services.archive, HoldKind.RECORD, secret, "vụ án hình sự số 7", "quan.tri")
        add_hold(services.archive, HoldKind.QUERY, "công văn", "thanh tra", "quan.tri",
                 [secret, public])  # fmt: skip
        add_hold(services.archive, HoldKind.SERIES, "CV", "kiểm toán", "quan.tri")
        _, low = add_user(services.archive, "phap.che", Role.LEGAL, AccessLevel.PUBLIC, "t")
        _, high = add_user(services.archive, "phap.che2", Role.LEGAL, AccessLevel.SECRET, "t")

    def holds(key: str) -> list[tuple[str, str, int]]:
        found = client.get("/api/v1/retention/holds", headers={"Authorization": f"Bearer {key}"})
        return [(h["kind"], h["target"], h["records"]) for h in found.json()["holds"]]

    assert holds(low) == [("query", "công văn", 1), ("series", "CV", 0)]
    assert holds(high) == [("record", secret, 1), ("query", "công văn", 2), ("series", "CV", 0)]


def test_rate_limits_per_key(client: TestClient) -> None:
    limiter = client.app.state.limiter  # type: ignore[attr-defined]
    limiter.per_second, limiter.burst = 0.001, 3.0
    statuses = [client.get("/api/v1/search", params={"q": "x"}).status_code for _ in range(5)]
    assert statuses[:3] == [200, 200, 200] and statuses[-1] == 429


def test_the_api_never_migrates_the_schema(ingested_copy: IngestedArchive) -> None:
    database = ingested_copy.home.root / "luutru.db"
    with sqlite3.connect(database) as db:
        db.execute("UPDATE alembic_version SET version_num = '0001'")
    with pytest.raises(SchemaOutdated, match="migrate"), TestClient(create_app(ingested_copy.home)):
        pass
    with sqlite3.connect(database) as db:
        assert db.execute("SELECT version_num FROM alembic_version").fetchone() == ("0001",)


def test_a_damaged_row_is_absent_to_readers_not_a_500(
    client: TestClient, ingested_copy: IngestedArchive
) -> None:
    record_id = ingested_copy.record_id("quyet-dinh-1482.png")
    with sqlite3.connect(ingested_copy.home.root / "luutru.db") as db:
        db.execute("UPDATE records SET access = 'bogus' WHERE id = ?", (record_id,))
    response = client.get(f"/api/v1/records/{record_id}")
    assert response.status_code == 404 and _error(response)["message"] == f"no record {record_id!r}"


def test_the_docs_pages_use_only_local_files(client: TestClient) -> None:
    for page, asset in (("/docs", "swagger-ui-bundle.js"), ("/redoc", "redoc.standalone.js")):
        html = client.get(page).text
        assert f"/docs-assets/{asset}" in html


def test_record_reads_by_key_answer_alike_on_both_databases(
    archive_home, backend: str, tmp_path: Path
) -> None:
    """On SQLite a record by its id is read on the event loop, on PostgreSQL in a worker
    thread: the same answers, 404s and audit either way."""
    with Services.open(archive_home) as services:
        assert services.key_reads_on_loop is (backend == "sqlite")
        secret = seal_pdf(
            services, tmp_path, "Cong van mat ve kho luu tru", AccessLevel.CONFIDENTIAL
        )
        _, key = add_user(services.archive, "can.bo", Role.ARCHIVIST, AccessLevel.SECRET, "t")
    auth = {"Authorization": f"Bearer {key}"}
    with TestClient(create_app(archive_home)) as client:
        for path in ("", "/text"):
            hidden = client.get(f"/api/v1/records/{secret}{path}")
            assert hidden.status_code == 404 and _error(hidden)["code"] == "not-found"
        shown = client.get(f"/api/v1/records/{secret[:10]}", headers=auth)
        assert shown.status_code == 200
        assert (shown.json()["record_id"], shown.json()["access"]) == (secret, "confidential")
        assert len(shown.json()["log"]) == 1
        text = client.get(f"/api/v1/records/{secret}/text", headers=auth).json()
        assert "kho luu tru" in text["text"].lower()
        absent = client.get("/api/v1/records/0000000000", headers=auth)
        assert absent.status_code == 404
    with Services.open(archive_home) as services:
        events = services.archive.history(secret).events
    reads = [(e.agent, e.detail) for e in events if e.kind == "read"]
    assert sorted(reads) == [("can.bo", "record"), ("can.bo", "text")]


def test_the_api_describes_a_record_as_show_does(ingested_copy: IngestedArchive) -> None:
    """``Archive.describe`` (rows, for the API) and ``Archive.get`` (ORM objects, for
    ``luutru show``) read the same record the same way, and refuse alike."""
    with Services.open(ingested_copy.home) as services:
        archive = services.archive
        for result in ingested_copy.results:
            assert result.record_id is not None
            record = archive.get(result.record_id, AccessLevel.PUBLIC)
            shown = record_json(record, record.files, record.seal, "")
            del shown["text"]
            expected = {**shown, **provenance_json(archive.history(record.id))}
            described = described_json(archive.describe(result.record_id[:9], AccessLevel.PUBLIC))
            assert described == expected
            assert len(described["files"]) >= 3 and described["seal"] is not None
        for absent in ("0000000000", "ffffffffff"):
            with pytest.raises(RecordNotFound):
                archive.describe(absent, AccessLevel.SECRET)


def _bundle_of(home: ArchiveHome, record_id: str, folder: Path) -> bytes:
    from archive.evidence import write_evidence

    target = folder / f"{record_id}.zip"
    with Archive.open(home) as archive:
        write_evidence(archive, record_id, target)
    return target.read_bytes()


def test_evidence_of_a_tampered_blob_is_an_error_not_a_bundle(
    ingested_copy: IngestedArchive,
) -> None:
    record_id = ingested_copy.record_id("quyet-dinh-1482.png")
    with Services.open(ingested_copy.home) as services:
        original = services.archive.get(record_id, AccessLevel.SECRET).file(FileRole.ORIGINAL)
        assert original is not None
        blob = services.archive.blobs.path_for(original.sha256)  # type: ignore[attr-defined]
    blob.chmod(0o600)
    data = bytearray(blob.read_bytes())
    data[100] ^= 0x01
    blob.write_bytes(bytes(data))
    with TestClient(create_app(ingested_copy.home), raise_server_exceptions=False) as client:
        response = client.get(f"/api/v1/records/{record_id}/evidence")
    assert response.status_code == 500, response.status_code
    assert _error(response)["code"] == "damaged"  # not "internal": the server did no wrong
    message = _error(response)["message"]
    assert f"record {record_id}: original/{original.name} is not as sealed" in message
    assert "luutru verify" in message
    assert not list(ingested_copy.home.root.glob(".evidence-*"))


def test_a_bundle_is_archived_only_if_this_archive_made_it(with_secret, tmp_path: Path) -> None:
    archived, secret, key = with_secret
    # Another archive, with its own key: its bundle is valid, and not this archive's.
    other = ArchiveHome(tmp_path / "other")
    Archive.initialise(other)
    with Services.open(other) as services:
        foreign_id = seal_pdf(services, tmp_path, "Cong van cua kho khac", AccessLevel.PUBLIC)
    foreign = _bundle_of(other, foreign_id, tmp_path)
    # A copy of this archive (the same key) that sealed one record more: signed by this
    # archive's key, naming a record this archive does not have.
    twin = ArchiveHome(tmp_path / "twin")
    shutil.copytree(archived.home.root, twin.root)
    (tmp_path / "twin-in").mkdir()
    with Services.open(twin) as services:
        absent_id = seal_pdf(services, tmp_path / "twin-in", "Chi co o ban sao", AccessLevel.PUBLIC)
    absent = _bundle_of(twin, absent_id, tmp_path)
    hidden = _bundle_of(archived.home, secret, tmp_path)
    public_id = archived.record_id("quyet-dinh-1482.png")
    ours = _bundle_of(archived.home, public_id, tmp_path)
    with TestClient(create_app(archived.home)) as client:

        def check(bundle: bytes, **headers: str) -> dict:  # type: ignore[type-arg]
            response = client.post(
                "/api/v1/verify", files={"upload": ("b.zip", bundle)}, headers=headers
            )
            assert response.status_code == 200, response.text
            return response.json()  # type: ignore[no-any-return]

        answer = check(foreign)
        assert answer["intact"] and answer["bundle"]["ok"]  # valid in itself
        assert answer["archived"] is False and answer["made_here"] is False
        assert "not made by this archive" in answer["reason"]
        page = client.post("/verify", files={"file": ("b.zip", foreign)})
        assert "Gói chứng cứ hợp lệ" not in page.text
        assert "không do kho lưu trữ này lập" in page.text
        # Restricted and absent read exactly alike.
        said_absent, said_hidden = check(absent), check(hidden)
        for said in (said_absent, said_hidden):
            assert said["archived"] is False and said["made_here"] is True
        strip = ("sha256", "bundle")
        assert {k: v for k, v in said_absent.items() if k not in strip} == {
            k: v for k, v in said_hidden.items() if k not in strip
        }
        assert secret not in json.dumps({k: v for k, v in said_hidden.items() if k != "bundle"})
        # Cleared for it, the same bundle is archived here; and a public one is for anyone.
        cleared = check(hidden, Authorization=f"Bearer {key}")
        assert cleared["archived"] is True and cleared["reason"] is None
        assert check(ours)["archived"] is True
        page = client.post("/verify", files={"file": ("b.zip", ours)})
        assert "Gói chứng cứ hợp lệ." in page.text
