"""Names of issuing bodies and places, to put back the marks OCR drops from them.

tesseract reads bold capitals with their diacritics lost more often than any other text of a
page ("BO THONG TIN VÀ TRUYEN THONG", "THÀNH PHO CAN THƠ"), and the issuer (cơ quan ban
hành) is set in bold capitals (Decree 30/2020/NĐ-CP, Appendix I). A run of words that matches
a known name when marks are ignored is written as the name is listed. A word read without any
mark that stands beside a neighbour as the two stand in exactly one way in a listed name
("PHÁT TRIEN" → "PHÁT TRIỂN", "VAN THƯ" → "VĂN THƯ"; a lone "TAN" is left) gets the marks
of that way. Anything else is left as read, so an
unknown body is never "corrected" into another.

The names are data: ``agency_names.txt`` here, plus an archive's own ``agencies.txt``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import lru_cache
from itertools import pairwise
from pathlib import Path

from archive.text import fold, normalize

AGENCY_NAMES_FILE = Path(__file__).with_name("agency_names.txt")
# Provinces and centrally run cities before the 2025 merger, as older records name them.
PROVINCES = [
    "An Giang", "Bà Rịa - Vũng Tàu", "Bạc Liêu", "Bắc Giang", "Bắc Kạn", "Bắc Ninh",
    "Bến Tre", "Bình Dương", "Bình Định", "Bình Phước", "Bình Thuận", "Cà Mau", "Cao Bằng",
    "Cần Thơ", "Đà Nẵng", "Đắk Lắk", "Đắk Nông", "Điện Biên", "Đồng Nai", "Đồng Tháp",
    "Gia Lai", "Hà Giang", "Hà Nam", "Hà Nội", "Hà Tĩnh", "Hải Dương", "Hải Phòng",
    "Hậu Giang", "Hòa Bình", "Hưng Yên", "Khánh Hòa", "Kiên Giang", "Kon Tum", "Lai Châu",
    "Lạng Sơn", "Lào Cai", "Lâm Đồng", "Long An", "Nam Định", "Nghệ An", "Ninh Bình",
    "Ninh Thuận", "Phú Thọ", "Phú Yên", "Quảng Bình", "Quảng Nam", "Quảng Ngãi",
    "Quảng Ninh", "Quảng Trị", "Sóc Trăng", "Sơn La", "Tây Ninh", "Thái Bình", "Thái Nguyên",
    "Thanh Hóa", "Thừa Thiên Huế", "Huế", "Tiền Giang", "Thành phố Hồ Chí Minh", "Trà Vinh",
    "Tuyên Quang", "Vĩnh Long", "Vĩnh Phúc", "Yên Bái",
]  # fmt: skip
_CITIES = {"Cần Thơ", "Đà Nẵng", "Hà Nội", "Hải Phòng", "Huế", "Thành phố Hồ Chí Minh"}
# Words of the administrative hierarchy that stand before a local name ("HUYỆN LƯƠNG SƠN"),
# each the only reading of its unmarked form in an issuer's line.
LEVEL_WORDS = [
    "TỈNH", "THÀNH PHỐ", "HUYỆN", "QUẬN", "THỊ XÃ", "XÃ", "PHƯỜNG", "THỊ TRẤN",
    "UBND", "HĐND", "ỦY BAN NHÂN DÂN", "HỘI ĐỒNG NHÂN DÂN", "SỞ", "BỘ", "CỤC", "VỤ",
    "PHÒNG", "VĂN PHÒNG", "TRUNG TÂM", "CHI CỤC", "TỔNG CỤC",
]  # fmt: skip


def _key(word: str) -> str:
    return fold(word).lower().strip(".,:;")


def _province_forms(province: str) -> list[str]:
    name = province.upper()
    if name.startswith("THÀNH PHỐ "):
        return [name, f"UBND {name}", f"ỦY BAN NHÂN DÂN {name}", f"HĐND {name}"]
    levels = ["THÀNH PHỐ", "TỈNH"] if province in _CITIES else ["TỈNH"]
    forms = [name]
    for level in levels:
        forms += [f"{level} {name}", f"UBND {level} {name}", f"ỦY BAN NHÂN DÂN {level} {name}"]
        forms.append(f"HĐND {level} {name}")
    return forms


def read_names(path: Path) -> list[str]:
    """The names of a list file: one per line, ``#`` starts a comment line."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return [normalize(line.strip()) for line in lines if line.strip() and not line.startswith("#")]


