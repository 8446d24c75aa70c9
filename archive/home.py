"""The archive home: one directory that holds everything of one archive.

luutru.toml   settings (database URL, search engine, anonymous clearance, ingest limits)
luutru.db     the SQLite database (unless database_url points elsewhere)
blobs/        content-addressed originals, texts and manifests
index/        the search index: a cache, rebuildable from the archive
keys/         the archive's Ed25519 key pair (private key 0600)
quarantine/   copies of rejected inputs with the reason beside them
"""

from __future__ import annotations

import grp
import os
import subprocess
import tomllib
from dataclasses import dataclass
from pathlib import Path

from archive.errors import ArchiveHomeMissing, ConfigError, UsageError
from archive.fsutil import atomic_write_bytes
from archive.models import AccessLevel

CONFIG_FILE = "luutru.toml"
DEFAULT_HOME = Path("luutru-data")
HOME_ENV = "LUUTRU_HOME"
DATABASE_URL_ENV = "LUUTRU_DATABASE_URL"
SEARCH_ENGINE_ENV = "LUUTRU_SEARCH_ENGINE"
BROKER_URL_ENV = "LUUTRU_BROKER_URL"
# Where the signing keys are, when not in the home's keys/: a sealing machine keeps them on
# its own disk, outside the home it shares with OCR workers.
KEYS_DIR_ENV = "LUUTRU_KEYS_DIR"


# The ``[ingest]`` table: what one input may cost (``ingest.limits``), in the units a person
# checks a scan by; each key is a whole number above 0, with its upper bound. Absent keys
# keep ingest's defaults.
INGEST_LIMITS = {
    "max_input_mb": 64 * 1024,  # one file's size
    "max_pages": 1_000_000,  # pages of one input (an edXML package with its attachments)
    "max_page_megapixels": 10_000,  # one page, as it is decoded
    "max_input_a4_pages": 10_000_000,  # all pages together, in A4 pages at 300 dpi
    "page_timeout_seconds": 86_400,  # one page's OCR
}


@dataclass(frozen=True)
class Settings:
    database_url: str
    search_engine: str
    # What a reader who has not identified himself may see through the API.
    anonymous_clearance: AccessLevel
    # A group that may read the archive (files 0640, folders 0750); None: owner only.
    group: str | None = None
    # The agency keeping the archive and its place, as records of destruction name them.
    agency: str = ""
    place: str = ""
    # The message broker of distributed OCR (redis:// or amqp://), if any.
    broker_url: str = ""
    # ``[ingest]``: the limits set here (keys of ``INGEST_LIMITS``), sorted by key.
    ingest_limits: tuple[tuple[str, int], ...] = ()

    @property
    def group_id(self) -> int | None:
        return None if self.group is None else grp.getgrnam(self.group).gr_gid


