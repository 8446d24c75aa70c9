"""What only the Whoosh engine has to get right: its write lock, buffering, reopening, and
tokens equal to tantivy's. The contract itself is tested on both engines in test_engines."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archive.errors import SearchUnavailable
from archive.models import AccessLevel
from search import whoosh_index
from search.contracts import IndexDocument, SearchRequest
from search.text import exact_tokens, folded_tokens
from search.whoosh_index import WhooshIndex, analyze

PUBLIC = AccessLevel.PUBLIC


def _doc(record_id: str, body: str, stamp: str = "") -> IndexDocument:
    return IndexDocument(
        record_id, f"title {record_id}", "", None, PUBLIC, None, body, stamp=stamp or record_id
    )


def _found(index: WhooshIndex, text: str) -> set[str]:
    return {h.record_id for h in index.search(SearchRequest.of(text, PUBLIC, limit=50)).hits}


@pytest.fixture
def index(tmp_path: Path) -> WhooshIndex:
    opened = WhooshIndex(tmp_path)
    opened.add([_doc("report", "Báo cáo tổng kết công tác lưu trữ")])
    opened.commit()
    return opened


def _hold_writer(directory: Path, seconds: float) -> subprocess.Popen[str]:
    """Another process (an ingest running beside us) holding Whoosh's write lock."""
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from whoosh import index\n"
            "w = index.open_dir(sys.argv[1]).writer(); print('held', flush=True)\n"
            "time.sleep(float(sys.argv[2])); w.cancel()",
            str(directory),
            str(seconds),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    return holder


def test_a_lock_held_by_another_process_is_waited_for(index: WhooshIndex, tmp_path: Path) -> None:
    holder = _hold_writer(tmp_path, 1.0)
    try:
        index.add([_doc("later", "Công văn")])
        index.commit()
    finally:
        holder.wait(timeout=30)
    assert _found(index, "cong van") == {"later"}


def test_a_lock_that_stays_taken_is_reported_and_the_batch_kept(
    index: WhooshIndex, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(whoosh_index, "WRITER_WAIT_SECONDS", 0.3)
    holder = _hold_writer(tmp_path, 30.0)
    try:
        index.add([_doc("later", "Công văn")])
        with pytest.raises(SearchUnavailable, match="stayed locked"):
            index.commit()
    finally:
        holder.kill()
        holder.wait()
    index.commit()  # the lock died with its holder; the batch was kept
    assert _found(index, "cong van") == {"later"}


def test_close_commits_and_the_index_reopens(index: WhooshIndex, tmp_path: Path) -> None:
    index.add([_doc("pending", "Tờ trình mới")])
    index.close()
    reopened = WhooshIndex(tmp_path)
    assert _found(reopened, "to trinh") == {"pending"}
    assert reopened.stamps() == {"report": "report", "pending": "pending"}
    assert _found(index, "luu tru") == {"report"}  # a closed index can still be read


def test_another_writers_commits_and_removals_are_seen(index: WhooshIndex, tmp_path: Path) -> None:
    assert _found(index, "bao cao") == {"report"}  # a searcher is open on the first commit
    other = WhooshIndex(tmp_path)
    other.add([_doc("report", "Tờ trình thay thế", stamp="v2")])
    other.commit()
    assert _found(index, "bao cao") == set()
    assert _found(index, "to trinh") == {"report"}
    other.remove(["report"])
    assert _found(index, "to trinh") == set() and index.stamps() == {}


def test_the_last_version_in_one_batch_wins(tmp_path: Path) -> None:
    opened = WhooshIndex(tmp_path)
    opened.add([_doc("a", "Báo cáo", stamp="v1"), _doc("a", "Tờ trình", stamp="v2")])
    opened.commit()
    assert opened.stamps() == {"a": "v2"} and _found(opened, "bao cao") == set()
    opened.add([_doc("b", "Công văn")])
    opened.remove(["b"])  # removed before it was ever committed
    assert opened.stamps() == {"a": "v2"}


def test_a_big_batch_is_committed_early(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(whoosh_index, "MAX_PENDING_DOCUMENTS", 3)
    opened = WhooshIndex(tmp_path)
    assert opened.add(_doc(f"r{n}", "Báo cáo") for n in range(7)) == 7
    assert len(opened.stamps()) == 6
    opened.commit()
    assert len(opened.stamps()) == 7


def test_clear_drops_what_was_committed_and_what_was_not(index: WhooshIndex) -> None:
    index.add([_doc("pending", "Công văn")])
    index.clear()
    index.commit()
    assert index.stamps() == {} and _found(index, "cong van bao cao") == set()
    index.add([_doc("again", "Công văn")])
    index.commit()
    assert index.stamps() == {"again": "again"}


def test_an_empty_index_answers(tmp_path: Path) -> None:
    opened = WhooshIndex(tmp_path)
    assert opened.stamps() == {}
    assert opened.search(SearchRequest.of("bao cao", PUBLIC)).total == 0
    opened.clear()
    opened.remove(["missing"])


def test_an_index_of_other_fields_is_refused(tmp_path: Path) -> None:
    from whoosh import fields, index  # type: ignore[import-untyped, unused-ignore]

    index.create_in(str(tmp_path), fields.Schema(body=fields.TEXT()))
    with pytest.raises(SearchUnavailable, match="reindex"):
        WhooshIndex(tmp_path)


def test_a_dropped_long_word_keeps_its_position(tmp_path: Path) -> None:
    opened = WhooshIndex(tmp_path)
    opened.add([_doc("gap", "báo " + "x" * 50 + " cáo"), _doc("near", "báo cáo")])
    opened.commit()
    assert _found(opened, '"bao cao"') == {"near"}  # as in tantivy: no phrase across the gap


@settings(max_examples=300, deadline=None)
@given(st.text(st.characters(codec="utf-8"), max_size=120))
def test_terms_are_those_of_the_tantivy_analyzers(text: str) -> None:
    assert [term for _, term in analyze(text, folded=False)] == exact_tokens(text)
    assert [term for _, term in analyze(text, folded=True)] == folded_tokens(text)
