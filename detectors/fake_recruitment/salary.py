"""Implausible pay: the offered monthly minimum against the occupation's benchmark p90 (salary_benchmarks.toml)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache, lru_cache

from rapidfuzz import fuzz, process

from detectors.context import DetectionContext
from detectors.fake_recruitment.cues import scan
from detectors.fake_recruitment.pay import Pay, structured_pay, text_pays
from detectors.findings import Finding
from detectors.lexicon import PhraseMatcher, load_toml
from detectors.normalize import normalize, normalize_pattern
from detectors.rules import Detector, rule_specs

PACKAGE = "detectors.fake_recruitment"
RULE = "fake_recruitment.implausible_salary"
# Occupation values that say nothing: fall back to the title.
_ABROAD_SIGNALS = frozenset({"fraud_hotspot", "abroad"})
_UNSPECIFIED = frozenset({"其他", "不限", "未知", "综合", "其它", "普通岗位", ""})


# Daily working hours stated in the text (每天1-2小时, 每天只需两三个小时, 一天2小时): the upper figure.
_HOURS = re.compile(
    r"(?:每天|每日|一天|日均)(?:只需|仅需|只要|只用|仅|约|大概)?"
    r"(?:(\d+(?:\.\d+)?)(?:\s*[-~到至]\s*(\d+(?:\.\d+)?))?|([一二两三四五六半]{1,2}))个?多?(?:小时|钟头)"
)
_CN_HOURS = {"一": 1.0, "二": 2.0, "两": 2.0, "三": 3.0, "四": 4.0, "五": 5.0, "六": 6.0, "半": 0.5}


def stated_daily_hours(text: str) -> tuple[float, int, int] | None:
    """(most hours a day, span) the normalised text states, or None."""
    m = _HOURS.search(text)
    if m is None:
        return None
    if m.group(3):
        hours = _CN_HOURS[m.group(3)[-1]]
    else:
        hours = float(m.group(2) or m.group(1))
    return (hours, m.start(), m.end()) if hours > 0 else None


@dataclass(frozen=True, slots=True)
class Benchmark:
    name: str
    p50: float | None
    p90: float | None
    skip_units: frozenset[str] = frozenset()

    @property
    def usable(self) -> bool:
        return self.p90 is not None


@dataclass(frozen=True, slots=True)
class Benchmarks:
    by_keyword: dict[str, Benchmark]
    matcher: PhraseMatcher[str]
    suffix_fallbacks: tuple[tuple[str, str], ...]
    plain_ratio: float
    lure_ratio: float
    fuzzy_cutoff: float
    source: str
    floor: float  # the lowest pay that could fire for any occupation
    short_hours_max: float  # a day of at most this many hours is a short day
    short_hours_hourly: float  # an hourly rate at or above this, for lure work, is implausible


@cache
def benchmarks() -> Benchmarks:
    """The benchmark table, keyed by normalised occupation keyword."""
    data = load_toml(PACKAGE, "salary_benchmarks.toml")
    by_keyword: dict[str, Benchmark] = {}
    for occ in data["occupations"]:
        usable = occ.get("benchmark", True)
        bench = Benchmark(
            occ["name"],
            occ.get("p50") if usable else None,
            occ.get("p90") if usable else None,
            frozenset(occ.get("skip_units", ())),
        )
        for kw in occ["keywords"]:
            by_keyword.setdefault(normalize_pattern(kw), bench)
    return Benchmarks(
        by_keyword=by_keyword,
        matcher=PhraseMatcher({k: k for k in by_keyword}),
        suffix_fallbacks=tuple(
            (normalize_pattern(f["suffix"]), normalize_pattern(f["keyword"])) for f in data.get("suffix_fallbacks", ())
        ),
        plain_ratio=float(data["ratios"]["plain"]),
        lure_ratio=float(data["ratios"]["lure"]),
        fuzzy_cutoff=float(data["ratios"]["fuzzy_cutoff"]),
        source=data["source"],
        floor=min(b.p90 for b in by_keyword.values() if b.p90 is not None)
        * min(float(data["ratios"]["plain"]), float(data["ratios"]["lure"])),
        short_hours_max=float(data["short_hours"]["max_hours"]),
        short_hours_hourly=float(data["short_hours"]["hourly"]),
    )


def _longest_keyword(text: str) -> tuple[str, int, int] | None:
    best: tuple[str, int, int] | None = None
    for m in benchmarks().matcher.finditer(text):
        if best is None or (m.end - m.start) > (best[2] - best[1]):
            best = (m.value, m.start, m.end)
    return best


@lru_cache(maxsize=2048)
def occupation_keyword(occupation: str) -> str | None:
    """The benchmark keyword for an occupation field: exact, contained (longest), else a close spelling."""
    bm = benchmarks()
    occ = normalize(occupation).text.strip()
    if occ in _UNSPECIFIED:
        return None
    if occ in bm.by_keyword:
        return occ
    found = _longest_keyword(occ)
    if found is not None:
        return found[0]
    match = process.extractOne(occ, list(bm.by_keyword), scorer=fuzz.WRatio, score_cutoff=bm.fuzzy_cutoff)
    if match:
        return str(match[0])
    for suffix, keyword in bm.suffix_fallbacks:
        if occ.endswith(suffix) and len(occ) > len(suffix):
            return keyword
    return None


class ImplausibleSalaryDetector(Detector):
    """Fires when minimum pay is far above the occupation's p90 (further with lure cues); unknown occupations never fire."""

    rules = (RULE,)

    def detect(self, ctx: DetectionContext) -> Iterator[Finding]:
        raw = ctx.record.raw.get("salary")
        pay = structured_pay(raw)
        bm = benchmarks()
        if pay is not None and pay.unit == "day":
            short = self._short_hours(ctx, pay)
            if short is not None:
                yield short
                return
        if pay is None and not raw:
            # No salary field: the pay the text promises (月薪 ３万５, 学成月入伍万), looked for only
            # when the occupation has a benchmark.
            keyword, where = self._occupation(ctx)
            if keyword is None or not bm.by_keyword[keyword].usable:
                return
            pay = self._stated_pay(ctx)
            if pay is None or pay.monthly <= bm.floor:
                return
        else:
            if pay is None or pay.monthly <= bm.floor:
                return  # below every occupation's line: nothing to look up
            keyword, where = self._occupation(ctx)
            if keyword is None:
                return
        bench = bm.by_keyword[keyword]
        if not bench.usable or bench.p90 is None or pay.monthly <= bench.p90 * min(bm.lure_ratio, bm.plain_ratio):
            return
        if pay.unit in bench.skip_units:
            return  # a day or hour rate in this trade is not a fraction of a monthly wage
        if self._senior_title(ctx, keyword):
            return
        lure = self._lure_cue(ctx)
        ratio = bm.lure_ratio if lure is not None else bm.plain_ratio
        if pay.monthly <= bench.p90 * ratio:
            return
        spec = rule_specs()[RULE]
        evidence = [
            ctx.whole_field(pay.field)
            if pay.field.startswith("salary.")
            else ctx.evidence(pay.field, pay.start, pay.end)
        ]
        if where is not None:
            evidence.append(where)
        if lure is not None:
            evidence.append(lure[0])
        times = pay.monthly / bench.p90
        per = {"month": "月", "day": "天", "hour": "小时", "year": "年"}.get(pay.unit, pay.unit)
        explanation = (
            f"{spec.explanation}: {pay.amount:g} 元/{per} (≈{pay.monthly:,.0f} 元/月) is {times:.1f}× the p90 of "
            f"{bench.p90:,.0f} 元/月 for {bench.name}"
            + (f", with the lure cue {lure[1]!r}" if lure is not None else "")
            + f" (benchmark: {bm.source})"
        )
        yield ctx.finding(
            RULE,
            evidence,
            score=min(0.95, spec.score + 0.05 * (times / ratio - 1)),
            explanation=explanation,
            analysis={
                "monthly_min": round(pay.monthly),
                "occupation": bench.name,
                "p50": bench.p50,
                "p90": bench.p90,
                "ratio_needed": ratio,
                "times_p90": round(times, 2),
                "lure_cue": lure[1] if lure else None,
            },
        )

    @staticmethod
    def _short_hours(ctx: DetectionContext, pay: Pay) -> Finding | None:
        """A day rate for a few hours' lure work (有手机就能做，每天1-2小时，日入300): the hourly rate it implies
        is judged against `[short_hours]`, whatever the occupation (a gig with no benchmark included)."""
        bm = benchmarks()
        if pay.amount / bm.short_hours_max < bm.short_hours_hourly:
            return None  # cheap bound: not even at the longest short day
        for path in ctx.text_fields:
            found = stated_daily_hours(ctx.norm(path).text)
            if found is None:
                continue
            hours, start, end = found
            if hours > bm.short_hours_max or pay.amount / hours < bm.short_hours_hourly:
                return None
            lure = ImplausibleSalaryDetector._lure_cue(ctx)
            if lure is None:
                return None  # a model's or tutor's short well-paid day is not a lure
            spec = rule_specs()[RULE]
            hourly = pay.amount / hours
            return ctx.finding(
                RULE,
                [ctx.whole_field(pay.field), ctx.evidence(path, start, end), lure[0]],
                score=min(0.95, spec.score + 0.05 * (hourly / bm.short_hours_hourly - 1)),
                explanation=(
                    f"{spec.explanation}: {pay.amount:g} 元/天 for at most {hours:g} hours a day "
                    f"(≈{hourly:,.0f} 元/小时, the line is {bm.short_hours_hourly:g}), with the lure cue {lure[1]!r}"
                ),
                analysis={"day_min": pay.amount, "hours_a_day": hours, "hourly": round(hourly), "lure_cue": lure[1]},
            )
        return None

    @staticmethod
    def _stated_pay(ctx: DetectionContext) -> Pay | None:
        """The lowest pay figure the text offers: none in a sentence about someone else (喜报：学员
        成功入职…年薪30万), and the lowest, since a text may quote several roles (店长月薪1.5万，店员5000)."""
        sc = scan(ctx)
        others: set[tuple[str, tuple[int, int]]] | None = None
        lowest: Pay | None = None
        for pay in text_pays(ctx):
            if others is None:
                others = {(fs.path, fs.sentence(s)) for fs, s, _ in sc.find("salary.third_party")}
            fs = next(f for f in sc.fields if f.path == pay.field)
            if (pay.field, fs.sentence(pay.start)) not in others and (lowest is None or pay.monthly < lowest.monthly):
                lowest = pay
        return lowest

    @staticmethod
    def _occupation(ctx: DetectionContext):  # type: ignore[no-untyped-def]
        """(keyword, evidence) from the occupation field, else from the title."""
        occupation = ctx.record.occupation  # type: ignore[union-attr]
        if occupation:
            keyword = occupation_keyword(occupation)
            if keyword is not None:
                return keyword, ctx.whole_field("occupation")
            if normalize(occupation).text.strip() not in _UNSPECIFIED:
                return None, None  # a stated occupation we have no benchmark for
        found = _longest_keyword(ctx.norm("title").text)
        if found is None:
            return None, None
        return found[0], ctx.evidence("title", found[1], found[2])

    @staticmethod
    def _senior_title(ctx: DetectionContext, keyword: str) -> bool:
        """A senior or specialised title (主管, 总监 …) on a junior keyword: the benchmark does not fit."""
        sc = scan(ctx)
        titles = ("title", "occupation")
        for fs, s, e in sc.find("salary.senior", structured=True):
            if fs.path in titles and fs.text[s:e] not in keyword:
                return True
        return False

    @staticmethod
    def _lure_cue(ctx: DetectionContext):  # type: ignore[no-untyped-def]
        """The first non-negated lure cue (无需经验, 零基础, 境外 …) as (evidence, phrase), or None."""
        sc = scan(ctx)
        for fs, s, e in sc.find("salary.lure"):
            if not fs.negated(s, e):
                return ctx.evidence(fs.path, s, e), fs.text[s:e]
        # A destination abroad (the overseas_lure lexicon) is a lure cue too.
        for fs in sc.fields:
            for hit in fs.hits:
                if hit.signal.rule == "overseas_lure" and hit.signal.name in _ABROAD_SIGNALS:
                    if fs.structured or not fs.negated(hit.start, hit.end):
                        return ctx.evidence(fs.path, hit.start, hit.end), fs.text[hit.start : hit.end]
        return None
