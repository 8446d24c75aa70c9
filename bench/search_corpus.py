"""A realistic, deterministic corpus of Vietnamese administrative documents for search benches.

    from bench.search_corpus import generate
    for record in generate(100_000):        # a stream: nothing is kept in memory
        index(record.record_id, record.subject, record.number, record.body)

Each record is one document laid out as Decree 30/2020/NĐ-CP prescribes and as OCR returns it:
issuing body, ``Số: 1482/QĐ-UBND``, place and date, type name, trích yếu, then ``Căn cứ …``
lines that cite real laws and decrees by number (so ``30/2020/NĐ-CP`` appears in thousands of
bodies), articles or sections, recipients and signature. A few percent are scans with OCR noise
(a dropped diacritic, ``Ð`` U+00D0 for ``Đ``) and some are stored in NFD.

Record ``n`` is derived from ``(seed, n)`` alone (``record_at``), so the stream is the same on
every run, can start anywhere, and 1,000,000 records cost no more memory than one. The answers
of the relevance set (``bench.relevance.PLANTED``) replace background records at evenly spread
positions; their ids depend on the seed and their key, not on ``count``. The background never
uses the relevance set's anchor words or its planted numbers.
"""

from __future__ import annotations

import hashlib
import random
import tomllib
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from bench import corpus as v
from bench.relevance import PLANTED, Planted, fold_fast, notation_key, planted_id

T = TypeVar("T")
SCHEDULE = Path(__file__).resolve().parent.parent / "retention" / "default_schedule.toml"
NOISY_SHARE = 0.06  # scans whose OCR text keeps some noise
ETH_SHARE = 0.5  # of those, the share where Đ came out as Ð (U+00D0)
NFD_SHARE = 0.02  # bodies stored decomposed (old exports, macOS file names pasted in)
DROP_RATE = 0.03  # of the letters with diacritics in a noisy scan, the share that lose them
MAX_ARTICLES = 25  # a longer decision goes on in an appendix


def _schedule_codes() -> frozenset[str]:
    with SCHEDULE.open("rb") as handle:
        return frozenset(series["code"] for series in tomllib.load(handle)["series"])


SERIES_CODES = _schedule_codes()


@dataclass(frozen=True, slots=True)
class CorpusRecord:
    record_id: str  # 24 hex digits
    number: str  # số và ký hiệu: 1482/QĐ-UBND, 30/2020/NĐ-CP, 14514-CV/VPTW
    doc_type: str  # abbreviation: QĐ, CV, TB, ...
    type_name: str  # QUYẾT ĐỊNH; "" for a công văn
    issuer: str
    place: str
    date: str  # ISO, 1995-01-01 .. 2026-06-28
    subject: str  # trích yếu
    series_code: str | None  # a code of retention/default_schedule.toml, or None
    access: str  # public / internal / confidential / secret
    keywords: tuple[str, ...]
    body: str  # the full text, header included, as OCR or the edXML attachment gives it

    @property
    def title(self) -> str:
        """What luutru calls the record's title: the trích yếu."""
        return self.subject


def _digest(seed: int, n: int) -> bytes:
    return hashlib.blake2b(f"luutru-bench:{seed}:{n}".encode(), digest_size=16).digest()


_ACCESS_BUCKETS = (("public", 70), ("internal", 90), ("confidential", 98), ("secret", 100))


def _access(digest: bytes) -> str:
    """70 % public, 20 % internal, 8 % confidential, 2 % secret, from the id's hash alone."""
    bucket = int.from_bytes(digest[12:16], "big") % 100
    return next(level for level, below in _ACCESS_BUCKETS if bucket < below)


def _cumulative(weights: Sequence[float]) -> list[float]:
    total, out = 0.0, []
    for weight in weights:
        total += weight
        out.append(total)
    return out


_ISSUER_CUM = _cumulative([i.weight for i in v.ISSUERS])
_YEARS = list(range(1995, 2027))
_YEAR_CUM = _cumulative([1.0 + 0.25 * (y - 1995) for y in _YEARS])
_DOMAIN_CUM = _cumulative([d.weight for d in v.DOMAINS])
_TYPES_BY_KIND = {
    kind: (list(types), _cumulative(list(types.values()))) for kind, types in v.KIND_TYPES.items()
}
_ISSUER_BY_NAME = {i.name: i for i in v.ISSUERS}
_RESERVED = frozenset(notation_key(p.number) for p in PLANTED) | frozenset(
    notation_key(law.number) for law in v.LAWS if law.number
)


