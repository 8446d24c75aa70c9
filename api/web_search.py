"""The search page's model: the form as its URL says it, facets that add a filter, paging;
and the formats every page shares (dates, sizes, type names, snippets).

Rules:
- the URL is the search: ``/?q=…&type=…&from=…&to=…&year=…&series=…&sort=…&page=3`` (the
  API's parameter names); ``SearchForm.url`` gives a search back without empty fields or
  defaults, so one search has one address to share and bookmark;
- nothing typed is ever refused: text is bounded, a page out of range is the nearest one, and
  a date or year that does not read is said on the page, beside its field (and tied to it for
  screen readers), and not applied: it is not among the filters shown as set; a "from" after
  the "to" is said too, and applied (nothing lies between them, as the API and CLI find);
- a snippet is shown as markup only when it is the index's escaped text with ``<b>`` alone.
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, replace
from datetime import date, datetime
from typing import Any
from urllib.parse import urlencode

from markupsafe import Markup, escape

from archive.text import normalize
from ingest.metadata import TYPE_NAMES
from search.contracts import SearchResults, Sort
from search.query import Filters, doc_type_matches

PER_PAGE = 20
MAX_OFFSET = 10_000  # as the API's search allows
SORTS = {"relevance": "Liên quan nhất", "newest": "Mới nhất", "oldest": "Cũ nhất"}
FACETS = (("doc_type", "type", "Loại văn bản"), ("issuer", "issuer", "Cơ quan ban hành"),
          ("year", "year", "Năm"))  # fmt: skip
_SNIPPET = re.compile(r"(?:[^<>]|<b>[^<>]*</b>)*")
_DAY = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")
# Tên loại of Decree 30/2020 by abbreviation ("QĐ" → "Quyết định"); a công văn has no name.
TYPES = {abbr: name.capitalize() for name, abbr in TYPE_NAMES.values()} | {"CV": "Công văn"}


def vi_date(value: date | str | None) -> str:
    """'2023-02-17' or a date → '17/02/2023'; a datetime → local '17/02/2023 10:05'."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = date.fromisoformat(value[:10])
    if isinstance(value, datetime):
        return value.astimezone().strftime("%d/%m/%Y %H:%M")
    return value.strftime("%d/%m/%Y")


def filesize(size: int) -> str:
    """Bytes as people read them, with a decimal comma: 229,2 KB."""
    for unit, scale in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}".replace(".", ",")
    return f"{size} B"


def type_label(abbreviation: str) -> str:
    """'QĐ' → 'Quyết định (QĐ)'; an abbreviation we do not know stays as it is."""
    name = TYPES.get(abbreviation)
    return f"{name} ({abbreviation})" if name else abbreviation


def safe_snippet(snippet: str) -> Markup:
    """The snippet as markup when it is escaped text with ``<b>`` only; else all escaped."""
    return Markup(snippet) if _SNIPPET.fullmatch(snippet) else escape(snippet)


