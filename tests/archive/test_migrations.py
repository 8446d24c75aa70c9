from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from archive.db import make_engine, upgrade_schema
from archive.models import Base


def test_migrations_build_exactly_the_models_schema(tmp_path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    upgrade_schema(engine)
    upgrade_schema(engine)  # idempotent on every start
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == []
    assert {"records", "record_files", "seals", "quarantine"} <= set(
        inspect(engine).get_table_names()
    )


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_an_archive_from_before_the_log_is_logged_by_migrate(archive, seal_scan, tmp_path) -> None:
    """Records sealed by an older luutru (format 1 manifests, schema 0003, no log) verify
    after 'luutru migrate', which enters them in the log in the order they were sealed."""
    import json

    from alembic import command
    from sqlalchemy import text

    from archive.db import alembic_config, head_revision
    from archive.fixity import audit_archive
    from archive.manifest import MANIFEST_FORMAT_V1, legacy_canonical_json
    from archive.repository import Archive

    ids = []
    for n in range(3):
        scan = tmp_path / f"old-{n}.png"
        scan.write_bytes(f"old scan {n}".encode())
        ids.append(seal_scan(scan).record_id)
    command.downgrade(alembic_config(archive.engine), "0003")
    signer = archive.signer()
    with archive.engine.begin() as connection:
        for record_id in ids:
            sha = connection.execute(
                text("SELECT manifest_sha256 FROM seals WHERE record_id = :r"), {"r": record_id}
            ).scalar_one()
            manifest = json.loads(archive.blobs.read_bytes(sha))
            old = {
                "format": MANIFEST_FORMAT_V1,
                "record_id": record_id,
                "sealed_at": manifest["ingested_at"],
                "files": [{k: v for k, v in f.items() if k != "sha512"} for f in manifest["files"]],
                "description": manifest["description"],
            }
            body = legacy_canonical_json(old)
            connection.execute(
                text("UPDATE seals SET manifest_sha256 = :m, signature = :s WHERE record_id = :r"),
                {"m": archive.blobs.put_bytes(body), "s": signer.sign(body), "r": record_id},
            )
    before, after = Archive.migrate(archive.home)
    assert (before, after) == ("0003", head_revision())
    with Archive.open(archive.home) as migrated:
        report = audit_archive(migrated, record_events=False)
        assert report.ok, report.all_problems()
        assert report.log is not None and report.log.size == 3
        assert Archive.migrate(archive.home) == (head_revision(), head_revision())
        assert audit_archive(migrated, record_events=False).log.size == 3


def test_the_schema_head_every_command_checks_is_the_newest_migration(tmp_path) -> None:
    """archive.db names the head revision itself (so start-up needs no alembic): a new
    migration without a new SCHEMA_HEAD fails here, not in every command."""
    from alembic.script import ScriptDirectory

    from archive.db import SCHEMA_HEAD, alembic_config, current_revision

    assert ScriptDirectory.from_config(alembic_config(None)).get_current_head() == SCHEMA_HEAD
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    assert current_revision(engine) is None  # no schema yet
    upgrade_schema(engine)
    with engine.connect() as connection:
        recorded = MigrationContext.configure(connection).get_current_revision()
    assert current_revision(engine) == recorded == SCHEMA_HEAD