def _pick(rng: random.Random, items: Sequence[T], cum: list[float]) -> T:
    return rng.choices(items, cum_weights=cum)[0]


def _random_date(rng: random.Random, year: int) -> str:
    month = rng.randint(1, 6 if year == 2026 else 12)
    return f"{year}-{month:02d}-{rng.randint(1, 28):02d}"


def _number(rng: random.Random, issuer: v.Issuer, doc_type: str, year: int) -> str:
    while True:
        n = rng.randint(1, issuer.max_number)
        if doc_type == "CV":
            unit = rng.choice(issuer.units)
            number = (
                f"{n}-CV/{issuer.code}" if issuer.kind == "party" else f"{n}/{issuer.code}-{unit}"
            )
        elif issuer.kind == "party":
            number = f"{n:02d}-{doc_type}/{issuer.code}"
        elif doc_type in v.LEGAL_TYPES or (doc_type in ("QĐ", "NQ") and rng.random() < 0.08):
            n = rng.randint(1, 180)  # legal normative documents: the year inside, lower numbers
            number = f"{n:02d}/{year}/{doc_type}-{issuer.code}"
        else:
            number = f"{n:02d}/{doc_type}-{issuer.code}"
        if notation_key(number) not in _RESERVED:
            return number


def _cited_number(rng: random.Random, notation: str) -> str:
    """A number for ``notation`` (``/QĐ-UBND``) that no planted record owns."""
    while True:
        number = f"{rng.randint(1, 4000):02d}{notation}"
        if notation_key(number) not in _RESERVED:
            return number


def _series(doc_type: str, domain: v.Domain, period: str) -> str | None:
    if doc_type == "BC":
        code = {"năm": "BC-NAM", "quý": "BC-QUY", "tháng": "BC-THANG"}.get(period)
    elif doc_type in ("CV", "GM", "CĐ"):
        code = "CV"
    elif doc_type in ("QC", "KH", "CTr", "ĐA", "HD", "CT"):
        code = "QC"
    elif doc_type in ("HĐ", "BB") and domain.key in ("ngansach", "vanthu"):
        code = "CT-KT"
    elif doc_type in ("QĐ", "TB") and domain.key == "noivu":
        code = "HS-CB"
    else:
        code = None
    return code if code in SERIES_CODES else None


