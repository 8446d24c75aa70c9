"""`luutru serve` as a real process on a loopback port."""

import httpx2


def test_serve_answers_search_and_record_requests(served: str) -> None:
    found = httpx2.get(f"{served}/api/v1/search", params={"q": "bao cao tong ket"}).json()
    assert found["total"] == 1
    record_id = found["hits"][0]["record_id"]
    record = httpx2.get(f"{served}/api/v1/records/{record_id}").json()
    assert record["record_id"] == record_id
    text = httpx2.get(f"{served}/api/v1/records/{record_id}/text").json()
    assert "BÁO CÁO" in text["text"]
    assert "Tra cứu" in httpx2.get(f"{served}/").text
