"""What only the tantivy engine does: its writer lock across processes, released after every
commit. The engine's search behaviour is the shared suite's (test_engines.py)."""

import subprocess
import sys
from pathlib import Path

import pytest

from archive.errors import SearchUnavailable
from archive.models import AccessLevel
from search import tantivy_index
from search.contracts import IndexDocument
from search.tantivy_index import TantivyIndex


def _doc(record_id: str) -> IndexDocument:
    return IndexDocument(record_id, "t", "", None, AccessLevel.PUBLIC, None, "chính phủ", stamp="s")


def _hold_writer(directory: Path) -> subprocess.Popen[str]:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\n"
            "from search.tantivy_index import TantivyIndex\n"
            "index = TantivyIndex(__import__('pathlib').Path(sys.argv[1]))\n"
            "index._take_writer()\n"
            "print('held', flush=True); sys.stdin.read()",
            str(directory),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    return holder


def test_a_writer_held_elsewhere_is_waited_for_then_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    index = TantivyIndex(tmp_path)
    monkeypatch.setattr(tantivy_index, "WRITER_WAIT_SECONDS", 0.3)
    holder = _hold_writer(tmp_path)
    try:
        with pytest.raises(SearchUnavailable, match="stayed locked"):
            index.add([_doc("a")])
    finally:
        holder.communicate("")
    index.add([_doc("a")])
    index.commit()
    assert set(index.stamps()) == {"a"}


def test_the_writer_is_released_after_each_commit(tmp_path: Path) -> None:
    first, second = TantivyIndex(tmp_path), TantivyIndex(tmp_path)
    first.add([_doc("a")])
    first.commit()
    second.add([_doc("b")])  # would wait for ever if the first kept its writer
    second.commit()
    assert set(first.stamps()) == {"a", "b"}