class NameBook:
    """Known names, looked up by their words with marks and case ignored."""

    def __init__(self, names: Iterable[str]) -> None:
        self._phrases: dict[tuple[str, ...], tuple[str, ...] | None] = {}
        self._pairs: dict[tuple[str, str], set[tuple[str, str]]] = {}
        # Every listed word by its key, as it is written ("nuoc" -> {"NƯỚC"}).
        self._forms: dict[str, set[str]] = {}
        self.longest = 1
        for name in names:
            words = tuple(normalize(name).split())
            key = tuple(_key(w) for w in words)
            if not key:
                continue
            previous = self._phrases.get(key, words)
            # Two names that differ in their marks only are ambiguous: neither is chosen.
            self._phrases[key] = words if previous == words else None
            self.longest = max(self.longest, len(key))
            bare = [w.upper().rstrip(".,:;") for w in words]
            for keys, pair in zip(pairwise(key), pairwise(bare), strict=True):
                self._pairs.setdefault(keys, set()).add(pair)
            for word_key, form in zip(key, bare, strict=True):
                self._forms.setdefault(word_key, set()).add(form)

    def _restore_word(self, words: list[str], keys: list[str], i: int) -> str:
        """Word ``i``, read in capitals without marks, given the marks it has beside its
        neighbours in the one listed name that has them so; a word with marks is as OCR read
        it, right or wrong."""
        word = words[i]
        bare = word.rstrip(".,:;")
        if not bare.isascii() or not bare.isupper():
            return word
        forms = set()
        if i > 0:
            forms |= {second for _, second in self._pairs.get((keys[i - 1], keys[i]), ())}
        if i + 1 < len(words):
            forms |= {first for first, _ in self._pairs.get((keys[i], keys[i + 1]), ())}
        if len(forms) != 1:
            return word
        return next(iter(forms)) + word[len(bare) :]

    def restore(self, text: str) -> str:
        """``text`` with each longest run of words that names a known body written as listed."""
        words = normalize(text).split()
        keys = [_key(w) for w in words]
        out: list[str] = []
        i = 0
        while i < len(words):
            for length in range(min(self.longest, len(words) - i), 0, -1):
                known = self._phrases.get(tuple(keys[i : i + length]))
                if known is not None:
                    out.extend(_keep_punctuation(words[i : i + length], known))
                    i += length
                    break
            else:
                out.append(self._restore_word(words, keys, i))
                i += 1
        return " ".join(out)

    def unglue(self, text: str) -> str:
        """``text`` with each word that OCR glued to its neighbour ("TRỮNHÀ", the two
        columns of a header run together) split where it is two listed words, when there is
        exactly one such place; a word that is listed, or splits no way or two, is left."""
        out: list[str] = []
        for word in normalize(text).split():
            key = _key(word)
            if key in self._forms or len(key) < 4:
                out.append(word)
                continue
            cuts = [
                i
                for i in range(2, len(word) - 1)
                if _key(word[:i]) in self._forms and _key(word[i:]) in self._forms
            ]
            out.extend([word[: cuts[0]], word[cuts[0] :]] if len(cuts) == 1 else [word])
        return " ".join(out)

    def unmarked(self, text: str) -> list[str]:
        """Words of ``text`` in capitals without any mark that every listed name writes with
        marks ("NUOC", listed only as "NƯỚC"): OCR lost their marks, and ``restore`` could
        not tell which they are, so the text is not what the page says."""
        lost = []
        for word in normalize(text).split():
            bare = word.rstrip(".,:;")
            forms = self._forms.get(_key(word), set())
            in_capitals = bare.isascii() and bare.isalpha() and bare.isupper()
            if in_capitals and forms and not any(form.isascii() for form in forms):
                lost.append(bare)
        return lost


def _keep_punctuation(read: Sequence[str], known: Sequence[str]) -> list[str]:
    """The known words, with the trailing punctuation the page had (a comma stays)."""
    restored = []
    for as_read, listed in zip(read, known, strict=True):
        tail = as_read[len(as_read.rstrip(".,:;")) :]
        restored.append(listed.rstrip(".,:;") + tail)
    return restored


@lru_cache(maxsize=8)
def name_book(extra: tuple[str, ...] = ()) -> NameBook:
    """The built-in names (agencies, provinces in every printed form, level words) + ``extra``."""
    names = read_names(AGENCY_NAMES_FILE) + LEVEL_WORDS
    for province in PROVINCES:
        names += _province_forms(province)
    return NameBook([*names, *extra])


_PLACES = {" ".join(_key(w) for w in name.split()): name for name in PROVINCES}


def known_place(place: str) -> str:
    """``place`` as the province it names when OCR lost a mark of it, else as read."""
    return _PLACES.get(" ".join(_key(w) for w in normalize(place).split()), place)