class _Writer:
    """Builds one record's body; the random choices all come from one ``rng``."""

    def __init__(self, rng: random.Random, issuer: v.Issuer, doc_type: str, date: str) -> None:
        self.rng = rng
        self.issuer = issuer
        self.doc_type = doc_type
        self.date = date
        self.year = int(date[:4])
        self.slots = {
            "year": self.year,
            "next": self.year + 1,
            "place": issuer.province or issuer.place,
            "org": issuer.name,
            "pct": rng.choice((75, 80, 85, 90, 95, 100)),
            "count": rng.randint(3, 60),
            "amount": f"{rng.randint(1, 950)}.{rng.randint(100, 999)}",
            "phone": rng.randint(1000, 9999),
            "doc": v.DOC_WORD[doc_type],
            "cite": "{cite}",  # filled by ``citation`` after formatting
        }
        self.decks: dict[int, list[str]] = {}

    def fill(self, template: str) -> str:
        return template.format_map(self.slots)

    def citation(self, local: bool = False) -> str:
        """Another document by number: usually a law or decree, else (or if ``local``) one of
        the issuer's own."""
        rng = self.rng
        if not local and rng.random() < 0.7:
            laws = [law for law in v.LAWS if int(law.date[:4]) < self.year]
            if laws:
                return rng.choice(laws).cite(rng)
        code, unit = self.issuer.code, rng.choice(self.issuer.units)
        doc_type = rng.choice(("QĐ", "KH", "CV"))
        notation = f"/{code}-{unit}" if doc_type == "CV" else f"/{doc_type}-{code}"
        number = _cited_number(rng, notation)
        name = v.DOC_WORD[doc_type]
        when = v.vn_date(_random_date(rng, max(1995, self.year - rng.randint(0, 2))))
        return f"{name} số {number} {when} của {self.issuer.name}"

    def basis(self, domain: v.Domain | None) -> list[str]:
        """The ``Căn cứ`` lines: the organisation law, laws of the domain, a local document."""
        rng, year = self.rng, self.year
        lines = [f"Căn cứ {v.organisation_law(self.issuer.kind, year)};"]
        keys = domain.laws if domain else ()
        laws = [
            law
            for law in v.LAWS
            if int(law.date[:4]) < year
            and (law.key in keys or (law.general and rng.random() < 0.25))
        ]
        for law in rng.sample(laws, min(len(laws), rng.randint(1, 3))):
            lines.append(f"Căn cứ {law.cite(rng)};")
        if rng.random() < 0.5:
            lines.append(f"Căn cứ {self.citation(local=True)};")
        if self.doc_type in ("QĐ", "NQ") and rng.random() < 0.7:
            proposer, code = rng.choice(v.PROPOSERS.get(self.issuer.kind, v.CENTRAL_PROPOSERS))
            number = _cited_number(rng, f"/TTr-{code}")
            lines.append(
                f"Theo đề nghị của {proposer} tại Tờ trình số {number} {v.vn_date(self.date)}."
            )
        return lines

    def _draw(self, pool: tuple[str, ...]) -> str:
        """The pool's sentences in a shuffled order, reshuffled when used up: a body repeats a
        sentence only once it has used them all."""
        deck = self.decks.get(id(pool))
        if not deck:
            deck = self.decks[id(pool)] = self.rng.sample(pool, len(pool))
        return deck.pop()

    def sentence(self, domain: v.Domain | None) -> str:
        if domain is not None and self.rng.random() < 0.65:
            text = self.fill(self._draw(domain.sentences))
        else:
            text = self.fill(self._draw(v.GENERIC))
        if "{cite}" in text:
            text = text.replace("{cite}", self.citation())
        return text

    def content(
        self, domain: v.Domain | None, target: int, used: int, opening: list[str]
    ) -> list[str]:
        """Articles or sections, sentence after sentence, until the body reaches ``target``;
        a decision longer than ``MAX_ARTICLES`` articles goes on in an appendix."""
        out: list[str] = []

        def add(line: str) -> None:
            nonlocal used
            out.append(line)
            used += len(line) + 1

        def item(number: int) -> str:
            sentences = [self.sentence(domain) for _ in range(self.rng.randint(1, 3))]
            return " ".join([f"{number}.", *sentences])

        if self.doc_type in v.ARTICLE_TYPES:
            add(v.ENACTING[self.doc_type])
            for line in opening:  # the planted lines are articles of their own
                add(f"Điều {len(out)}. {line}")
            while len(out) <= MAX_ARTICLES and (used < target or len(out) == 1):
                add(f"Điều {len(out)}. {item(0)[3:]}")
            add(f"Điều {len(out)}. {self.fill(self.rng.choice(v.CLOSING_ARTICLES))}")
            if used < target:
                add(f"PHỤ LỤC (Kèm theo {self.slots['doc']} này)")
            headings: tuple[str, ...] = ()
        else:
            headings = v.SECTIONS.get(self.doc_type, v.LETTER_SECTIONS)
            for line in opening:
                add(line)
        section, number = 0, 0
        while used < target or (not out and not opening):
            if number == 0 and section < len(headings):
                add(headings[section])
            number += 1
            add(item(number))
            if headings and number >= self.rng.randint(2, 4):
                section, number = section + 1, 0
        return out


def _header(
    issuer: v.Issuer, number: str, place: str, date: str, type_name: str, subject: str
) -> list[str]:
    lines = [issuer.parent.upper()] if issuer.parent else []
    lines.append(issuer.header)
    if issuer.kind == "party":
        lines += ["*", f"Số {number}", "ĐẢNG CỘNG SẢN VIỆT NAM"]
    else:
        lines += [
            f"Số: {number}",
            "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
            "Độc lập - Tự do - Hạnh phúc",
        ]
    lines.append(f"{place}, {v.vn_date(date)}")
    if type_name:
        lines.append(type_name)
    lines.append(subject)
    return lines


