"""One search suite, run on every engine: folding, numbers, ranking, syntax, filters, facets,
sorting and clearance. Documents are made here directly (no OCR), so it is quick."""

from __future__ import annotations

import os
import uuid
import warnings
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine
from sqlalchemy import text as sql
from sqlalchemy.exc import OperationalError

from archive.models import AccessLevel
from search.contracts import IndexDocument, SearchIndex, SearchRequest, Sort
from search.engines import ENGINES, engine
from search.query import Filters

PUBLIC = AccessLevel.PUBLIC


def _doc(record_id: str, **fields: object) -> IndexDocument:
    values: dict[str, object] = {
        "title": "",
        "number": "",
        "date": None,
        "access": PUBLIC,
        "series_code": "CV",
        "body": "",
        "stamp": f"public:{record_id}",
    }
    values.update(fields)
    return IndexDocument(record_id=record_id, **values)  # type: ignore[arg-type]


CORPUS = [
    _doc(
        "decision",
        title="Quyết định Về việc phê duyệt kế hoạch chuyển đổi số năm 2024",
        subject="Về việc phê duyệt kế hoạch chuyển đổi số năm 2024",
        number="1482/QĐ-UBND",
        doc_type="QĐ",
        type_name="QUYẾT ĐỊNH",
        issuer="ỦY BAN NHÂN DÂN TỈNH HÒA BÌNH",
        date=date(2024, 8, 14),
        series_code="QC",
        body="Căn cứ Nghị định số 30/2020/NĐ-CP của Chính phủ về công tác văn thư. "
        "Phê duyệt kế hoạch chuyển đổi số năm 2024 của tỉnh.",
    ),
    _doc(
        "report",
        title="Báo cáo kết quả số hóa tài liệu",
        subject="Kết quả số hóa tài liệu",
        number="215/BC-SNV",
        doc_type="BC",
        type_name="BÁO CÁO",
        issuer="SỞ NỘI VỤ TỈNH HÒA BÌNH",
        date=date(2019, 3, 2),
        # OCR misread "hồ sơ" as "hồ so": the words of the query stand in the body only.
        body="Việc chuyển đổi hồ so sang dạng số được thực hiện theo Quyết định "
        "1482/QĐ-UBND và Nghị định 30/2020/NĐ-CP. Trục liên thông văn bản quốc gia.",
    ),
    _doc(
        "decree",
        title="Nghị định Về công tác văn thư",
        subject="Về công tác văn thư",
        number="30/2020/NĐ-CP",
        doc_type="NĐ",
        type_name="NGHỊ ĐỊNH",
        issuer="CHÍNH PHỦ",
        date=date(2020, 3, 5),
        series_code="QC",
        body="Nghị định này quy định về công tác văn thư và quản lý nhà nước về văn thư.",
    ),
    _doc(
        "letter",
        title="Công văn V/v triển khai trục liên thông văn bản quốc gia",
        subject="V/v triển khai trục liên thông văn bản quốc gia",
        number="7816/VPCP-TTĐT",
        doc_type="CV",
        issuer="VĂN PHÒNG CHÍNH PHỦ",
        date=date(2015, 9, 30),
        body="Thực hiện Nghị định 30/2020/NĐ-CP, đề nghị các bộ kết nối trục liên thông.",
    ),
    _doc(
        "secret",
        title="Quyết định mật về chuyển đổi số",
        subject="Về chuyển đổi số",
        number="99/QĐ-UBND",
        doc_type="QĐ",
        issuer="ỦY BAN NHÂN DÂN TỈNH HÒA BÌNH",
        date=date(2023, 1, 1),
        access=AccessLevel.CONFIDENTIAL,
        body="Nội dung mật: chuyển đổi số, trục liên thông văn bản, Chính phủ.",
        stamp="confidential:secret",
    ),
]


# --- The engines under test: the postgres engine gets throwaway databases ------------------

POSTGRES_SERVER = os.environ.get(
    "LUUTRU_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432"
)
_POSTGRES_FACTORY = ENGINES["postgres"]


