"""The README's "Using it" block, run as written in a fresh clone: it must work, and leave
nothing for git to see (no archive, key or scan inside the source tree)."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MARKER = "<!-- This block is run as written, in a fresh clone, by tests/test_readme.py. -->"


def _using_it_block() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(re.escape(MARKER) + r"\n```sh\n(.*?)```", readme, re.DOTALL)
    assert match, "README.md lost its tested 'Using it' block"
    return match.group(1)


@pytest.mark.slow
def test_the_readme_block_runs_in_a_fresh_clone_and_leaves_git_status_clean(
    tmp_path: Path,
) -> None:
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    # `make demo` made .venv; here it is this test run's interpreter, running the clone's code.
    bin_dir = clone / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    for name, target in (("python", sys.executable), ("luutru", sys.executable)):
        extra = ' -m api.cli "$@"' if name == "luutru" else ' "$@"'
        (bin_dir / name).write_text(f'#!/bin/sh\nexec "{target}"{extra}\n')
        (bin_dir / name).chmod(0o755)
    env = {k: v for k, v in os.environ.items() if k != "LUUTRU_HOME"}
    env.update(PYTHONPATH=str(clone), COLUMNS="160")
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", _using_it_block()],
        cwd=clone,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 record(s) for 'quyet dinh chuyen doi so'" in done.stdout  # the TIFF's page 2 too
    assert "intact" in done.stdout and "0 quarantined input(s)" in done.stdout
    assert (clone / "luutru-data" / "keys").is_dir()
    status = subprocess.run(
        ["git", "status", "--porcelain", "--ignored=no"], cwd=clone, capture_output=True, text=True
    )
    assert status.stdout == "", status.stdout
