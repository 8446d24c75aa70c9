"""The index is a cache of the archive: caught up by id, access and seal; rebuilt beside the
one in use and swapped in; resumed after a kill; damaged records skipped and said."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import update

from api.services import Services
from archive.errors import ConfigError
from archive.home import ArchiveHome
from archive.models import AccessLevel, FileRole, Record
from archive.repository import Archive, Description, IncomingFile, Placement
from archive.revision import revise_record
from search import engines, indexer
from search.contracts import SearchRequest
from search.engines import CURRENT, engine

ROOT = Path(__file__).resolve().parents[2]


def _seal(archive: Archive, n: int, text: str, access: AccessLevel = AccessLevel.PUBLIC) -> str:
    return archive.seal(
        [
            IncomingFile(FileRole.ORIGINAL, "image/png", f"{n}.png", data=f"scan {n}".encode()),
            IncomingFile(
                FileRole.OCR_TEXT, "text/plain; charset=utf-8", "t.txt", data=text.encode()
            ),
        ],
        Description(
            title=f"Công văn số {n}",
            doc_number=f"{n}/UBND-VP",
            issued_date=date(2020, 1, n % 28 + 1),
        ),
        Placement(access=access, series_code="CV", closed_year=2020),
        f"{n}.png",
    ).record_id


@pytest.fixture
def archived(home: ArchiveHome) -> ArchiveHome:
    with Archive.open(home) as archive:
        for n in range(1, 31):
            _seal(archive, n, f"Trục liên thông văn bản quốc gia, hồ sơ số {n}.")
        _seal(archive, 99, "Kế hoạch chuyển đổi số của tỉnh.", AccessLevel.SECRET)
    return home


def _find(services: Services, text: str, clearance: AccessLevel = AccessLevel.PUBLIC) -> list[str]:
    return [h.record_id for h in services.search(SearchRequest.of(text, clearance, limit=100)).hits]


def test_a_deleted_index_is_rebuilt_from_the_archive(archived: ArchiveHome) -> None:
    with Services.open(archived, catch_up_index=True) as services:
        assert len(_find(services, "truc lien thong")) == 30
    import shutil

    shutil.rmtree(archived.index_dir)
    with Services.open(archived, catch_up_index=True) as services:
        assert services.index_note and "rebuilt (31 records)" in services.index_note
        assert len(_find(services, "truc lien thong")) == 30


def test_a_record_made_secret_in_the_database_leaves_anonymous_search(
    archived: ArchiveHome,
) -> None:
    with Services.open(archived, catch_up_index=True) as services:
        target = _find(services, "hồ sơ số 7")[0]
        # Behind the index's back: the database says secret, the index still says public.
        with services.archive.session() as session, session.begin():
            session.execute(update(Record).where(Record.id == target).values(access="secret"))
        found = services.search(SearchRequest.of("truc lien thong", AccessLevel.PUBLIC, limit=100))
        assert target not in [h.record_id for h in found.hits]
        assert found.total == 29  # the count too: the hit was re-checked, the index caught up
        assert services.index.stamps()[target].startswith("secret:")


def test_catch_up_compares_access_and_seal_not_only_ids(archived: ArchiveHome) -> None:
    with Services.open(archived, catch_up_index=True) as services:
        record_id = _find(services, "hồ sơ số 3")[0]
        revise_record(
            services.archive, record_id, {"subject": "Về việc lập hồ sơ điện tử"}, "sửa", "vt"
        )
        missing, stale = indexer.differences(services.archive, services.index)
        assert (missing, stale) == ([record_id], [])
        indexer.catch_up(services.archive, services.index)
        assert _find(services, "ho so dien tu") == [record_id]


def test_a_missing_text_blob_is_skipped_and_said_not_fatal(archived: ArchiveHome) -> None:
    with Archive.open(archived) as archive:
        record = archive.get(archive.record_ids()[0], AccessLevel.SECRET)
        text = record.file(FileRole.OCR_TEXT)
        assert text is not None
        archive.blobs.path_for(text.sha256).unlink()
    with Services.open(archived) as services:
        report = services.reindex()
        assert report.indexed == 31
        assert len(report.damaged) == 1 and "text cannot be read" in report.damaged[0]
        assert record.id in services.index.stamps()


def test_a_record_of_an_unknown_access_level_is_left_out_and_said(archived: ArchiveHome) -> None:
    """Fail closed: a row whose access level was edited into nonsense is not searchable."""
    with Services.open(archived, catch_up_index=True) as services:
        target = _find(services, "hồ sơ số 5")[0]
        with services.archive.session() as session, session.begin():
            session.execute(update(Record).where(Record.id == target).values(access="bogus"))
        report = services.reindex()
        assert report.indexed == 30
        assert report.damaged == [
            f"{target}: record {target} has an unknown access level 'bogus' in the database"
        ]
        assert target not in services.index.stamps()
        assert target not in _find(services, "truc lien thong", AccessLevel.SECRET)


def test_what_is_indexed_of_a_record_is_what_the_archive_holds(archived: ArchiveHome) -> None:
    """``Archive.searchable`` (rows) feeds the index what the records themselves say."""
    with Archive.open(archived) as archive:
        ids = archive.record_ids()
        rows = list(archive.searchable(ids))
        assert [row.id for row in rows] == ids
        for row, record in zip(rows, archive.iter_records(ids), strict=True):
            text_file = record.file(FileRole.OCR_TEXT)
            assert row.text_sha256 == (text_file.sha256 if text_file else None)
            assert row.manifest_sha256 == (record.seal.manifest_sha256 if record.seal else None)
            assert archive.read_text(row.text_sha256, row.status) == archive.text_of(record)
            fields = ("title", "doc_number", "issued_date", "access", "series_code",
                      "doc_type", "type_name", "issuer", "subject", "status")  # fmt: skip
            assert [getattr(row, f) for f in fields] == [getattr(record, f) for f in fields]


def test_reindex_builds_beside_the_index_in_use_and_resumes_after_a_kill(
    archived: ArchiveHome,
) -> None:
    with Services.open(archived, catch_up_index=True) as services:
        assert len(_find(services, "truc lien thong")) == 30
    before = (archived.index_dir / CURRENT).read_text()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen(
        [sys.executable, "-c", _SLOW_REINDEX, str(archived.root)],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None and child.stdout.readline().strip() == "building"
    time.sleep(0.5)
    # During the rebuild, the index in use answers as before.
    with Services.open(archived) as services:
        assert len(_find(services, "truc lien thong")) == 30
    child.send_signal(signal.SIGKILL)
    child.wait()
    assert (archived.index_dir / CURRENT).read_text() == before
    building = list(archived.index_dir.glob("*.building"))
    assert len(building) == 1
    with Services.open(archived) as services:
        report = services.reindex()
        assert 0 < report.indexed < 31  # what the killed run had committed was kept
        assert len(_find(services, "truc lien thong")) == 30
    assert (archived.index_dir / CURRENT).read_text() != before
    assert not list(archived.index_dir.glob("*.building"))


# A rebuild that commits in batches of 5 and sleeps between them, so a test can kill it.
_SLOW_REINDEX = """
import sys, time
from pathlib import Path
from archive.home import ArchiveHome
from api.services import Services
from search import indexer
indexer.BATCH_RECORDS = 5
def progress(done, total):
    if done == 5:
        print("building", flush=True)
    time.sleep(0.4)
with Services.open(ArchiveHome(Path(sys.argv[1]))) as services:
    services.reindex(progress)
"""


def test_readers_of_a_swapped_index_see_the_new_one(archived: ArchiveHome) -> None:
    with Services.open(archived, catch_up_index=True) as reader:
        assert len(_find(reader, "truc lien thong")) == 30
        with Archive.open(archived) as archive:
            _seal(archive, 31, "Trục liên thông văn bản, hồ sơ mới.")
        with Services.open(archived) as other:
            other.reindex()
        assert len(_find(reader, "truc lien thong")) == 31


def test_an_index_of_another_engine_or_schema_is_not_used(archived: ArchiveHome) -> None:
    (archived.index_dir / CURRENT).write_text("tantivy-v0-1\n")
    with Services.open(archived, catch_up_index=True) as services:
        assert services.index_note and "rebuilt" in services.index_note


def test_unknown_engine_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="tantivy"):
        engine("lucene")
    assert "whoosh" in engines.ENGINES
