"""Offered pay as a monthly figure: the structured salary field by unit, else a pay figure stated in the title or text."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from detectors.context import DetectionContext

# Monthly equivalents (劳动和社会保障部 劳社部发〔2008〕3号: 21.75 paid days, 174 paid hours a month).
DAYS_PER_MONTH = 21.75
HOURS_PER_MONTH = 174.0
PER_MONTH = {"month": 1.0, "day": DAYS_PER_MONTH, "hour": HOURS_PER_MONTH, "year": 1 / 12}

# A pay figure in text: a unit word before the number (月薪/日薪/时薪/年薪/日结/日赚…), an amount with
# 万/千/k multipliers, an optional range, and an optional per-unit suffix (/天, 一天, /月).
_UNIT_WORDS = {
    "月薪": "month",
    "月入": "month",
    "底薪": "month",
    "薪资": "month",
    "工资": "month",
    "月收入": "month",
    "日薪": "day",
    "日结": "day",
    "日赚": "day",
    "日入": "day",
    "一天": "day",
    "每天": "day",
    "天薪": "day",
    "时薪": "hour",
    "年薪": "year",
    "年入": "year",
}
_SUFFIX_UNITS = {"月": "month", "天": "day", "日": "day", "时": "hour", "小时": "hour", "年": "year"}
# Chinese numerals, plain and 大写 (伍万, 两千, 三万五): written out to dodge digit filters.
_CN_DIGITS = {
    c: i
    for i, cs in enumerate(("零〇", "一壹", "二两贰", "三叁", "四肆", "五伍", "六陆", "七柒", "八捌", "九玖"))
    for c in cs
}
_CN = "零〇一壹二两贰三叁四肆五伍六陆七柒八捌九玖十拾"
# The amount, its multiplier, and a digit after the multiplier that stands for the next place (3万5 = 35000).
_NUM = rf"(\d+(?:\.\d+)?|[{_CN}]{{1,3}})\s*(万|w|千|k)?(?:(\d|[{_CN[:-2]}])(?![\d{_CN}]))?"
_TEXT_PAY = re.compile(
    "("
    + "|".join(sorted(_UNIT_WORDS, key=len, reverse=True))
    + r")[:：]?\s*(?:约|达|高达|可达|最低|保底)?\s*"
    + _NUM
    + r"(?:\s*[-~至到]\s*\d+(?:\.\d+)?\s*(?:万|w|千|k)?)?\s*(?:元|块|rmb)?\s*(?:\+|以上|起)?"
    + r"(?:\s*(?:/|每|一)\s*(小时|月|天|日|时|年))?"
)
_MULT = {"万": 10000.0, "w": 10000.0, "千": 1000.0, "k": 1000.0}


def _number(text: str) -> float | None:
    """Arabic digits, or a Chinese numeral below a hundred (伍, 十二, 二十, 两)."""
    if text[0].isdigit():
        return float(text)
    tens, _, units = text.partition("十") if "十" in text else text.partition("拾")
    if _ == "":
        return float(_CN_DIGITS[text]) if len(text) == 1 else None
    high = _CN_DIGITS.get(tens, -1) if tens else 1
    low = _CN_DIGITS.get(units, -1) if units else 0
    return None if high < 0 or low < 0 else float(high * 10 + low)


def _amount(m: re.Match[str]) -> float | None:
    """The figure of a _TEXT_PAY match in yuan (3万5 → 35000, 伍万 → 50000)."""
    base = _number(m.group(2))
    if base is None:
        return None
    mult = _MULT.get(m.group(3) or "", 1.0)
    amount = base * mult
    next_place = m.group(4)
    if next_place and mult > 1:
        digit = int(next_place) if next_place.isdigit() else _CN_DIGITS.get(next_place, 0)
        amount += digit * mult / 10
    return amount


@dataclass(frozen=True, slots=True)
class Pay:
    """Minimum offered pay as a monthly figure, with where it came from."""

    monthly: float
    unit: str
    amount: float
    field: str  # "salary.min" or a text field path
    start: int = 0  # normalised span, for text figures
    end: int = 0


def structured_pay(raw: Any) -> Pay | None:
    """The salary field's minimum (else maximum) as monthly pay; piece rates and unknown units have none."""
    if not isinstance(raw, dict):
        return None
    unit = raw.get("unit") or "month"
    factor = PER_MONTH.get(unit)
    if factor is None:
        return None
    for key in ("min", "max"):
        value = raw.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
            return Pay(float(value) * factor, unit, float(value), f"salary.{key}")
    return None


def text_pays(ctx: DetectionContext) -> Iterator[Pay]:
    """Pay figures stated in the title or text (月薪2万, 日结800元, 时薪100, 月入伍万), as monthly pay."""
    for path in ctx.text_fields:
        text = ctx.norm(path).text
        for m in _TEXT_PAY.finditer(text):
            unit = _SUFFIX_UNITS.get(m.group(5) or "") or _UNIT_WORDS[m.group(1)]
            amount = _amount(m)
            if amount is None or amount < 10:
                continue
            end = m.start() + len(m.group().rstrip())  # the figure, not the spaces after it
            yield Pay(amount * PER_MONTH[unit], unit, amount, path, m.start(), end)


def text_pay(ctx: DetectionContext) -> Pay | None:
    """The first pay figure stated in the title or text."""
    return next(text_pays(ctx), None)


def offered_pay(ctx: DetectionContext) -> Pay | None:
    """Structured salary when present, else a figure stated in the text."""
    return structured_pay(ctx.record.raw.get("salary")) or text_pay(ctx)
