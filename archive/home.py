"""The archive home: one directory that holds everything of one archive.

luutru.toml   settings (database URL, search engine, anonymous clearance)
luutru.db     the SQLite database (unless database_url points elsewhere)
blobs/        content-addressed originals, texts and manifests
index/        the search index: a cache, rebuildable from the archive
keys/         the archive's Ed25519 key pair (private key 0600)
quarantine/   copies of rejected inputs with the reason beside them
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

from archive.errors import ArchiveHomeMissing, ConfigError
from archive.fsutil import atomic_write_bytes
from archive.models import AccessLevel

CONFIG_FILE = "luutru.toml"
DEFAULT_HOME = Path("luutru-data")
HOME_ENV = "LUUTRU_HOME"
DATABASE_URL_ENV = "LUUTRU_DATABASE_URL"


@dataclass(frozen=True)
class Settings:
    database_url: str
    search_engine: str
    # What a reader who has not identified himself may see through the API.
    anonymous_clearance: AccessLevel


@dataclass(frozen=True)
class ArchiveHome:
    root: Path

    @classmethod
    def resolve(cls, explicit: Path | None) -> ArchiveHome:
        """--home, else $LUUTRU_HOME, else ./luutru-data."""
        if explicit is not None:
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
        return self.root / "keys"

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
        self.root.mkdir(parents=True, exist_ok=True)
        text = (
            "# luutru archive settings.\n"
            "# Without database_url the database is luutru.db in this directory, so the home\n"
            f"# can be moved as a whole. ${DATABASE_URL_ENV} overrides it.\n"
            '# database_url = "postgresql+psycopg://luutru@127.0.0.1/luutru"\n'
            'search_engine = "tantivy"\n'
            "# Access level an unauthenticated API reader is cleared for: public, internal,\n"
            "# confidential or secret.\n"
            'anonymous_clearance = "public"\n'
        )
        atomic_write_bytes(self.config_path, text.encode("utf-8"))
        return True

    def settings(self) -> Settings:
        self.require()
        try:
            raw = tomllib.loads(self.config_path.read_text(encoding="utf-8"))
            clearance = AccessLevel(raw.get("anonymous_clearance", "public"))
        except (OSError, tomllib.TOMLDecodeError, ValueError) as exc:
            raise ConfigError(f"{self.config_path}: {exc}") from exc
        url = os.environ.get(DATABASE_URL_ENV) or raw.get("database_url")
        return Settings(
            database_url=url or self.default_database_url(),
            search_engine=str(raw.get("search_engine", "tantivy")),
            anonymous_clearance=clearance,
        )
