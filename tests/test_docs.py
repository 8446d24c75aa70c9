"""Documentation that is checked, so it cannot drift from the code."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_cli_reference_matches_the_commands_help() -> None:
    result = subprocess.run(
        [sys.executable, "scripts/cli_reference.py", "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr


def test_readme_gives_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "make demo" in readme and "make test" in readme


def test_the_docs_need_nothing_outside_the_clone() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "../shared" not in readme
    for link in ("docs/RECORDS.md", "docs/ARCHITECTURE.md", "docs/CLI.md"):
        assert f"]({link})" in readme and (ROOT / link).is_file(), link


def test_the_records_rules_list_the_shipped_schedule() -> None:
    from retention.schedule import load_schedule

    rules = (ROOT / "docs" / "RECORDS.md").read_text(encoding="utf-8")
    for code, rule in load_schedule().items():
        rows = [line for line in rules.splitlines() if line.startswith(f"| {code} |")]
        assert any(rule.title in row and str(rule.period) in row for row in rows), code
