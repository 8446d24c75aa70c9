"""Search engines by name (``search_engine`` in luutru.toml or ``LUUTRU_SEARCH_ENGINE``), and
where their index lives: generations under the archive home's ``index/``.

An index is a cache, rebuilt beside the one in use and swapped in when complete: ``CURRENT``
names the generation readers open (``<engine>-v<schema>-<n>``), written atomically. A rebuild
that is killed leaves a ``.building`` generation that the next rebuild resumes, never an
empty index in use. A generation of another engine or schema version is never opened: it is
rebuilt. Readers notice a new ``CURRENT`` and reopen (``GenerationWatch``).
"""

from __future__ import annotations

import fcntl
import importlib
import os
import re
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from archive.errors import ConfigError
from archive.fsutil import atomic_write_bytes
from search.contracts import SearchIndex
from search.tantivy_index import SCHEMA_VERSION as TANTIVY_SCHEMA
from search.tantivy_index import TantivyIndex


@dataclass(frozen=True)
class Engine:
    """A search engine: its name, its schema version, and how to open its index in a
    generation folder (an engine that keeps its index in the database uses the folder only
    to name the generation)."""

    name: str
    schema_version: str
    open: Callable[[Path], SearchIndex]


def _whoosh(_database_url: str) -> Engine:
    # Imported only when chosen: Whoosh is an option, and slow to import.
    module = importlib.import_module("search.whoosh_index")
    return Engine("whoosh", module.SCHEMA_VERSION, module.WhooshIndex)


def _postgres(database_url: str) -> Engine:
    module = importlib.import_module("search.postgres_index")
    return Engine(
        "postgres",
        module.SCHEMA_VERSION,
        lambda directory: module.PostgresIndex(directory, database_url),
    )


ENGINES: dict[str, Callable[[str], Engine]] = {
    "tantivy": lambda _url: Engine("tantivy", TANTIVY_SCHEMA, TantivyIndex),
    "whoosh": _whoosh,
    "postgres": _postgres,
}
CURRENT = "CURRENT"
BUILDING = ".building"
LOCK_FILE = ".rebuild.lock"


def engine(name: str, database_url: str = "") -> Engine:
    """The engine called ``name``; ``database_url`` is the archive's database (the PostgreSQL
    engine keeps its index there)."""
    try:
        factory = ENGINES[name]
    except KeyError:
        known = ", ".join(sorted(ENGINES))
        raise ConfigError(f"unknown search engine {name!r} (known: {known})") from None
    try:
        return factory(database_url)
    except ImportError as exc:
        raise ConfigError(
            f"search engine {name!r} is not installed ({exc}); for Whoosh: "
            "pip install 'luutru[whoosh]'"
        ) from None


def _prefix(chosen: Engine) -> str:
    return f"{chosen.name}-v{chosen.schema_version}-"


def current_generation(directory: Path, chosen: Engine) -> Path | None:
    """The generation readers use, if it is one of ``chosen`` at its schema version."""
    name = _current_name(directory)
    if name is None:
        return None
    if not name.startswith(_prefix(chosen)) or "/" in name or not (directory / name).is_dir():
        return None
    return directory / name


def open_current(directory: Path, chosen: Engine) -> SearchIndex | None:
    """The index in use, or None when there is none to use (missing, another engine or
    schema): the caller rebuilds it."""
    generation = current_generation(directory, chosen)
    return None if generation is None else chosen.open(generation)


def building_generation(directory: Path, chosen: Engine) -> Path:
    """The generation a rebuild writes into: an unfinished one of an earlier rebuild (which
    is resumed), else a new one."""
    directory.mkdir(parents=True, exist_ok=True)
    unfinished = sorted(directory.glob(f"{_prefix(chosen)}*{BUILDING}"))
    if unfinished:
        return unfinished[-1]
    numbers = [
        int(found.group(1))
        for path in directory.iterdir()
        if (found := re.match(re.escape(_prefix(chosen)) + r"(\d+)", path.name))
    ]
    return directory / f"{_prefix(chosen)}{max(numbers, default=0) + 1}{BUILDING}"


def publish(directory: Path, building: Path) -> Path:
    """Make a finished generation the one in use. The one it replaces is kept until the next
    publish (a process still writing to it must not find it gone; what it writes there is
    caught up into the new one); older ones are removed."""
    final = building.with_name(building.name.removesuffix(BUILDING))
    previous = _current_name(directory)
    building.rename(final)
    atomic_write_bytes(directory / CURRENT, final.name.encode("utf-8") + b"\n")
    for old in directory.iterdir():
        # Unfinished rebuilds stay, to be resumed.
        if (
            old.is_dir()
            and old.name not in (final.name, previous)
            and not old.name.endswith(BUILDING)
        ):
            shutil.rmtree(old, ignore_errors=True)
    return final


def _current_name(directory: Path) -> str | None:
    try:
        return (directory / CURRENT).read_text(encoding="utf-8").strip() or None
    except OSError:
        return None


@contextmanager
def rebuild_lock(directory: Path) -> Iterator[None]:
    """One rebuild at a time per index folder, across processes (two ingests that both find
    no index must not both build one)."""
    directory.mkdir(parents=True, exist_ok=True)
    fd = os.open(directory / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


class GenerationWatch:
    """Tells a long-lived reader (``serve``) when ``CURRENT`` names another generation."""

    def __init__(self, directory: Path, chosen: Engine) -> None:
        self.directory = directory
        self.engine = chosen
        self.seen = current_generation(directory, chosen)

    def changed(self) -> bool:
        now = current_generation(self.directory, self.engine)
        if now != self.seen:
            self.seen = now
            return True
        return False
