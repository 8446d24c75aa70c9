"""Search engines by name; ``search_engine`` in luutru.toml picks one."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from archive.errors import ConfigError
from search.contracts import SearchIndex
from search.tantivy_index import TantivyIndex

ENGINES: dict[str, Callable[[Path], SearchIndex]] = {TantivyIndex.name: TantivyIndex}


def open_index(engine: str, directory: Path) -> SearchIndex:
    try:
        factory = ENGINES[engine]
    except KeyError:
        known = ", ".join(sorted(ENGINES))
        raise ConfigError(f"unknown search engine {engine!r} (known: {known})") from None
    return factory(directory)