@dataclass(frozen=True)
class ArchiveHome:
    root: Path

    @classmethod
    def resolve(cls, explicit: Path | None) -> ArchiveHome:
        """--home, else $LUUTRU_HOME, else ./luutru-data."""
        if explicit is not None:
            if str(explicit) in ("", "."):
                raise UsageError(
                    "--home is empty or '.': name the archive's folder (is a variable unset?)"
                )
            return cls(explicit.expanduser().absolute())
        from_env = os.environ.get(HOME_ENV)
        if from_env:
            return cls(Path(from_env).expanduser().absolute())
        return cls(DEFAULT_HOME.absolute())

    @property
    def config_path(self) -> Path:
        return self.root / CONFIG_FILE

    @property
    def blobs_dir(self) -> Path:
        return self.root / "blobs"

    @property
    def index_dir(self) -> Path:
        return self.root / "index"

    @property
    def keys_dir(self) -> Path:
        elsewhere = os.environ.get(KEYS_DIR_ENV)
        return Path(elsewhere).expanduser().absolute() if elsewhere else self.root / "keys"

    @property
    def quarantine_dir(self) -> Path:
        return self.root / "quarantine"

    def exists(self) -> bool:
        return self.config_path.is_file()

    def require(self) -> None:
        if not self.exists():
            raise ArchiveHomeMissing(
                f"no archive at {self.root} (run 'luutru --home {self.root} init' first)"
            )

    def default_database_url(self) -> str:
        return f"sqlite:///{self.root / 'luutru.db'}"

    def write_default_config(self) -> bool:
        """Write luutru.toml unless present; return whether it was written."""
        if self.config_path.exists():
            return False
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UsageError(f"cannot make the archive home {self.root}: {exc.strerror}") from None
        text = (
            "# luutru archive settings.\n"
            "# Without database_url the database is luutru.db in this directory, so the home\n"
            f"# can be moved as a whole. ${DATABASE_URL_ENV} overrides it.\n"
            '# database_url = "postgresql+psycopg://luutru@127.0.0.1/luutru"\n'
            'search_engine = "tantivy"\n'
            "# Access level an unauthenticated API reader is cleared for: public, internal,\n"
            "# confidential or secret.\n"
            'anonymous_clearance = "public"\n'
            "# The message broker of OCR workers (luutru worker, ingest --distributed);\n"
            f"# ${BROKER_URL_ENV} overrides it.\n"
            '# broker_url = "redis://127.0.0.1:6379/0"\n'
            "# The agency keeping this archive and its place, for the records of destruction:\n"
            '# agency = "ỦY BAN NHÂN DÂN TỈNH HÒA BÌNH"\n'
            '# place = "Hòa Bình"\n'
            "# Everything here is readable by its owner only. To let a group read the archive\n"
            "# (files 0640, folders 0750), name it:\n"
            '# group = "luutru"\n'
            "\n"
            "# What one input may cost the machine; larger inputs are quarantined with the\n"
            "# reason. The defaults fit the largest real sheets (A0 at 200 dpi, A3 at 600):\n"
            "# [ingest]\n"
            "# max_input_mb = 1024           # one file\n"
            "# max_pages = 2000              # one input\n"
            "# max_page_megapixels = 100     # one page as decoded\n"
            "# max_input_a4_pages = 2000     # all its pages, in A4 pages at 300 dpi\n"
            "# page_timeout_seconds = 180    # OCR of one page\n"
        )
        atomic_write_bytes(self.config_path, text.encode("utf-8"))
        return True

    def settings(self) -> Settings:
        self.require()
        try:
            raw = tomllib.loads(self.config_path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"{self.config_path}: {exc}") from exc
        clearance_text = raw.get("anonymous_clearance", "public")
        try:
            clearance = AccessLevel(str(clearance_text).lower())
        except ValueError:
            known = ", ".join(level.value for level in AccessLevel)
            raise ConfigError(
                f"{self.config_path}: anonymous_clearance {clearance_text!r} is not one of {known}"
            ) from None
        url = os.environ.get(DATABASE_URL_ENV) or raw.get("database_url")
        if url is not None and not (isinstance(url, str) and url.strip()):
            raise ConfigError(
                f"{self.config_path}: database_url must be a database URL in quotes, "
                'e.g. "postgresql+psycopg://luutru@127.0.0.1/luutru"'
            )
        group = raw.get("group")
        if group is not None:
            _check_group(self.config_path, group)
        return Settings(
            database_url=url or self.default_database_url(),
            search_engine=os.environ.get(SEARCH_ENGINE_ENV)
            or str(raw.get("search_engine", "tantivy")),
            anonymous_clearance=clearance,
            group=group,
            agency=str(raw.get("agency", "")),
            place=str(raw.get("place", "")),
            broker_url=os.environ.get(BROKER_URL_ENV) or str(raw.get("broker_url", "")),
            ingest_limits=_ingest_limits(self.config_path, raw.get("ingest", {})),
        )

    def unsafe_location(self) -> str | None:
        """Why this home must not be created here, or None.

        A home inside a Python package, or inside a git work tree where git does not ignore
        it, would put the database, the records and the private key among source code, one
        ``git add`` away from being published. A folder that already holds other files is
        someone's, not a new archive's.
        """
        root = self.root.resolve()
        if root.exists() and not root.is_dir():
            return f"{root} is a file, not a folder"
        for folder in (root, *root.parents):
            if (folder / "__init__.py").is_file():
                return f"{root} is inside the Python package {folder}"
        top = _git_work_tree(root)
        if top is not None and not _git_ignores(top, root):
            return f"{root} is inside the git work tree {top}, which does not ignore it"
        if root.is_dir() and any(root.iterdir()):
            return f"{root} already holds other files and is not an archive home"
        return None


def _ingest_limits(config_path: Path, table: object) -> tuple[tuple[str, int], ...]:
    if not isinstance(table, dict):
        raise ConfigError(f"{config_path}: ingest must be a table ([ingest] and its keys)")
    limits = []
    for key, value in sorted(table.items()):
        if key not in INGEST_LIMITS:
            known = ", ".join(INGEST_LIMITS)
            raise ConfigError(f"{config_path}: [ingest] has no setting {key!r} (it has {known})")
        bound = INGEST_LIMITS[key]
        if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= bound:
            raise ConfigError(
                f"{config_path}: [ingest] {key} must be a whole number from 1 to {bound:,}, "
                f"not {value!r}"
            )
        limits.append((key, value))
    return tuple(limits)


def _check_group(config_path: Path, group: object) -> None:
    if not isinstance(group, str):
        raise ConfigError(f"{config_path}: group must be a group name in quotes")
    try:
        grp.getgrnam(group)
    except KeyError:
        raise ConfigError(f"{config_path}: there is no group {group!r} on this machine") from None


def _git(args: list[str], cwd: Path) -> str | None:
    try:
        done = subprocess.run(
            ["git", "-C", str(cwd), *args], capture_output=True, text=True, timeout=30
        )
    except (OSError, subprocess.SubprocessError):
        return None  # no git, no work tree to protect
    return done.stdout if done.returncode == 0 else None


def _git_work_tree(path: Path) -> Path | None:
    existing = next(p for p in (path, *path.parents) if p.is_dir())
    top = _git(["rev-parse", "--show-toplevel"], existing)
    return Path(top.strip()).resolve() if top and top.strip() else None


def _git_ignores(top: Path, path: Path) -> bool:
    """Whether git would leave ``path`` (and so everything in it) out of ``git add``."""
    # A trailing slash: the home is a folder, even before it exists (".gitignore: data/").
    return _git(["check-ignore", "-q", f"{path}/"], top) is not None