class _Postgres:
    """The server the postgres engine is tested on. It makes databases named
    ``luutru_search_test_<random>`` when first needed, and drops every one it made: ``shared``
    for indexes kept across tests (``_shared``), ``scratch`` for one test's indexes, emptied
    after each (making and dropping a database costs a second; emptying it, milliseconds)."""

    def __init__(self) -> None:
        self.admin = create_engine(f"{POSTGRES_SERVER}/postgres", isolation_level="AUTOCOMMIT")
        self.made: dict[str, str] = {}  # purpose -> database name
        self.unreachable: str | None = None
        try:
            with self.admin.connect() as connection:
                connection.execute(sql("SELECT 1"))
        except OperationalError as exc:
            self.unreachable = (
                f"no PostgreSQL server at {POSTGRES_SERVER} ({exc.orig}): the postgres search "
                "engine is NOT tested (LUUTRU_REQUIRE_POSTGRES=1 makes this a failure)"
            )

    def database(self, purpose: str) -> str:
        if self.unreachable is not None:
            if os.environ.get("LUUTRU_REQUIRE_POSTGRES") == "1":
                pytest.fail(self.unreachable)
            pytest.skip(self.unreachable)
        if purpose not in self.made:
            name = f"luutru_search_test_{uuid.uuid4().hex[:12]}"
            with self.admin.connect() as connection:
                connection.execute(sql(f'CREATE DATABASE "{name}"'))
            self.made[purpose] = name
        return f"{POSTGRES_SERVER}/{self.made[purpose]}"

    def empty(self, url: str) -> None:
        scratch = create_engine(url, isolation_level="AUTOCOMMIT")
        with scratch.connect() as connection:
            connection.execute(sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        scratch.dispose()

    def drop_all(self) -> None:
        if self.made:
            with self.admin.connect() as connection:
                for name in self.made.values():
                    connection.execute(sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            self.made.clear()
        self.admin.dispose()


@pytest.fixture(scope="module", autouse=True)
def postgres() -> Iterator[_Postgres]:
    """``engine("postgres")`` opens its indexes in the shared database; without a server,
    the postgres engine is left out of ``ENGINES`` (loudly), unless LUUTRU_REQUIRE_POSTGRES=1."""
    server = _Postgres()
    if server.unreachable is not None and os.environ.get("LUUTRU_REQUIRE_POSTGRES") != "1":
        warnings.warn(server.unreachable, stacklevel=1)
        del ENGINES["postgres"]
    else:
        ENGINES["postgres"] = lambda _url: _POSTGRES_FACTORY(server.database("shared"))
    try:
        yield server
    finally:
        ENGINES["postgres"] = _POSTGRES_FACTORY
        if "postgres" in _SHARED:
            _SHARED.pop("postgres").close()
        server.drop_all()


@pytest.fixture(params=sorted(ENGINES))
def index(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    postgres: _Postgres,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[SearchIndex]:
    database = None
    if request.param == "postgres":
        # Every index the test opens, in the scratch database, emptied afterwards.
        database = postgres.database("scratch")
        monkeypatch.setitem(ENGINES, "postgres", lambda _url: _POSTGRES_FACTORY(database))
    chosen = engine(request.param)
    opened = chosen.open(tmp_path / f"{chosen.name}-v{chosen.schema_version}-1")
    opened.add(CORPUS)
    opened.commit()
    try:
        yield opened
    finally:
        opened.close()
        if database is not None:
            postgres.empty(database)


def _ids(
    index: SearchIndex, text: str, clearance: AccessLevel = PUBLIC, **options: object
) -> list[str]:
    results = index.search(SearchRequest.of(text, clearance, **options))
    return [hit.record_id for hit in results.hits]


def test_words_match_with_or_without_diacritics(index: SearchIndex) -> None:
    assert set(_ids(index, "trục liên thông văn bản")) == {"report", "letter"}
    assert set(_ids(index, "truc lien thong van ban")) == {"report", "letter"}
    assert set(_ids(index, "TRUC LIEN THONG")) == {"report", "letter"}
    assert "decision" in _ids(index, "Ðổi số")  # U+00D0 typed for Đ


def test_a_subject_match_outranks_the_body_and_exact_spelling_ranks_first(
    index: SearchIndex,
) -> None:
    assert _ids(index, "chuyen doi so")[0] == "decision"
    assert _ids(index, "triển khai trục liên thông")[0] == "letter"


@pytest.mark.parametrize(
    "typed", ["1482/QĐ-UBND", "1482/qđ-ubnd", "1482/QD-UBND", "Số: 1482/QĐ-UBND"]
)
def test_a_number_in_any_form_finds_its_record_first(index: SearchIndex, typed: str) -> None:
    found = _ids(index, typed)
    assert found[0] == "decision"
    assert "report" in found  # it cites the decision


def test_a_decree_outranks_the_documents_citing_it(index: SearchIndex) -> None:
    found = _ids(index, "30/2020/NĐ-CP")
    assert found[0] == "decree" and set(found) == {"decree", "decision", "report", "letter"}
    assert _ids(index, "so:30/2020/nd-cp") == ["decree"]


def test_quotes_make_a_phrase(index: SearchIndex) -> None:
    assert set(_ids(index, '"trục liên thông"')) == {"report", "letter"}
    assert _ids(index, '"liên trục thông"') == []
    assert set(_ids(index, '"cong tac van thu"')) == {"decision", "decree"}


def test_exclusion_or_and_prefix(index: SearchIndex) -> None:
    assert set(_ids(index, "truc lien thong -trien")) == {"report"}
    assert set(_ids(index, "truc lien thong NOT trien")) == {"report"}
    assert set(_ids(index, "văn thư AND công")) == {"decision", "decree"}
    assert set(_ids(index, "trien OR quan")) == {"letter", "decree"}
    assert set(_ids(index, 'nghi dinh -"cong tac van thu"')) == {"report", "letter"}
    assert "report" in _ids(index, "tài liệ*") and "report" in _ids(index, "tai lie*")


def test_filters_and_field_syntax(index: SearchIndex) -> None:
    assert _ids(index, "van thu", filters=Filters(doc_type="nđ")) == ["decree"]
    assert _ids(index, "van thu loai:NĐ") == ["decree"]
    assert set(_ids(index, "", filters=Filters(issuer="tinh hoa binh"))) == {"decision", "report"}
    assert set(_ids(index, 'coquan:"ủy ban nhân dân"')) == {"decision"}
    window = Filters(date_from=date(2019, 1, 1), date_to=date(2020, 12, 31))
    assert set(_ids(index, "nghi dinh", filters=window)) == {"report", "decree"}
    assert _ids(index, "nghi dinh tu:2020-01-01 den:31/12/2020") == ["decree"]
    assert _ids(index, "nam:2015") == ["letter"]
    assert set(_ids(index, "", filters=Filters(series="qc"))) == {"decision", "decree"}


@pytest.mark.parametrize("typed", ["QĐ", "qđ", "QD", "qd", " Qd ", "QÐ"])  # Ð: U+00D0
def test_a_doc_type_filter_matches_with_or_without_diacritics(
    index: SearchIndex, typed: str
) -> None:
    """Only QĐ as written found anything: ``--type QD``, ``loai:qd`` and ``?type=QD`` gave
    0 hits in an archive that promises search without diacritics."""
    assert _ids(index, "", filters=Filters(doc_type=typed)) == ["decision"]
    assert _ids(index, f"chuyen doi so loai:{typed.strip()}") == ["decision"]


def test_a_doc_type_typed_with_its_d_keeps_to_that_type(index: SearchIndex) -> None:
    """Decree 30's HD (hướng dẫn) and HĐ (hợp đồng) are two types: each finds itself only
    (HD is spelled right without a Đ), and the facets show each as written."""
    index.add(
        [
            _doc("guide", title="Hướng dẫn lập hồ sơ", doc_type="HD", body="lập hồ sơ"),
            _doc("contract", title="Hợp đồng số hóa hồ sơ", doc_type="HĐ", body="số hóa hồ sơ"),
        ]
    )
    index.commit()
    assert _ids(index, "ho so", filters=Filters(doc_type="hd")) == ["guide"]
    assert _ids(index, "ho so", filters=Filters(doc_type="HD")) == ["guide"]
    assert _ids(index, "ho so", filters=Filters(doc_type="hđ")) == ["contract"]
    assert _ids(index, "ho so loai:HĐ") == ["contract"]
    results = index.search(SearchRequest.of("ho so", PUBLIC))
    assert {f.value for f in results.facets["doc_type"]} >= {"HD", "HĐ"}


def test_an_issuer_filter_matches_in_any_case_with_or_without_diacritics(
    index: SearchIndex,
) -> None:
    for typed in ("ỦY BAN NHÂN DÂN TỈNH HÒA BÌNH", "Ủy ban nhân dân tỉnh Hòa Bình", "uy ban"):
        assert _ids(index, "", filters=Filters(issuer=typed)) == ["decision"], typed
    assert _ids(index, 'coquan:"UY BAN NHAN DAN tinh hoa binh"') == ["decision"]


def test_sort_by_date(index: SearchIndex) -> None:
    query = "30/2020/NĐ-CP"
    assert _ids(index, query, sort=Sort.NEWEST) == ["decision", "decree", "report", "letter"]
    assert _ids(index, query, sort=Sort.OLDEST) == ["letter", "report", "decree", "decision"]


def test_facets_count_what_was_found(index: SearchIndex) -> None:
    results = index.search(SearchRequest.of("30/2020/NĐ-CP", PUBLIC))
    counts = {name: {f.value: f.count for f in found} for name, found in results.facets.items()}
    assert counts["doc_type"] == {"QĐ": 1, "BC": 1, "NĐ": 1, "CV": 1}
    assert counts["year"] == {"2024": 1, "2020": 1, "2019": 1, "2015": 1}
    assert counts["issuer"]["CHÍNH PHỦ"] == 1


def test_an_issuer_in_capitals_and_in_small_letters_is_one_facet(index: SearchIndex) -> None:
    """The page's capitals and an edXML header's small letters were two issuers."""
    results = index.search(SearchRequest.of("ke hoach chuyen doi so", PUBLIC))
    assert {f.value: f.count for f in results.facets["issuer"]} == {
        "ỦY BAN NHÂN DÂN TỈNH HÒA BÌNH": 1
    }
    written = "Ủy ban nhân dân tỉnh Hòa Bình"
    index.add(
        [
            _doc(f"edxml-{n}", title="Kế hoạch chuyển đổi số", issuer=issuer)
            for n, issuer in enumerate([written, written, " Ủy ban nhân dân  tỉnh Hòa Bình"])
        ]
    )
    index.commit()
    results = index.search(SearchRequest.of("ke hoach chuyen doi so", PUBLIC))
    issuers = {f.value: f.count for f in results.facets["issuer"]}
    assert issuers == {written: 4}  # shown as written most often; the secret one not counted
    # Its link's filter finds what it counted.
    assert len(_ids(index, "ke hoach chuyen doi so", filters=Filters(issuer=written))) == 4
    # Of forms written as often, the same one on every engine: the capitals.
    index.add([_doc("edxml-3", title="Báo cáo", issuer="Sở Nội vụ tỉnh Hòa Bình")])
    index.commit()
    found = index.search(SearchRequest.of("", PUBLIC, filters=Filters(issuer="so noi vu")))
    assert [(f.value, f.count) for f in found.facets["issuer"]] == [("SỞ NỘI VỤ TỈNH HÒA BÌNH", 2)]


def test_a_page_of_no_hits_still_counts_them(index: SearchIndex) -> None:
    """limit 0 asks for the total alone (tantivy's collector refuses a limit of 0 with a
    panic, which no caller should meet)."""
    results = index.search(SearchRequest.of("30/2020/NĐ-CP", PUBLIC, limit=0))
    assert results.total == 4 and results.hits == []


def test_a_confidential_record_never_changes_what_a_public_reader_sees(
    index: SearchIndex, tmp_path: Path
) -> None:
    for text in ("chuyen doi so", "truc lien thong", "99/QĐ-UBND", "mật", "", "nam:2023"):
        request = SearchRequest.of(
            text, PUBLIC, filters=Filters(issuer="hoa binh") if not text else Filters()
        )
        seen = index.search(request)
        assert "secret" not in [h.record_id for h in seen.hits]
        assert all("mật" not in h.snippet for h in seen.hits)
        counts = {f.value: f.count for found in seen.facets.values() for f in found}
        assert counts.get("2023") is None
        # The same total as in an index that never held the confidential record.
        other = engine(index.name).open(tmp_path / f"{index.name}-{abs(hash(text))}")
        other.add([d for d in CORPUS if d.record_id != "secret"])
        other.commit()
        assert other.search(request).total == seen.total
        assert other.search(request).as_json()["facets"] == seen.as_json()["facets"]
    cleared = index.search(SearchRequest.of("chuyen doi so", AccessLevel.CONFIDENTIAL))
    assert "secret" in [h.record_id for h in cleared.hits]


@pytest.mark.parametrize(
    "typed",
    [
        "title:Quyết",  # an engine's field syntax: here two words, which no record says
        "body_f:chinh",
        "record_id:decision",
        "number_key:1482/qd-ubnd",
        "issuer_f:hoa",
        "date_num:[20190101 TO 20191231]",
        "*",
    ],
)
def test_user_input_is_never_parsed_as_engine_syntax(index: SearchIndex, typed: str) -> None:
    """Each of these finds records if it reaches the engine's own query parser."""
    results = index.search(SearchRequest.of(typed, AccessLevel.SECRET))
    assert (results.total, results.hits) == (0, [])


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=80))
def test_any_input_is_answered_without_leaking(
    tmp_path_factory: pytest.TempPathFactory, text: str
) -> None:
    for name in sorted(ENGINES):
        index = _shared(tmp_path_factory, name)
        results = index.search(SearchRequest.of(text, PUBLIC))
        assert "secret" not in [h.record_id for h in results.hits]


_SHARED: dict[str, SearchIndex] = {}


def _shared(factory: pytest.TempPathFactory, name: str) -> SearchIndex:
    if name not in _SHARED:
        chosen = engine(name)
        _SHARED[name] = chosen.open(factory.mktemp(name) / "gen")
        _SHARED[name].add(CORPUS)
        _SHARED[name].commit()
    return _SHARED[name]


def test_stamps_tell_what_each_record_was_indexed_with(index: SearchIndex) -> None:
    stamps = index.stamps()
    assert stamps["secret"] == "confidential:secret" and len(stamps) == len(CORPUS)
    index.add([_doc("secret", body="now public", stamp="public:new")])
    index.commit()
    assert index.stamps()["secret"] == "public:new"
    index.remove(["secret"])
    assert "secret" not in index.stamps()


def test_snippets_highlight_folded_matches(index: SearchIndex) -> None:
    hits = index.search(SearchRequest.of("truc lien thong", PUBLIC)).hits
    assert {h.record_id for h in hits} == {"letter", "report"}
    for hit in hits:
        assert "<b>trục</b> <b>liên</b> <b>thông</b>" in hit.snippet.lower()
    (decision,) = index.search(SearchRequest.of("ke hoach", PUBLIC)).hits
    assert decision.snippet.startswith("Căn cứ")  # a short text is shown from its start


_QUERY_WORDS = [
    "chuyển", "chuyen", "đổi", "doi", "số", "so", "kế", "hoạch", "hóa", "hoa", "tài", "liệu",
    "văn", "thư", "chính", "phủ", "1482/QĐ-UBND", "1482/qd-ubnd", "30/2020/NĐ-CP", "mật",
    "ủy", "ban", "tỉnh", "bình", "năm", "2024", "nghị", "định",
]  # fmt: skip
_QUERY_PIECES = st.one_of(
    st.sampled_from(_QUERY_WORDS),
    st.sampled_from(_QUERY_WORDS).map(lambda w: "-" + w),
    st.sampled_from(_QUERY_WORDS).map(lambda w: w[:2] + "*"),
    st.lists(st.sampled_from(_QUERY_WORDS), min_size=2, max_size=3).map(
        lambda ws: '"' + " ".join(ws) + '"'
    ),
    st.just("OR"),
)


@settings(max_examples=120, deadline=None)
@given(st.lists(_QUERY_PIECES, min_size=1, max_size=4).map(" ".join))
def test_the_total_is_the_number_of_records_found(
    tmp_path_factory: pytest.TempPathFactory, text: str
) -> None:
    """However a total is counted (with the facets or without), it is every hit there is."""
    for name in sorted(ENGINES):
        index = _shared(tmp_path_factory, name)
        for clearance in (PUBLIC, AccessLevel.SECRET):
            every = index.search(SearchRequest.of(text, clearance, limit=100, facets=False))
            faceted = index.search(SearchRequest.of(text, clearance, limit=1))
            assert every.total == len(every.hits) == faceted.total, (name, text)
            for counts in faceted.facets.values():
                assert sum(f.count for f in counts) <= faceted.total
