"""The index is a cache of the archive: it can be caught up and rebuilt from it."""

import pytest

from api.services import Services
from archive.errors import ConfigError
from archive.models import AccessLevel
from search.engines import open_index
from search.indexer import catch_up, rebuild
from tests.conftest import IngestedArchive


def test_rebuild_from_the_archive_gives_the_same_answers(ingested_copy: IngestedArchive) -> None:
    with Services.open(ingested_copy.home) as services:
        before = services.index.search("chuyen doi so", AccessLevel.PUBLIC)
        assert before.total >= 1
        assert rebuild(services.archive, services.index) == 3
        after = services.index.search("chuyen doi so", AccessLevel.PUBLIC)
    assert [h.record_id for h in after.hits] == [h.record_id for h in before.hits]


def test_catch_up_indexes_what_a_killed_ingest_left_out(ingested_copy: IngestedArchive) -> None:
    with Services.open(ingested_copy.home) as services:
        services.index.clear()
        assert services.index.search("van thu", AccessLevel.PUBLIC).total == 0
        assert catch_up(services.archive, services.index) == 3
        assert catch_up(services.archive, services.index) == 0
        assert services.index.search("van thu", AccessLevel.PUBLIC).total >= 1


def test_unknown_engine_is_a_config_error(tmp_path) -> None:
    with pytest.raises(ConfigError, match="tantivy"):
        open_index("lucene", tmp_path)
