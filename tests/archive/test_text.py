import pytest

from archive.text import fold, normalize

FOLD_CASES = [
    ("chính phủ", "chinh phu"),
    ("QUYẾT ĐỊNH", "QUYET DINH"),
    ("quyết định", "quyet dinh"),
    ("Ðộc lập", "Doc lap"),  # U+00D0 eth, as OCR and TCVN3 conversions produce it
    ("đường", "duong"),
    ("Hòa Bình", "Hoa Binh"),
    ("1482/QĐ-UBND", "1482/QD-UBND"),
    ("plain ascii 123", "plain ascii 123"),
]


@pytest.mark.parametrize(("text", "expected"), FOLD_CASES)
def test_fold(text: str, expected: str) -> None:
    assert fold(text) == expected


def test_fold_keeps_length_of_normalized_text_even_for_decomposed_input() -> None:
    decomposed = "quye\u0302\u0301t đi\u0323nh"  # NFD: base letters plus combining marks
    assert normalize(decomposed) == "quyết định"
    assert len(fold(decomposed)) == len(normalize(decomposed))


def test_normalize_maps_eth_to_dje_and_composes() -> None:
    assert normalize("Ð\u00f0") == "Đđ"
    assert normalize("A\u0300") == "À"
