"""What came from outside (OCR text, edXML metadata, file names) is printed as text: a
terminal never obeys an escape sequence in it, rich never reads its brackets as markup."""

from __future__ import annotations

import json
from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from api.cli_common import printable, shown
from archive.home import ArchiveHome
from archive.models import AccessLevel, FileRole
from archive.repository import Archive, Description, IncomingFile, Placement
from tests.conftest import run_cli

HOSTILE_TITLE = "Quyết định \x1b]0;pwned\x07 \x1b[31mđỏ\x1b[0m [bold]đậm[/bold] \u202egpj.exe"
HOSTILE_TEXT = "Nội dung văn bản \x1b[2J\x1b[H xoá màn hình \x9b31m [link=file:///etc]x[/link]"
CONTROLS = [chr(c) for c in (*range(0x00, 0x09), *range(0x0B, 0x20), *range(0x7F, 0xA0))]
CONTROLS += ["\u200e", "\u200f", *map(chr, range(0x202A, 0x202F)), *map(chr, range(0x2066, 0x206A))]


def _seal_hostile(home: ArchiveHome) -> str:
    with Archive.open(home) as archive:
        return archive.seal(
            [
                IncomingFile(FileRole.ORIGINAL, "image/png", "scan.png", data=b"scan bytes"),
                IncomingFile(
                    FileRole.OCR_TEXT,
                    "text/plain; charset=utf-8",
                    "t.txt",
                    data=HOSTILE_TEXT.encode(),
                ),
            ],
            Description(
                title=HOSTILE_TITLE,
                doc_number="12/QĐ-UBND",
                issued_date=date(2021, 3, 4),
                subject="xoá màn hình \x1b[2J",
            ),
            Placement(access=AccessLevel.PUBLIC, series_code="QĐ", closed_year=2021),
            "scan.png",
        ).record_id


def _assert_inert(output: str) -> None:
    for control in CONTROLS:
        assert control not in output, repr(control)


def test_show_and_search_print_escapes_as_text(home: ArchiveHome) -> None:
    assert run_cli("init", home=home).returncode == 0
    record_id = _seal_hostile(home)

    shown_record = run_cli("show", record_id, home=home)
    assert shown_record.returncode == 0, shown_record.stderr
    _assert_inert(shown_record.stdout)
    flat = " ".join(shown_record.stdout.split())
    assert "\\x1b[31m" in flat and "[bold]" in flat and "\\u202e" in flat
    assert "\\x1b[2J" in shown_record.stdout and "[link=file:///etc]x[/link]" in flat

    found = run_cli("search", "xoá màn hình", home=home)
    assert found.returncode == 0, found.stderr
    _assert_inert(found.stdout)
    assert record_id in found.stdout

    # --json is for scripts: the text as archived, escaped by JSON itself.
    as_json = run_cli("show", record_id, "--json", home=home)
    _assert_inert(as_json.stdout)
    assert "\\u001b[31m" in as_json.stdout
    record = json.loads(as_json.stdout)
    assert record["title"] == HOSTILE_TITLE and record["text"] == HOSTILE_TEXT


@given(st.text())
def test_printable_keeps_every_other_character_and_neutralises_controls(text: str) -> None:
    result = printable(text)
    _assert_inert(result.replace("\n", "").replace("\t", ""))
    if not any(c in text for c in CONTROLS):
        assert result == text
    assert result.count("\n") == text.count("\n")


def test_shown_escapes_markup_after_neutralising() -> None:
    assert shown("[red]x[/red]\x1b") == "\\[red]x\\[/red]\\x1b"
