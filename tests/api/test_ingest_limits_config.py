"""The ``[ingest]`` table of luutru.toml sets what one input may cost; a wrong setting is
refused with the file, the key and the reason, before anything is read."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

from archive.home import INGEST_LIMITS, ArchiveHome
from ingest.contracts import IngestSettings, with_limits
from tests.conftest import run_cli


def _home(tmp_path: Path, table: str) -> ArchiveHome:
    home = ArchiveHome(tmp_path / "home")
    assert run_cli("init", home=home).returncode == 0
    home.config_path.write_text(home.config_path.read_text() + f"\n[ingest]\n{table}\n")
    return home


def _two_page_tiff(tmp_path: Path) -> Path:
    path = tmp_path / "two-pages.tiff"
    pages = [Image.new("L", (1200, 1100), 255) for _ in range(2)]
    pages[0].save(path, save_all=True, append_images=pages[1:], dpi=(100, 100))
    return path


def test_a_page_limit_set_in_the_archive_quarantines_a_longer_input(tmp_path: Path) -> None:
    home = _home(tmp_path, "max_pages = 1")
    scan = _two_page_tiff(tmp_path)
    ingest = run_cli("ingest", str(scan), "--json", home=home)
    [row] = [json.loads(line) for line in ingest.stdout.splitlines() if line.startswith("{")]
    assert row["status"] == "quarantined", row
    assert "2 pages, over the limit of 1" in row["reason"]
    assert scan.read_bytes()[:2] in (b"II", b"MM")  # the original is untouched


def test_a_pixel_limit_in_megapixels(tmp_path: Path) -> None:
    home = _home(tmp_path, "max_page_megapixels = 1")
    ingest = run_cli("ingest", str(_two_page_tiff(tmp_path)), "--json", home=home)
    [row] = [json.loads(line) for line in ingest.stdout.splitlines() if line.startswith("{")]
    assert row["status"] == "quarantined" and "over the limit of 1.0 megapixels" in row["reason"]


@pytest.mark.parametrize(
    ("table", "said"),
    [
        ("max_page = 3", "[ingest] has no setting 'max_page'"),
        ("max_pages = 0", "[ingest] max_pages must be a whole number from 1 to"),
        ('max_pages = "10"', "not '10'"),
        ("max_pages = true", "not True"),
        ("max_input_mb = 1.5", "not 1.5"),
    ],
)
def test_a_wrong_ingest_setting_is_refused_naming_it(tmp_path: Path, table: str, said: str) -> None:
    home = _home(tmp_path, table)
    result = run_cli("ingest", str(tmp_path), home=home)
    assert result.returncode == 7, result.stderr
    assert str(home.config_path) in result.stderr and said in result.stderr
    assert "Traceback" not in result.stderr


def test_the_commented_defaults_init_writes_are_ingests_own(tmp_path: Path) -> None:
    """The example table in a new luutru.toml, uncommented, changes nothing: its numbers and
    units are those of ``IngestSettings``."""
    home = ArchiveHome(tmp_path / "home")
    assert run_cli("init", home=home).returncode == 0
    text = home.config_path.read_text()
    start = text.index("# [ingest]")
    example = "\n".join(line.removeprefix("# ") for line in text[start:].splitlines())
    home.config_path.write_text(text[:start] + example + "\n")
    configured = dict(home.settings().ingest_limits)
    assert set(configured) == set(INGEST_LIMITS)
    assert with_limits(IngestSettings(), configured) == IngestSettings()