@dataclass(frozen=True)
class SearchForm:
    """The search form as the URL says it; ``url`` gives it back without empty fields."""

    q: str = ""
    type: str = ""
    issuer: str = ""
    date_from: str = ""
    date_to: str = ""
    year: str = ""
    series: str = ""
    sort: str = Sort.RELEVANCE.value
    page: int = 1

    # URL parameter → field (the API's names: from, to).
    PARAMS = (("q", "q"), ("type", "type"), ("issuer", "issuer"), ("from", "date_from"),
              ("to", "date_to"), ("year", "year"), ("series", "series"), ("sort", "sort"),
              ("page", "page"))  # fmt: skip

    @classmethod
    def read(cls, params: dict[str, str]) -> SearchForm:
        def text(name: str, limit: int = 200) -> str:
            return normalize(params.get(name, "")).strip()[:limit]

        sort = text("sort") if text("sort") in SORTS else Sort.RELEVANCE.value
        page = text("page", 6)
        number = int(page) if page.isdigit() else 1
        return cls(text("q", 500), text("type", 32), text("issuer"), text("from", 10),
                   text("to", 10), text("year", 4), text("series", 64), sort,
                   min(max(number, 1), max_page()))  # fmt: skip

    def pairs(self, **changes: Any) -> list[tuple[str, str]]:
        values = asdict(replace(self, **changes))
        defaults = {"sort": Sort.RELEVANCE.value, "page": 1}
        return [(param, str(values[field])) for param, field in self.PARAMS
                if values[field] not in ("", None, defaults.get(field))]  # fmt: skip

    def url(self, **changes: Any) -> str:
        """This search with ``changes``; any change of a filter starts again at page 1."""
        changes.setdefault("page", 1)
        pairs = self.pairs(**changes)
        return "/?" + urlencode(pairs) if pairs else "/"

    def filters(self) -> tuple[Filters, dict[str, str]]:
        """The filters, and what is wrong with them by URL parameter (``from``, ``to``,
        ``year``): said beside the field; a filter that does not read is not applied."""
        problems: dict[str, str] = {}
        days = []
        for param, label, text in (("from", "Từ ngày", self.date_from),
                                   ("to", "Đến ngày", self.date_to)):  # fmt: skip
            day = _parse_day(text)
            if text and day is None:
                problems[param] = (
                    f"Ngày không hợp lệ: {label} “{text}” không phải là ngày (ví dụ 2023-02-17 "
                    "hoặc 17/02/2023); chưa lọc theo ngày này."
                )
            days.append(day)
        if days[0] and days[1] and days[0] > days[1]:
            problems["to"] = (
                f"Khoảng ngày trống: Từ ngày {vi_date(days[0])} sau Đến ngày "
                f"{vi_date(days[1])}, không có tài liệu nào ở giữa."
            )
        year = int(self.year) if re.fullmatch(r"\d{4}", self.year) else None
        if self.year and year is None:
            problems["year"] = (
                f"Năm không hợp lệ: “{self.year}” phải là bốn chữ số (ví dụ 2023); chưa lọc "
                "theo năm."
            )
        found = Filters(doc_type=self.type or None, issuer=self.issuer or None,
                        date_from=days[0], date_to=days[1], series=self.series or None,
                        year=year)  # fmt: skip
        return found, problems

    def unread(self) -> set[str]:
        """The fields whose value does not read, so not applied."""
        found, _ = self.filters()
        given = {
            "date_from": (self.date_from, found.date_from),
            "date_to": (self.date_to, found.date_to),
            "year": (self.year, found.year),
        }
        return {field for field, (text, read) in given.items() if text and read is None}


def max_page() -> int:
    return MAX_OFFSET // PER_PAGE + 1


def _parse_day(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        pass
    found = _DAY.fullmatch(text)
    try:
        return date(int(found[3]), int(found[2]), int(found[1])) if found else None
    except ValueError:
        return None


def facets(form: SearchForm, results: SearchResults) -> list[dict[str, Any]]:
    """Each facet's values as links that add (or, when set, remove) that filter."""
    found = []
    for name, field, title in FACETS:
        values = []
        for facet in results.facets.get(name, []):
            chosen = getattr(form, field)
            if name == "doc_type":  # as the filter reads it: ``QD`` is set when QĐ is shown
                on = bool(chosen) and doc_type_matches(chosen, facet.value)
            else:
                on = chosen.casefold() == facet.value.casefold()
            label = type_label(facet.value) if name == "doc_type" else facet.value
            link = form.url(**{field: "" if on else facet.value})
            values.append({"label": label, "count": facet.count, "url": link, "on": on})
        if values:
            found.append({"title": title, "values": values})
    return found


def active(form: SearchForm) -> list[dict[str, str]]:
    """The filters applied, each with the link that removes it (one that does not read is
    said beside its field instead, not shown as set)."""
    unread = form.unread()
    names = {"type": "Loại", "issuer": "Cơ quan", "date_from": "Từ ngày", "date_to": "Đến ngày",
             "year": "Năm", "series": "Hồ sơ"}  # fmt: skip
    return [
        {"label": f"{label}: {getattr(form, field)}", "url": form.url(**{field: ""})}
        for field, label in names.items()
        if getattr(form, field) and field not in unread
    ]


def pager(form: SearchForm, total: int) -> dict[str, Any] | None:
    """Previous, next, the first and last pages and two either side of this one."""
    last = min(math.ceil(total / PER_PAGE), max_page())
    if last <= 1:
        return None
    here = form.page
    shown = sorted({1, last, *range(max(1, here - 2), min(last, here + 2) + 1)})
    items: list[dict[str, Any] | None] = []
    for before, number in zip([0, *shown], shown, strict=False):
        if before and number - before > 1:
            items.append(None)  # a gap, shown as "…"
        items.append({"number": number, "url": form.url(page=number), "here": number == here})
    return {
        "items": items,
        "previous": form.url(page=here - 1) if here > 1 else None,
        "next": form.url(page=here + 1) if here < last else None,
        "page": here,
        "last": last,
    }
