"""How a doc-type filter reads what was typed (``search.query.doc_type_term``)."""

import pytest

from archive.text import fold
from ingest.metadata import TYPE_NAMES
from search.query import PLAIN_TYPES_WITH_A_TWIN, doc_type_matches


def test_the_plain_types_with_a_twin_are_decree_30_s() -> None:
    abbreviations = {abbreviation for _name, abbreviation in TYPE_NAMES.values()}
    plain = {a.lower() for a in abbreviations if fold(a) == a}
    twins = {a for a in plain if any(fold(b).lower() == a != b.lower() for b in abbreviations)}
    assert twins == PLAIN_TYPES_WITH_A_TWIN


@pytest.mark.parametrize(
    ("typed", "doc_type", "kept"),
    [
        ("QĐ", "QĐ", True), ("qđ", "QĐ", True), ("QD", "QĐ", True), ("qd", "QĐ", True),
        ("QÐ", "QĐ", True),  # Icelandic eth, as OCR gives it
        ("nd", "NĐ", True), ("QyD", "QyĐ", True), ("cv", "CV", True), ("QĐ", "QD", False),
        ("HD", "HD", True), ("hd", "HĐ", False), ("HĐ", "HĐ", True), ("HĐ", "HD", False),
        ("DA", "ĐA", False), ("đa", "ĐA", True), ("BC", "QĐ", False),
    ],
)  # fmt: skip
def test_a_type_typed_without_diacritics_keeps_every_type_spelled_so(
    typed: str, doc_type: str, kept: bool
) -> None:
    assert doc_type_matches(typed, doc_type) is kept
