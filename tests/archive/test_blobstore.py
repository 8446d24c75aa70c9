import hashlib
import stat
from pathlib import Path

import pytest

from archive.blobstore import LocalBlobStore
from archive.errors import BlobMissing, IntegrityError


def test_put_file_is_content_addressed_idempotent_and_read_only(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path / "blobs")
    source = tmp_path / "scan.png"
    source.write_bytes(b"page bytes")
    sha256, size = store.put_file(source)
    assert sha256 == hashlib.sha256(b"page bytes").hexdigest()
    assert size == 10
    assert store.put_file(source) == (sha256, size)
    stored = store.path_for(sha256)
    assert stored.read_bytes() == b"page bytes"
    assert not stored.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)
    assert source.read_bytes() == b"page bytes"
    assert list(store.iter_hashes()) == [sha256]
    assert not [p for p in store.root.iterdir() if p.name.startswith(".")]


def test_put_bytes_matches_put_file(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    assert store.put_bytes(b"abc") == hashlib.sha256(b"abc").hexdigest()
    assert store.read_bytes(hashlib.sha256(b"abc").hexdigest()) == b"abc"


def test_missing_blob_is_reported(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    with pytest.raises(BlobMissing):
        store.open("0" * 64)


@pytest.mark.parametrize("name", ["../../etc/passwd", "ABC", "0" * 63, "g" * 64])
def test_names_that_are_not_sha256_are_refused(tmp_path: Path, name: str) -> None:
    with pytest.raises(IntegrityError):
        LocalBlobStore(tmp_path).path_for(name)