def _footer(rng: random.Random, issuer: v.Issuer, doc_type: str) -> list[str]:
    recipients = "- Như Điều 3;" if doc_type in v.ARTICLE_TYPES else "- Như trên;"
    return [
        "Nơi nhận:",
        recipients,
        f"- {rng.choice(v.COPIES)};",
        f"- Lưu: VT, {rng.choice(issuer.units)}.",
        *v.signer(issuer.kind, rng),
        v.person(rng),
    ]


def _compose(
    rng: random.Random,
    issuer: v.Issuer,
    number: str,
    doc_type: str,
    place: str,
    date: str,
    subject: str,
    domain: v.Domain | None,
    target: int,
    opening: list[str],
) -> str:
    writer = _Writer(rng, issuer, doc_type, date)
    type_name = v.TYPE_NAMES[doc_type]
    lines = _header(issuer, number, place, date, type_name, subject)
    if doc_type == "QĐ":
        lines.append(issuer.authority)
    if doc_type in v.ARTICLE_TYPES or doc_type in ("KH", "ĐA", "CTr", "HD"):
        lines += writer.basis(domain)
    else:
        lines.append(f"Kính gửi: {rng.choice(v.ADDRESSEES)}")
        verb = rng.choice(v.LETTER_VERBS.get(doc_type, v.LETTER_VERBS["CV"]))
        lines.append(f"Thực hiện {writer.citation()}, {issuer.name} {verb}:")
    used = sum(len(line) + 1 for line in lines) + 160  # the footer's length, about
    lines += writer.content(domain, target, used, opening)
    lines += _footer(rng, issuer, doc_type)
    return "\n".join(lines)


_MARKED = {c: fold_fast(c) for c in v.VIETNAMESE_LETTERS if fold_fast(c) != c and c not in "đĐ"}


def _noise(rng: random.Random, body: str) -> str:
    """OCR noise: a few letters lose their diacritics (``hồ so``), Đ read as Ð (U+00D0)."""
    chars = list(body)
    marked = [i for i, c in enumerate(chars) if c in _MARKED]
    for i in rng.sample(marked, int(len(marked) * DROP_RATE)):
        chars[i] = _MARKED[chars[i]]
    text = "".join(chars)
    if rng.random() < ETH_SHARE:
        text = text.replace("Đ", "\u00d0").replace("đ", "\u00f0")
    return text


def _target(rng: random.Random, body_chars: int) -> int:
    return int(body_chars * (0.6 + 0.8 * rng.random()))


def background(n: int, seed: int = 7, body_chars: int = 2000) -> CorpusRecord:
    """Background record ``n``: a plausible document that answers no relevance query."""
    digest = _digest(seed, n)
    rng = random.Random(int.from_bytes(digest, "big"))
    issuer = _pick(rng, v.ISSUERS, _ISSUER_CUM)
    types, cum = _TYPES_BY_KIND[issuer.kind]
    doc_type = _pick(rng, types, cum)
    year = _pick(rng, _YEARS, _YEAR_CUM)
    date = _random_date(rng, year)
    domains = [d for d in v.DOMAINS if d.key in issuer.focus]
    domain = (
        rng.choice(domains)
        if domains and rng.random() < 0.7
        else _pick(rng, v.DOMAINS, _DOMAIN_CUM)
    )
    subject, period = v.subject(rng, doc_type, domain, date, issuer)
    number = _number(rng, issuer, doc_type, year)
    body = _compose(
        rng,
        issuer,
        number,
        doc_type,
        issuer.place,
        date,
        subject,
        domain,
        _target(rng, body_chars),
        [],
    )
    if rng.random() < NOISY_SHARE:
        body = _noise(rng, body)
    if rng.random() < NFD_SHARE:
        body = unicodedata.normalize("NFD", body)
    return CorpusRecord(
        record_id=digest[:12].hex(),
        number=number,
        doc_type=doc_type,
        type_name=v.TYPE_NAMES[doc_type],
        issuer=issuer.name,
        place=issuer.place,
        date=date,
        subject=subject,
        series_code=_series(doc_type, domain, period),
        access=_access(digest),
        keywords=tuple(rng.sample(domain.keywords, min(3, len(domain.keywords)))),
        body=body,
    )


