"""Vietnamese text normalisation shared by every part that stores or compares text.

OCR output and old files mix Unicode forms and confuse U+00D0 (Ð, Icelandic eth) with
U+0110 (Đ); see docs/RECORDS.md, "Reading an administrative document".
"""

from __future__ import annotations

import os
import unicodedata
from pathlib import PurePath

# U+00D0/U+00F0 look like Đ/đ and appear in OCR output and legacy TCVN3 conversions.
_ETH_TO_DJE = str.maketrans({"\u00d0": "\u0110", "\u00f0": "\u0111"})
_DJE_TO_D = str.maketrans({"\u0110": "D", "\u0111": "d"})


def normalize(text: str) -> str:
    """NFC, with eth folded onto đ, so equal Vietnamese words have equal code points."""
    return unicodedata.normalize("NFC", text).translate(_ETH_TO_DJE)


def _fold_char(char: str) -> str:
    base = unicodedata.normalize("NFD", char)[0]
    return base.translate(_DJE_TO_D)


def fold(text: str) -> str:
    """Strip diacritics (``chính phủ`` -> ``chinh phu``, ``đ`` -> ``d``).

    Works character by character on normalised text, so ``fold(s)`` has exactly the length of
    ``normalize(s)`` and positions found in the folded text point at the same place in the
    original. Snippets rely on that.
    """
    return "".join(_fold_char(c) for c in normalize(text))


def path_text(path: PurePath | str) -> str:
    """A file name or path as text that can be stored and shown.

    Names from old TCVN3/VNI shares may not be UTF-8 (Python carries their bytes as lone
    surrogates, which no database or terminal accepts); those bytes appear as ``\\xea``
    escapes. The text is NFC. ``path_bytes_hex`` keeps the exact bytes when this is not them.
    """
    return normalize(os.fsencode(path).decode("utf-8", "backslashreplace"))


def path_bytes_hex(path: PurePath | str) -> str | None:
    """The name's bytes as hex when ``path_text`` cannot give them back exactly, else None."""
    raw = os.fsencode(path)
    return None if path_text(path).encode("utf-8") == raw else raw.hex()
