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
from datetime import date
from enum import StrEnum
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


class Action(StrEnum):
    DESTROY = "destroy"
    TRANSFER = "transfer"
    REVIEW = "review"


@dataclass(frozen=True)
class SeriesRule:
    code: str
    title: str
    period: RetentionPeriod
    basis: str
    action: Action = Action.REVIEW
    # For a permanent series handed to the historical archive: when, after closing.
    transfer_after: RetentionPeriod | None = None

    def due_date(self, closed_year: int) -> date | None:
        """The 1 January on which a file closed in ``closed_year`` falls due for this
        series' action; None when it never does by itself (permanent, or "review")."""
        period = self.transfer_after if self.period.permanent else self.period
        if self.action is Action.REVIEW and self.period.permanent:
            return None
        if period is None or period.permanent:
            return None
        year = period.review_year(closed_year)
        return None if year is None else date(year, 1, 1)

    def as_json(self) -> dict[str, object]:
        return {
            "code": self.code,
            "title": self.title,
            "years": self.period.years,
            "action": self.action.value,
            "transfer_after": self.transfer_after.years if self.transfer_after else None,
            "basis": self.basis,
        }


def load_schedule(path: Path = DEFAULT_SCHEDULE) -> dict[str, SeriesRule]:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    rules: dict[str, SeriesRule] = {}
    for entry in raw.get("series", []):
        try:
            code = str(entry["code"])
            rule = _rule(entry)
        except KeyError as exc:
            raise ConfigError(f"{path}: a series lacks {exc}") from exc
        except ConfigError as exc:
            raise ConfigError(f"{path}: series {entry.get('code')!r}: {exc}") from exc
        if code in rules:
            raise ConfigError(f"{path}: series {code!r} appears twice")
        rules[code] = rule
    return rules


def _rule(entry: dict[str, object]) -> SeriesRule:
    period = RetentionPeriod.parse(str(entry["period"]))
    action_text = str(entry.get("action", "review"))
    try:
        action = Action(action_text)
    except ValueError:
        raise ConfigError(
            f"action {action_text!r} is not one of destroy, transfer, review"
        ) from None
    if period.permanent and action is Action.DESTROY:
        raise ConfigError("a permanent (Vĩnh viễn) series is never destroyed")
    after = entry.get("transfer_after")
    transfer_after = RetentionPeriod.parse(str(after)) if after is not None else None
    if transfer_after is not None and (not period.permanent or action is not Action.TRANSFER):
        raise ConfigError("transfer_after is for a permanent series whose action is transfer")
    return SeriesRule(
        str(entry["code"]), str(entry["title"]), period, str(entry.get("basis", "")),
        action, transfer_after,
    )  # fmt: skip


def schedule_text(rules: dict[str, SeriesRule]) -> str:
    """The schedule as TOML, the form the archivist edits (``schedule.toml``)."""
    lines = [
        "# Retention schedule of this archive (luutru retention schedule --load wrote it).",
        "",
    ]
    for rule in rules.values():
        lines += ["[[series]]", f"code = {_toml(rule.code)}", f"title = {_toml(rule.title)}"]
        lines += [f"period = {_toml(str(rule.period))}", f"action = {_toml(rule.action.value)}"]
        if rule.transfer_after is not None:
            lines.append(f"transfer_after = {_toml(str(rule.transfer_after))}")
        lines += [f"basis = {_toml(rule.basis)}", ""]
    return "\n".join(lines)


def _toml(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
