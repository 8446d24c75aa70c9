"""The archive home on day one: where it may live, its key, its database, its modes."""

import os
import stat
import subprocess
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import text

from archive.db import alembic_config, head_revision, make_engine
from archive.errors import (
    ConfigError,
    DatabaseMissing,
    SchemaOutdated,
    SigningKeyError,
    StorageError,
    UsageError,
)
from archive.home import ArchiveHome
from archive.repository import Archive
from archive.signing import PRIVATE_KEY_FILE, PUBLIC_KEY_FILE
from archive.verify import loose_modes
from tests.archive.conftest import SealScan


def test_init_refuses_a_home_inside_a_python_package(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    with pytest.raises(UsageError, match="inside the Python package"):
        Archive.initialise(ArchiveHome(package / "data"))
    assert not (package / "data").exists()
    assert Archive.initialise(ArchiveHome(package / "data"), force=True).created_key


def test_init_refuses_a_tracked_folder_of_a_git_work_tree(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "docs").mkdir(parents=True)
    (repo / "docs" / "a.md").write_text("a")
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    subprocess.run(["git", "-C", str(repo), "add", "docs/a.md"], check=True)
    # Inside the work tree, anywhere git does not ignore: one 'git add .' from publishing
    # the private key (a new folder at the root too).
    for inside in (repo / "docs" / "archive", repo, repo / "records"):
        with pytest.raises(UsageError, match=r"inside the git work tree .* does not ignore it"):
            Archive.initialise(ArchiveHome(inside))
    (repo / ".gitignore").write_text("luutru-data/\n")
    assert Archive.initialise(ArchiveHome(repo / "luutru-data")).created_key


def test_init_refuses_a_folder_of_other_files_a_file_and_an_empty_home(tmp_path: Path) -> None:
    letters = tmp_path / "docs"
    letters.mkdir()
    letters.chmod(0o755)
    (letters / "thu-rieng.txt").write_text("thư riêng")
    with pytest.raises(UsageError, match="already holds other files"):
        Archive.initialise(ArchiveHome(letters))
    assert letters.stat().st_mode & 0o777 == 0o755  # not touched
    a_file = tmp_path / "afile"
    a_file.write_text("x")
    with pytest.raises(UsageError, match="is a file"):
        Archive.initialise(ArchiveHome(a_file))
    with pytest.raises(UsageError, match="--home is empty"):
        ArchiveHome.resolve(Path(""))


def test_init_never_replaces_a_key_moved_offline(home: ArchiveHome, seal_scan: SealScan) -> None:
    public = (home.keys_dir / PUBLIC_KEY_FILE).read_bytes()
    (home.keys_dir / PRIVATE_KEY_FILE).rename(home.root.parent / "offline.pem")
    with pytest.raises(SigningKeyError, match="missing while its public key is there"):
        Archive.initialise(home)
    assert (home.keys_dir / PUBLIC_KEY_FILE).read_bytes() == public
    assert not (home.keys_dir / PRIVATE_KEY_FILE).exists()


def test_init_makes_no_key_for_an_archive_with_records(
    home: ArchiveHome, seal_scan: SealScan, tmp_path: Path
) -> None:
    scan = tmp_path / "scan.png"
    scan.write_bytes(b"scan")
    seal_scan(scan)
    for name in (PRIVATE_KEY_FILE, PUBLIC_KEY_FILE):
        (home.keys_dir / name).unlink()
    with pytest.raises(SigningKeyError, match="restore the keys"):
        Archive.initialise(home)
    # The published public keys stay; no key pair was made.
    assert not any((home.keys_dir / name).exists() for name in (PRIVATE_KEY_FILE, PUBLIC_KEY_FILE))


def test_a_lost_public_key_is_rebuilt_from_the_private_key(home: ArchiveHome) -> None:
    before = Archive.initialise(home).key_id
    (home.keys_dir / PUBLIC_KEY_FILE).unlink()
    report = Archive.initialise(home)
    assert not report.created_key and report.key_id == before


@pytest.mark.sqlite_only  # reaches into luutru.db itself
def test_a_deleted_database_is_damage_not_an_empty_archive(
    home: ArchiveHome, seal_scan: SealScan, tmp_path: Path
) -> None:
    scan = tmp_path / "scan.png"
    scan.write_bytes(b"scan")
    seal_scan(scan)
    for path in home.root.glob("luutru.db*"):
        path.unlink()
    with pytest.raises(DatabaseMissing, match="restore"):
        Archive.open(home)
    with pytest.raises(DatabaseMissing, match="holds records"):
        Archive.initialise(home)
    assert not (home.root / "luutru.db").exists()


@pytest.mark.sqlite_only  # reaches into luutru.db itself
def test_an_older_schema_is_refused_until_migrated_and_the_migration_keys_old_records(
    home: ArchiveHome,
) -> None:
    for path in home.root.glob("luutru.db*"):
        path.unlink()
    engine = make_engine(home.default_database_url())
    command.upgrade(alembic_config(engine), "0001")  # an archive made by the skeleton
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO records (id, access, ingested_at) "
                "VALUES ('abcdef0123456789abcdef01', 'public', '2026-01-01 00:00:00')"
            )
        )
        connection.execute(
            text(
                "INSERT INTO record_files (record_id, role, media_type, size, sha256) VALUES "
                "('abcdef0123456789abcdef01', 'original', 'image/png', 1, :sha)"
            ),
            {"sha": "abcdef0123456789abcdef01" + "0" * 40},
        )
    engine.dispose()
    with pytest.raises(SchemaOutdated, match="luutru migrate"):
        Archive.open(home)
    assert Archive.migrate(home) == ("0001", head_revision())
    with Archive.open(home) as archive:
        assert archive.find_by_original("abcdef0123456789abcdef01" + "0" * 40) == (
            "abcdef0123456789abcdef01"
        )


