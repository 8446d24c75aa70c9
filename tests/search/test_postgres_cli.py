"""The PostgreSQL search engine chosen as a deployment chooses it (``LUUTRU_SEARCH_ENGINE``),
through the real `luutru` commands on an archive on this machine's PostgreSQL: what is sealed
is found, a confidential record is never counted for a public reader, a rebuild keeps it so,
and nothing is written under the home's ``index/`` but the generation's name."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from archive.home import DATABASE_URL_ENV, SEARCH_ENGINE_ENV, ArchiveHome
from archive.repository import Archive
from tests.conftest import run_cli
from tests.ingest import pki


def _search(home: ArchiveHome, *args: str) -> dict[str, object]:
    done = run_cli("search", *args, "--json", home=home)
    assert done.returncode == 0, done.stderr
    found: dict[str, object] = json.loads(done.stdout)
    return found


def test_search_on_postgresql_full_text_end_to_end(
    postgres_database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(DATABASE_URL_ENV, postgres_database)
    monkeypatch.setenv(SEARCH_ENGINE_ENV, "postgres")
    home = ArchiveHome(tmp_path / "home")
    Archive.initialise(home)
    inputs = {level: tmp_path / level for level in ("public", "confidential")}
    for level, folder in inputs.items():
        folder.mkdir()
        text = f"Cong van ve viec chuyen doi so {level}"
        (folder / f"{level}.pdf").write_bytes(pki.make_pdf(text))
        done = run_cli("ingest", str(folder), "--json", "--access", level, home=home)
        assert done.returncode == 0, done.stderr

    everything = _search(home, "chuyển đổi số")
    assert everything["total"] == 2
    public = _search(home, "chuyen doi so", "--clearance", "public")
    assert public["total"] == 1
    assert "confidential" not in json.dumps(public)

    assert run_cli("reindex", home=home).returncode == 0
    assert _search(home, "chuyen doi so", "--clearance", "public")["total"] == 1
    assert _search(home, "chuyen doi so")["total"] == 2
    # The index is in the database: its generation folders hold nothing.
    generations = list(home.index_dir.glob("postgres-v*"))
    assert generations and not [p for g in generations for p in g.rglob("*") if p.is_file()]
    assert run_cli("verify", home=home).returncode == 0