def planted(spec: Planted, seed: int = 7, body_chars: int = 2000) -> CorpusRecord:
    """A relevance answer: its own subject, number and lines, generic filler around them."""
    rng = random.Random(f"luutru-bench:{seed}:planted:{spec.key}")
    issuer = _ISSUER_BY_NAME.get(spec.issuer) or v.plain_issuer(spec.issuer, spec.place)
    body = _compose(
        rng,
        issuer,
        spec.number,
        spec.doc_type,
        spec.place,
        spec.date,
        spec.subject,
        None,
        _target(rng, body_chars),
        list(spec.lines),
    )
    subject = spec.subject
    if spec.noise == "eth":
        body = body.replace("Đ", "\u00d0").replace("đ", "\u00f0")
    elif spec.noise == "nfd":
        body = unicodedata.normalize("NFD", body)
        subject = unicodedata.normalize("NFD", subject)
    return CorpusRecord(
        record_id=planted_id(spec.key, seed),
        number=spec.number,
        doc_type=spec.doc_type,
        type_name=v.TYPE_NAMES[spec.doc_type],
        issuer=spec.issuer,
        place=spec.place,
        date=spec.date,
        subject=subject,
        series_code=spec.series,
        access=spec.access,
        keywords=spec.keywords,
        body=body,
    )


def planted_positions(count: int) -> dict[int, Planted]:
    """Where the planted records stand in a corpus of ``count``: evenly spread."""
    if count < len(PLANTED):
        raise ValueError(
            f"a corpus with the relevance answers needs at least {len(PLANTED)} records"
        )
    return {(2 * k + 1) * count // (2 * len(PLANTED)): spec for k, spec in enumerate(PLANTED)}


def record_at(n: int, count: int, seed: int = 7, body_chars: int = 2000) -> CorpusRecord:
    spec = planted_positions(count).get(n)
    return planted(spec, seed, body_chars) if spec else background(n, seed, body_chars)


def generate(
    count: int, seed: int = 7, body_chars: int = 2000, *, with_answers: bool = True
) -> Iterator[CorpusRecord]:
    """``count`` records, the relevance answers among them unless ``with_answers`` is False."""
    positions = planted_positions(count) if with_answers else {}
    for n in range(count):
        spec = positions.get(n)
        yield planted(spec, seed, body_chars) if spec else background(n, seed, body_chars)


def restricted_ids(count: int, seed: int = 7) -> Iterator[str]:
    """Ids of the records a public reader must never see, without generating any body."""
    positions = planted_positions(count)
    for n in range(count):
        spec = positions.get(n)
        if spec is not None:
            if spec.access != "public":
                yield planted_id(spec.key, seed)
            continue
        digest = _digest(seed, n)
        if _access(digest) != "public":
            yield digest[:12].hex()


def latency_queries(count: int, seed: int = 7) -> list[str]:
    """What people type into an archive's search box, for timing: mostly topic words without
    diacritics, some with, issuer names, pasted numbers, a few very common words (long posting
    lists) and some that match nothing."""
    rng = random.Random(f"luutru-bench:queries:{seed}")
    out = []
    for _ in range(count):
        roll = rng.random()
        domain = _pick(rng, v.DOMAINS, _DOMAIN_CUM)
        if roll < 0.55:
            text = " ".join(rng.sample(domain.keywords, rng.randint(1, 2)))
        elif roll < 0.70:
            issuer = rng.choice(v.ISSUERS)
            text = f"{rng.choice(domain.keywords)} {issuer.province or issuer.place}"
        elif roll < 0.82:
            law = rng.choice(v.LAWS)
            number = str(law.number)
            text = number if rng.random() < 0.6 else f"{law.kind.lower()} {number}"
        elif roll < 0.92:
            text = rng.choice(v.COMMON_QUERIES)
        else:
            text = rng.choice(v.MISSES)
        out.append(fold_fast(text).lower() if rng.random() < 0.7 else text)
    return out
