import subprocess
import sys
from pathlib import Path

import pytest

from archive.errors import SearchUnavailable
from archive.models import AccessLevel
from search import tantivy_index
from search.contracts import IndexDocument
from search.tantivy_index import TantivyIndex


def _doc(record_id: str, body: str, access: AccessLevel = AccessLevel.PUBLIC) -> IndexDocument:
    return IndexDocument(record_id, f"title {record_id}", "", None, access, None, body)


@pytest.fixture
def index(tmp_path: Path) -> TantivyIndex:
    idx = TantivyIndex(tmp_path)
    idx.add(
        [
            _doc("exact", "Nghị quyết của Chính phủ về chuyển đổi số"),
            _doc("ascii", "Nghi quyet cua Chinh phu ve chuyen doi so"),
            _doc("other", "Báo cáo tổng kết công tác lưu trữ"),
            _doc("secret", "Chính phủ mật: kế hoạch bí mật", AccessLevel.SECRET),
        ]
    )
    return idx


def test_query_without_diacritics_finds_text_with_them(index: TantivyIndex) -> None:
    found = index.search("chinh phu", AccessLevel.PUBLIC)
    assert {h.record_id for h in found.hits} == {"exact", "ascii"}
    assert found.total == 2


def test_exact_diacritics_rank_first(index: TantivyIndex) -> None:
    assert index.search("Chính phủ", AccessLevel.PUBLIC).hits[0].record_id == "exact"
    assert index.search("chính phủ", AccessLevel.PUBLIC).total == 2


def test_d_with_stroke_and_eth_fold_to_d(index: TantivyIndex) -> None:
    for query in ("đổi", "doi", "Ðổi"):
        assert {h.record_id for h in index.search(query, AccessLevel.PUBLIC).hits} == {
            "exact",
            "ascii",
        }


def test_every_word_must_match(index: TantivyIndex) -> None:
    assert index.search("chinh phu luu tru", AccessLevel.PUBLIC).total == 0


def test_restricted_records_are_not_in_hits_counts_or_snippets(index: TantivyIndex) -> None:
    public = index.search("chinh phu", AccessLevel.PUBLIC)
    assert "secret" not in {h.record_id for h in public.hits}
    assert public.total == 2
    assert all("mật" not in h.snippet for h in public.hits)
    assert index.search("bi mat", AccessLevel.CONFIDENTIAL).total == 0
    cleared = index.search("bi mat", AccessLevel.SECRET)
    assert [h.record_id for h in cleared.hits] == ["secret"]


@pytest.mark.parametrize(
    "query", ['"', "title:*", "a AND OR", "((", "record_id:secret", "*", "access_rank:[0 TO 9]"]
)
def test_query_syntax_is_not_interpreted(index: TantivyIndex, query: str) -> None:
    results = index.search(query, AccessLevel.PUBLIC)
    assert "secret" not in {h.record_id for h in results.hits}


def test_empty_query_finds_nothing(index: TantivyIndex) -> None:
    assert index.search("  -- ", AccessLevel.SECRET).total == 0


def test_adding_again_replaces(index: TantivyIndex) -> None:
    index.add([_doc("other", "Tờ trình mới")])
    assert index.search("bao cao", AccessLevel.PUBLIC).total == 0
    assert index.search("to trinh", AccessLevel.PUBLIC).total == 1
    assert index.record_ids() == {"exact", "ascii", "other", "secret"}


def test_index_survives_reopening(index: TantivyIndex, tmp_path: Path) -> None:
    assert TantivyIndex(tmp_path).search("luu tru", AccessLevel.PUBLIC).total == 1


def test_remove_and_clear(index: TantivyIndex) -> None:
    index.remove(["exact"])
    assert index.search("chinh phu", AccessLevel.PUBLIC).total == 1
    index.clear()
    assert index.record_ids() == set()


def _hold_writer(directory: Path, seconds: float) -> subprocess.Popen[str]:
    """Another process (an ingest running beside us) holding the index writer."""
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from search.tantivy_index import TantivyIndex\n"
            "idx = TantivyIndex(__import__('pathlib').Path(sys.argv[1]))\n"
            "w = idx._index.writer(15_000_000, 1); print('held', flush=True)\n"
            "time.sleep(float(sys.argv[2])); w.wait_merging_threads()",
            str(directory),
            str(seconds),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    return holder


def test_a_writer_held_by_another_process_is_waited_for(
    index: TantivyIndex, tmp_path: Path
) -> None:
    holder = _hold_writer(tmp_path, 1.0)
    try:
        assert index.add([_doc("later", "Công văn")]) == 1
    finally:
        holder.wait(timeout=30)
    assert index.search("cong van", AccessLevel.PUBLIC).total == 1


def test_a_writer_that_stays_locked_is_reported(
    index: TantivyIndex, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tantivy_index, "WRITER_WAIT_SECONDS", 0.3)
    holder = _hold_writer(tmp_path, 5.0)
    try:
        with pytest.raises(SearchUnavailable, match="stayed locked"):
            index.add([_doc("later", "Công văn")])
    finally:
        holder.kill()
        holder.wait()
    assert index.add([_doc("later", "Công văn")]) == 1  # the lock died with its holder


def test_writers_are_released_at_once(index: TantivyIndex) -> None:
    for n in range(20):
        index.add([_doc(f"r{n}", "Báo cáo")])
        index.remove([f"r{n}"])
    assert index.record_ids() == {"exact", "ascii", "other", "secret"}
