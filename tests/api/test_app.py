"""The read API through FastAPI's TestClient, on a real ingested archive."""

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.services import Services
from archive.errors import SchemaOutdated
from archive.models import AccessLevel
from ingest.contracts import IngestSettings
from ingest.sample_scans import SAMPLES, render_page
from tests.conftest import IngestedArchive


@pytest.fixture
def client(ingested_copy: IngestedArchive) -> Iterator[TestClient]:
    with TestClient(create_app(ingested_copy.home)) as test_client:
        yield test_client


def test_search_finds_a_record_without_diacritics(client: TestClient) -> None:
    response = client.get("/api/v1/search", params={"q": "truc lien thong van ban"})
    assert response.status_code == 200
    body = response.json()
    assert body["total"] == 1
    hit = body["hits"][0]
    assert set(hit) == {
        "record_id", "title", "number", "date", "doc_type", "issuer", "score", "snippet"
    }  # fmt: skip
    assert hit["title"] == "Công văn V/v triển khai trục liên thông văn bản quốc gia"
    assert hit["number"] == "7816/VPCP-TTĐT" and hit["date"] == "2015-09-30"
    assert "<b>trục</b>" in hit["snippet"]


def test_record_has_text_metadata_files_and_seal(
    client: TestClient, ingested_copy: IngestedArchive
) -> None:
    record_id = ingested_copy.record_id("quyet-dinh-1482.png")
    response = client.get(f"/api/v1/records/{record_id}")
    assert response.status_code == 200
    record = response.json()
    assert "QUYẾT ĐỊNH" in record["text"]
    assert set(record["metadata"]) >= {"number", "doc_type", "issuer", "date", "place", "subject"}
    assert {f["role"] for f in record["files"]} == {"original", "ocr-text", "archival"}
    assert record["seal"]["algorithm"] == "ed25519"


def test_unknown_record_is_404_with_a_json_error(client: TestClient) -> None:
    response = client.get("/api/v1/records/nosuchrecord")
    assert response.status_code == 404
    assert "nosuchrecord" in response.json()["error"]


def test_restricted_record_is_invisible_to_anonymous_readers(
    ingested_copy: IngestedArchive, tmp_path
) -> None:
    scan = tmp_path / "mat.png"
    secret = SAMPLES[2]
    render_page(secret, dpi=150).save(scan)
    with Services.open(ingested_copy.home) as services:
        [result] = services.ingest([scan], IngestSettings(access=AccessLevel.CONFIDENTIAL)).results
    with TestClient(create_app(ingested_copy.home)) as client:
        for query in ("kho luu tru lich su", "nop luu"):
            body = client.get("/api/v1/search", params={"q": query}).json()
            assert result.record_id not in {h["record_id"] for h in body["hits"]}
        # The public TIFF carries the same words: it alone may be counted.
        assert client.get("/api/v1/search", params={"q": "nop luu"}).json()["total"] == 1
        hidden = client.get(f"/api/v1/records/{result.record_id}")
        absent = client.get("/api/v1/records/000000000000000000000000")
        assert hidden.status_code == absent.status_code == 404
        assert hidden.json()["error"].replace(result.record_id, "X") == absent.json()[
            "error"
        ].replace("000000000000000000000000", "X")


@pytest.mark.parametrize(
    "params", [{}, {"q": "x", "limit": 0}, {"q": "x", "limit": 1000}, {"q": "x" * 501}]
)
def test_bad_search_parameters_are_422(client: TestClient, params: dict) -> None:
    assert client.get("/api/v1/search", params=params).status_code == 422


def test_health_and_page(client: TestClient) -> None:
    assert client.get("/api/v1/health").json() == {"status": "ok"}
    page = client.get("/")
    assert page.status_code == 200 and "Tra cứu" in page.text


def test_a_record_is_found_by_a_unique_prefix_of_its_id(
    client: TestClient, ingested_copy: IngestedArchive
) -> None:
    record_id = ingested_copy.record_id("quyet-dinh-1482.png")
    response = client.get(f"/api/v1/records/{record_id[:8]}")
    assert response.status_code == 200 and response.json()["record_id"] == record_id
    short = client.get(f"/api/v1/records/{record_id[:7]}")
    assert short.status_code == 400 and "at least 8" in short.json()["error"]


def test_the_api_never_migrates_the_schema(ingested_copy: IngestedArchive) -> None:
    import sqlite3

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
    import sqlite3

    record_id = ingested_copy.record_id("quyet-dinh-1482.png")
    with sqlite3.connect(ingested_copy.home.root / "luutru.db") as db:
        db.execute("UPDATE records SET access = 'bogus' WHERE id = ?", (record_id,))
    response = client.get(f"/api/v1/records/{record_id}")
    assert response.status_code == 404 and response.json() == {"error": f"no record {record_id!r}"}


def test_the_docs_pages_use_only_local_files(client: TestClient) -> None:
    for page, asset in (("/docs", "swagger-ui-bundle.js"), ("/redoc", "redoc.standalone.js")):
        html = client.get(page).text
        assert f"/docs-assets/{asset}" in html
        assert "cdn." not in html and "unpkg" not in html and "googleapis" not in html
        assert client.get(f"/docs-assets/{asset}").status_code == 200
