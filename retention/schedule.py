"""Retention schedules: how long each record series is kept (Circular 10/2022/TT-BNV).

A period is "Vĩnh viễn" (permanent) or a number of years counted from the year the file
(hồ sơ) was closed: a file closed in 2019 and kept 10 years is due for review on 1 January
2030. The schedule is data (``default_schedule.toml``), which the archivist edits; code only
reads it.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from archive.errors import ConfigError
from archive.text import fold

DEFAULT_SCHEDULE = Path(__file__).parent / "default_schedule.toml"
_PERMANENT = {"vinh vien", "permanent"}
_YEARS = re.compile(r"^(\d{1,3})\s*(nam|years?)?$")


@dataclass(frozen=True)
class RetentionPeriod:
    years: int | None  # None: permanent

    @property
    def permanent(self) -> bool:
        return self.years is None

    @classmethod
    def parse(cls, text: str) -> RetentionPeriod:
        """'Vĩnh viễn', 'vinh vien', 'permanent', '10', '10 năm', '10 years'."""
        key = " ".join(fold(text).lower().split())
        if key in _PERMANENT:
            return cls(None)
        match = _YEARS.match(key)
        if match is None or int(match.group(1)) == 0:
            raise ConfigError(f"not a retention period: {text!r} (say 'Vĩnh viễn' or 'N năm')")
        return cls(int(match.group(1)))

    def review_year(self, closed_year: int) -> int | None:
        """The year on whose 1 January the file is due for review; None when permanent."""
        return None if self.years is None else closed_year + self.years + 1

    def __str__(self) -> str:
        return "Vĩnh viễn" if self.years is None else f"{self.years} năm"


@dataclass(frozen=True)
class SeriesRule:
    code: str
    title: str
    period: RetentionPeriod
    basis: str


def load_schedule(path: Path = DEFAULT_SCHEDULE) -> dict[str, SeriesRule]:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    rules: dict[str, SeriesRule] = {}
    for entry in raw.get("series", []):
        try:
            code = str(entry["code"])
            rule = SeriesRule(
                code,
                str(entry["title"]),
                RetentionPeriod.parse(str(entry["period"])),
                str(entry.get("basis", "")),
            )
        except KeyError as exc:
            raise ConfigError(f"{path}: a series lacks {exc}") from exc
        if code in rules:
            raise ConfigError(f"{path}: series {code!r} appears twice")
        rules[code] = rule
    return rules
