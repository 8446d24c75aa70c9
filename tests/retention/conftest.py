import pytest

from archive.home import ArchiveHome


@pytest.fixture
def home(archive_home: ArchiveHome) -> ArchiveHome:
    """The retention suite runs on SQLite and on PostgreSQL (``tests/backends.py``)."""
    return archive_home
