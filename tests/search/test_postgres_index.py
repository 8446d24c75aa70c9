"""What only the PostgreSQL engine has: a table per generation in the archive's database,
PostgreSQL URLs only, tsvector text built by luutru's analyzers, and its ranking budget.
The shared behaviour is tests/search/test_engines.py's."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect
from sqlalchemy import text as sql
from sqlalchemy.exc import OperationalError

from archive.errors import ConfigError
from archive.models import AccessLevel
from search import postgres_index, postgres_terms
from search.contracts import IndexDocument, SearchRequest
from search.engines import building_generation, engine, open_current, publish
from search.postgres_index import PostgresIndex, table_name

SERVER = os.environ.get("LUUTRU_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432")
PUBLIC = AccessLevel.PUBLIC
V = postgres_index.SCHEMA_VERSION  # in the names of the tables generations make


@pytest.fixture(scope="module")
def server_database() -> Iterator[str]:
    """A database for the module, ``luutru_search_test_<random>``, dropped afterwards."""
    admin = create_engine(f"{SERVER}/postgres", isolation_level="AUTOCOMMIT")
    name = f"luutru_search_test_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as connection:
            connection.execute(sql(f'CREATE DATABASE "{name}"'))
    except OperationalError as exc:
        reason = f"no PostgreSQL server at {SERVER} ({exc.orig}): the postgres engine is NOT tested"
        if os.environ.get("LUUTRU_REQUIRE_POSTGRES") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    try:
        yield f"{SERVER}/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def url(server_database: str) -> Iterator[str]:
    """The module's database, emptied after each test."""
    yield server_database
    scratch = create_engine(server_database, isolation_level="AUTOCOMMIT")
    with scratch.connect() as connection:
        connection.execute(sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    scratch.dispose()


def _tables(url: str) -> set[str]:
    db = create_engine(url)
    try:
        return set(inspect(db).get_table_names())
    finally:
        db.dispose()


def _doc(record_id: str, body: str = "", **fields: object) -> IndexDocument:
    values: dict[str, object] = {
        "title": "",
        "number": "",
        "date": None,
        "access": PUBLIC,
        "series_code": None,
        "stamp": f"public:{record_id}",
    }
    values.update(fields)
    return IndexDocument(record_id=record_id, body=body, **values)  # type: ignore[arg-type]


def _ids(index: PostgresIndex, text: str) -> list[str]:
    return [hit.record_id for hit in index.search(SearchRequest.of(text, PUBLIC)).hits]


@pytest.mark.parametrize(
    "wrong", ["", "sqlite:///luutru.db", "mysql+pymysql://u@h/db", "not a url", "://"]
)
def test_a_url_that_is_not_postgresql_is_refused(tmp_path: Path, wrong: str) -> None:
    with pytest.raises(ConfigError, match="PostgreSQL"):
        PostgresIndex(tmp_path / "postgres-v1-1", wrong)
    with pytest.raises(ConfigError, match="PostgreSQL"):
        engine("postgres", wrong).open(tmp_path / "postgres-v1-1")


def test_a_table_is_named_from_its_generation_folder() -> None:
    assert table_name(Path("index/postgres-v1-3.building")) == "search_postgres_v1_3"
    assert table_name(Path("index/postgres-v1-3")) == "search_postgres_v1_3"
    long = table_name(Path("index/" + "Thư mục rất dài " * 8))
    assert long.startswith("search_thu_m") and len(long) <= 40  # room for index names
    assert long != table_name(Path("index/" + "Thư mục rất dài " * 9))


def test_a_rebuild_fills_the_table_readers_open_once_published(url: str, tmp_path: Path) -> None:
    chosen = engine("postgres", url.replace("postgresql+psycopg", "postgresql"))  # the driver
    building = building_generation(tmp_path, chosen)
    fresh = chosen.open(building)
    fresh.add([_doc("a", "Chính phủ điện tử")])
    fresh.close()
    assert open_current(tmp_path, chosen) is None  # not published yet
    publish(tmp_path, building)
    current = open_current(tmp_path, chosen)
    assert current is not None and set(current.stamps()) == {"a"}
    current.close()
    assert _tables(url) == {"search_generations", f"search_postgres_v{V}_1"}


def test_a_generation_whose_folder_is_gone_loses_its_table(url: str, tmp_path: Path) -> None:
    chosen = engine("postgres", url)
    for _ in range(3):
        building = building_generation(tmp_path, chosen)
        chosen.open(building).close()
        publish(tmp_path, building)  # removes the folders of all but the last two
    # The third publish removed generation 1's folder; its table goes when an index opens.
    assert f"search_postgres_v{V}_1" in _tables(url)
    unfinished = building_generation(tmp_path, chosen)
    opened = chosen.open(unfinished)
    assert _tables(url) == {
        "search_generations", f"search_postgres_v{V}_2", f"search_postgres_v{V}_3",
        f"search_postgres_v{V}_4",
    }  # fmt: skip
    opened.close()
    # Another archive's generations in the same database are not this folder's to drop.
    other = PostgresIndex(tmp_path / "elsewhere" / "postgres-v1-1", url)
    assert f"search_postgres_v{V}_4" in _tables(url)
    other.close()


def test_drop_removes_a_generation_table(url: str, tmp_path: Path) -> None:
    index = PostgresIndex(tmp_path / "postgres-v1-7", url)
    index.add([_doc("a", "x")])
    index.commit()
    index.drop()
    assert f"search_postgres_v{V}_7" not in _tables(url)
    index.close()
    postgres_index.drop_generation(tmp_path / "postgres-v1-8", url)  # none: nothing to do


def test_numbers_and_their_parts_are_words_as_in_tantivy(url: str, tmp_path: Path) -> None:
    """PostgreSQL's parser reads 30/2020/NĐ-CP as '30/2020/n', 'đ-cp', 'đ', 'cp' (folded,
    one word '30/2020/nd-cp'): its parts could not be found. luutru's analyzers split it."""
    index = PostgresIndex(tmp_path / "postgres-v1-1", url)
    index.add(
        [
            _doc("cites", "Căn cứ Nghị định số 30/2020/NĐ-CP ngày 05/3/2020."),
            _doc("other", "Nghị định 2020 số 30 về văn thư."),
            _doc("eth", "Quyết định số 215/QÐ-UBND (OCR: Ð for Đ)."),
        ]
    )
    index.commit()
    assert _ids(index, "nghi dinh 30/2020") == ["cites"]
    assert _ids(index, "30/2020/nd-cp") == ["cites"]
    assert _ids(index, "215/qđ-ubnd") == ["eth"] and _ids(index, '"qd ubnd"') == ["eth"]
    index.close()


@pytest.mark.parametrize(
    "typed",
    ["a' | 'b", "x:* | !y", "\\' & !", "'", "<-> !!", "a <-> b", "(", "so:'x'", "\x00", "ab\\"],
)
def test_tsquery_syntax_in_user_text_is_only_words(url: str, tmp_path: Path, typed: str) -> None:
    index = PostgresIndex(tmp_path / "postgres-v1-1", url)
    index.add([_doc("a", "a b x y ab so"), _doc("b", "nothing here")])
    index.commit()
    results = index.search(SearchRequest.of(typed, PUBLIC))
    assert "b" not in [hit.record_id for hit in results.hits]
    index.close()


def test_text_postgresql_cannot_hold_is_cleaned(url: str, tmp_path: Path) -> None:
    index = PostgresIndex(tmp_path / "postgres-v1-1", url)
    index.add([_doc("a", "nul\x00byte and a lone \ud800 surrogate", title="T\x00")])
    index.commit()
    assert _ids(index, "surrogate") == ["a"]
    assert _ids(index, "loai:\x00") == []
    index.close()


def test_past_the_ranking_budget_heads_rank_and_then_the_newest(
    url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    index = PostgresIndex(tmp_path / "postgres-v1-1", url)
    index.add(
        [
            _doc("old", "lưu trữ", date=date(2001, 1, 1)),
            _doc("new", "lưu trữ và những việc khác nữa", date=date(2024, 1, 1)),
            _doc("head", "", title="Lưu trữ", date=date(1999, 1, 1)),
        ]
    )
    index.commit()
    assert _ids(index, "luu tru") == ["head", "old", "new"]  # every term ranked: shorter first
    monkeypatch.setattr(postgres_index, "FULL_RANK_MAX", 2)
    assert _ids(index, "luu tru") == ["head", "new", "old"]  # heads only, then by date
    index.close()


def test_a_phrase_is_found_up_to_the_tsvector_position_limit(url: str, tmp_path: Path) -> None:
    filler = "lời " * (postgres_terms.MAX_POSITION + 10)
    index = PostgresIndex(tmp_path / "postgres-v1-1", url)
    index.add([_doc("early", "trục liên thông " + filler), _doc("late", filler + "trục liên")])
    index.commit()
    assert _ids(index, '"truc lien thong"') == ["early"]
    # Past it, the words are found, not the phrase (every position reads as the last).
    assert set(_ids(index, "truc lien")) == {"early", "late"}
    assert _ids(index, '"truc lien"') == ["early"]
    index.close()


def test_a_body_too_long_for_one_tsvector_is_indexed_from_its_start(
    url: str, tmp_path: Path
) -> None:
    words = [f"w{n}x" for n in range(200_000)]  # 1.4 MB of distinct words, ~3 MB of terms
    index = PostgresIndex(tmp_path / "postgres-v1-1", url)
    index.add([_doc("long", "khởi đầu " + " ".join(words))])
    index.commit()
    assert _ids(index, "khoi dau") == ["long"] and _ids(index, "w1x") == ["long"]
    assert _ids(index, "w199999x") == []
    index.close()