@pytest.mark.sqlite_only  # reaches into luutru.db itself
@pytest.mark.parametrize(
    ("line", "error", "message"),
    [
        ("database_url = 5", ConfigError, "must be a database URL"),
        ('database_url = "nonsense"', ConfigError, "not usable"),
        ('database_url = "postgresql+psycopg://u:pw@127.0.0.1:1/x"', StorageError, "refused"),
        ('anonymous_clearance = "everyone"', ConfigError, "not one of"),
        ('group = "no-such-group-here"', ConfigError, "no group"),
    ],
)
def test_a_bad_configuration_is_a_clear_error(
    home: ArchiveHome, line: str, error: type[Exception], message: str
) -> None:
    key = line.split(" =")[0]
    config = [
        kept for kept in home.config_path.read_text().splitlines() if not kept.startswith(key)
    ]
    home.config_path.write_text("\n".join([line, *config]) + "\n")
    with pytest.raises(error, match=message) as raised:
        Archive.open(home)
    assert "pw" not in str(raised.value)


@pytest.mark.sqlite_only  # reaches into luutru.db itself
def test_a_file_that_is_no_database_is_a_storage_error(home: ArchiveHome) -> None:
    for path in home.root.glob("luutru.db*"):
        path.unlink()
    (home.root / "luutru.db").write_bytes(b"this is not SQLite" * 100)
    with pytest.raises(StorageError, match="not a database"):
        Archive.open(home)


@pytest.mark.sqlite_only  # reaches into luutru.db itself
def test_everything_in_the_home_is_owner_only(
    home: ArchiveHome, seal_scan: SealScan, tmp_path: Path
) -> None:
    scan = tmp_path / "scan.png"
    scan.write_bytes(b"scan")
    with Archive.open(home) as archive:
        archive.quarantine(scan, "test")
    seal_scan(scan)
    modes = {p: stat.S_IMODE(p.stat().st_mode) for p in [home.root, *home.root.rglob("*")]}
    assert all(mode & 0o077 == 0 for mode in modes.values()), {
        str(p): oct(m) for p, m in modes.items() if m & 0o077
    }
    blob = next(p for p in home.blobs_dir.rglob("*") if p.is_file())
    assert modes[blob] == 0o400
    assert loose_modes(home.root, group_readable=False) == []
    (home.root / "luutru.db").chmod(0o644)
    assert loose_modes(home.root, group_readable=False) == ["luutru.db is -rw-r--r--"]


def test_a_configured_group_may_read(tmp_path: Path) -> None:
    group = "daemon"  # any group that exists; root may give files to it
    home = ArchiveHome(tmp_path / "shared")
    home.root.mkdir()
    home.write_default_config()
    home.config_path.write_text(home.config_path.read_text() + f'group = "{group}"\n')
    Archive.initialise(home)
    assert stat.S_IMODE(home.root.stat().st_mode) == 0o2750
    db = home.root / "luutru.db"
    assert db.stat().st_gid == home.settings().group_id
    assert stat.S_IMODE(db.stat().st_mode) & 0o007 == 0
    assert loose_modes(home.root, group_readable=True) == []
    assert os.stat(home.blobs_dir).st_gid == home.settings().group_id
