"""Numeric criteria: age ceilings, age ranges and birth years; height and weight figures. Thresholds live in numeric.toml."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from detectors.discrimination.limits import Hit, anti_discrimination, left_context, phrase_bounds, right_context
from detectors.discrimination.vocabulary import Vocabulary, WordTable, data
from detectors.normalize import normalize_pattern

# 廿/卄/卅/卌 are the one-character tens of numeric.toml `tens_words` (廿五至卅五岁).
_CN_NUM = "〇零一二两三四五六七八九十壹贰叁肆伍陆柒捌玖拾廿卄卅卌"
NUM = rf"(\d{{1,3}}|[{_CN_NUM}]{{1,4}})"


def _alt(words: list[str]) -> str:
    keys = sorted({normalize_pattern(w) for w in words if w}, key=len, reverse=True)
    return "|".join(re.escape(k) for k in keys)


@dataclass(frozen=True, slots=True)
class _Tables:
    age: dict
    birth: dict
    height: dict
    weight: dict
    digits: dict[str, int]
    tens: frozenset[str]
    tens_words: dict[str, int]  # 廿 → 2, 卅 → 3: a digit of tens written as one character
    bound_before: WordTable  # kinds: upper / lower
    joiners: WordTable
    bound_after: WordTable  # kinds: upper / lower / approx
    client_nouns: re.Pattern[str]
    lawful_context: re.Pattern[str]
    labels: tuple[str, ...]
    age_label_expr: re.Pattern[str]
    birth_before: re.Pattern[str]
    birth_after: re.Pattern[str]
    height_expr: re.Pattern[str]
    height_number_before: re.Pattern[str]
    weight_expr: re.Pattern[str]
    weight_quality: re.Pattern[str]
    object_words: re.Pattern[str]
    person_words: re.Pattern[str]
    body_scores: dict[str, float]
    birth_after_words: frozenset[str]
    plus_bounds: frozenset[str]  # floors that need an exclusion after them (40往上的不要)
    floor_exclusions: frozenset[str]  # exclusions that need a floor word before the number (超过45的不要)
    age_floor_words: frozenset[str]  # floor words about age by themselves (年过40的不考虑)


@cache
def _tables() -> _Tables:
    spec = data("numeric.toml")
    age, birth, height, weight = spec["age"], spec["birth_year"], spec["height"], spec["weight"]
    join = _alt(age["range_joiners"])
    unit = r"(?:周?岁)"
    before = WordTable.build(
        [*((w, "upper") for w in age["upper_before"]), *((w, "lower") for w in age["lower_before"])]
    )
    after = WordTable.build(
        [
            *((w, "approx") for w in age["approximate_after"]),
            *((w, "lower") for w in age["lower_after"]),
            *((w, "upper") for w in age["upper_after"]),
        ]
    )
    ub, ua, la = _alt(age["upper_before"]), _alt(age["upper_after"]), _alt(age["lower_after"])
    b_after, b_before = _alt(birth["after_words"]), _alt(birth["before_words"])
    year = r"((?:19|20)\d{2}|\d{2})\s*年(?:\s*\d{1,2}\s*月)?(?:\s*\d{1,2}\s*日)?"
    hb = r"不低于|不少于|不高于|不超过|高于|低于|≥|>|<|≤|达到"
    h_num = r"(\d{2,3}(?:\.\d{1,2})?|1米\d{1,2})"
    h_units = _alt([*height["units_cm"], *height["units_m"]])
    w_units = _alt([*weight["units_kg"], *weight["units_jin"]])
    gender = r"(?:男|女)(?:性|士|生)?\s*:?\s*"
    return _Tables(
        age=age,
        birth=birth,
        height=height,
        weight=weight,
        digits={k: int(v) for k, v in age["numerals"]["digits"].items()},
        tens=frozenset(age["numerals"]["tens"]),
        tens_words={k: int(v) for k, v in age["numerals"].get("tens_words", {}).items()},
        bound_before=before,
        joiners=WordTable.build((j, "join") for j in age["range_joiners"]),
        bound_after=after,
        client_nouns=re.compile(_alt(age["client_nouns"])),
        lawful_context=re.compile(_alt(age["lawful_context"])),
        labels=tuple(normalize_pattern(w) for w in age["labels"]),
        age_label_expr=re.compile(
            rf"(?:要求|限制|范围|段)?\s*:?\s*(?:在|为|须|需|要求|需在|须在)?\s*(?:({ub})\s*)?{NUM}\s*{unit}?"
            rf"\s*(?:(?:{join})\s*{NUM}\s*{unit}?)?\s*(?:({ua}|-(?![-\d{_CN_NUM}]))|({la}))?"
        ),
        birth_before=re.compile(rf"(?<!\d){year}\s*(?:及)?({b_after}|{b_before})\s*(?:的)?$"),
        birth_after=re.compile(rf"(?:于|在)?\s*{year}\s*(?:及)?({b_after}|{b_before})"),
        height_expr=re.compile(
            rf"(?:要求)?\s*:?\s*(?:须|需|要|在|为)?\s*(?:{hb})?\s*(?:{gender})?{h_num}\s*({h_units})?"
            rf"(?:\s*(?:{join})\s*\d{{2,3}}(?:\.\d{{1,2}})?\s*(?:{h_units})?)?\s*(?:{_alt(height['bounds'])})?"
        ),
        height_number_before=re.compile(r"(?<![\d.])(\d{3}|1\.\d{1,2}|1米\d{1,2})\s*$"),
        weight_expr=re.compile(
            rf"(?:要求)?\s*:?\s*(?:须|需|要|在|控制在|为)?\s*(?:({hb}|以下))?\s*(?:{gender})?(\d{{2,3}}(?:\.\d)?)"
            rf"(?:\s*(?:{join})\s*\d{{2,3}})?\s*({w_units})?\s*(以下|以内|以上|左右|之间|上下)?"
        ),
        weight_quality=re.compile(rf"(?:要求)?\s*:?\s*(?:{_alt(weight['qualitative'])})"),
        object_words=re.compile(_alt(height["object_words"])),
        person_words=re.compile(_alt(height["person_words"])),
        body_scores={k: float(v) for k, v in spec["scores"].items()},
        birth_after_words=frozenset(normalize_pattern(w) for w in birth["after_words"]),
        plus_bounds=frozenset({"+", *(normalize_pattern(w) for w in age["plus_bounds"])}),
        floor_exclusions=frozenset(normalize_pattern(w) for w in age.get("floor_exclusions", ())),
        age_floor_words=frozenset(normalize_pattern(w) for w in age.get("age_floor_words", ())),
    )


def parse_number(token: str) -> int | None:
    """Arabic or Chinese numeral (三十五, 十八, 四十, 廿五, 卅) to int; whitespace inside Arabic digits is ignored."""
    token = "".join(token.split())
    if token.isdigit():
        return int(token)
    tb = _tables()
    if token and token[0] in tb.tens_words:
        rest = tb.digits.get(token[1:], None) if len(token) == 2 else 0 if len(token) == 1 else None
        return None if rest is None else tb.tens_words[token[0]] * 10 + rest
    tens_at = next((i for i, c in enumerate(token) if c in tb.tens), -1)
    if tens_at == -1:
        digits = [tb.digits.get(c) for c in token]
        return None if None in digits else int("".join(str(d) for d in digits))
    head, tail = token[:tens_at], token[tens_at + 1 :]
    hi = tb.digits.get(head, None) if head else 1
    lo = tb.digits.get(tail, None) if tail else 0
    return None if hi is None or lo is None or len(head) > 1 or len(tail) > 1 else hi * 10 + lo


def _upper_score(upper: int) -> float:
    for bound, score in _tables().age["score_bands"]:
        if upper <= bound:
            return float(score)
    return 0.7


def _flaggable_upper(upper: int) -> bool:
    age = _tables().age
    return age["lower_bound_lawful_max"] < upper < age["retirement_upper_bound"]


def _about_clients_or_law(text: str, start: int, end: int, vocab: Vocabulary) -> bool:
    """The age describes people served (教3-12岁儿童) or restates minimum-age/retirement law."""
    tb = _tables()
    a, b = phrase_bounds(text, start, end, vocab)
    if tb.client_nouns.search(text, end, min(b, end + 8)):
        return True
    return tb.lawful_context.search(text, a, b) is not None


def _excluded_after(text: str, pos: int, vocab: Vocabulary) -> int | None:
    """End of an exclusion word after an age bound (35岁以上勿扰 / 超过35岁的不要), or None."""
    side = right_context(text, pos, vocab.grounds["age"])
    return side.end if side is not None and side.kind == "exclude" else None


def _age_hit(text: str, start: int, end: int, upper: int, context: str, vocab: Vocabulary, kind: str) -> Hit | None:
    """An age hit for a ceiling of `upper`, unless lawful, about clients, negated or an anti-discrimination phrase."""
    if not _flaggable_upper(upper) or _about_clients_or_law(text, start, end, vocab):
        return None
    side = left_context(text, start, vocab.grounds["age"])
    if (side is not None and side.kind == "neg") or anti_discrimination(text, start, end, vocab):
        return None
    score = _tables().age["approximate_score"] if kind == "approx" else _upper_score(upper)
    return Hit("age", "", start, end, score, text[start:end], kind, context, value=str(upper))


def _number_before(text: str, end: int) -> tuple[int, int] | None:
    """The span of an age number (Arabic or Chinese) that ends at `end`, spaces allowed before `end`."""
    p = _skip_spaces_back(text, end)
    q = p
    if q > 0 and text[q - 1].isascii() and text[q - 1].isdigit():
        digits = 0
        while q > 0 and ((text[q - 1].isascii() and text[q - 1].isdigit()) or text[q - 1] in "\n\r "):
            # A line break inside a number (20~3\n5岁) is an evasion, not a separator.
            if text[q - 1] in "\n\r " and not (q > 1 and text[q - 2].isdigit() and text[q].isdigit()):
                break
            digits += text[q - 1].isdigit()
            q -= 1
        if digits > 3 or (q > 0 and text[q - 1] == "."):
            return None
    else:
        while q > 0 and text[q - 1] in _CN_NUM and p - q < 4:
            q -= 1
    return (q, p) if q < p else None


def _range_lower(text: str, num_start: int) -> tuple[int, int] | None:
    """The lower number's span when `num_start` starts the upper number of a range (18-40 / 18岁至40)."""
    tb = _tables()
    p = _skip_spaces_back(text, num_start)
    joiner = tb.joiners.ending_at(text, p)
    if joiner is None:
        return None
    p = _skip_spaces_back(text, p - len(joiner[0]))
    if text.endswith("岁", 0, p):
        p -= 2 if text.endswith("周岁", 0, p) else 1
    return _number_before(text, p)


def age_at_unit(text: str, s: int, e: int, vocab: Vocabulary) -> Hit | None:
    """An age expression ending in 岁 at [s, e): 35岁以下, 18-40岁, 不超过45周岁, 35岁以上勿扰."""
    tb = _tables()
    unit_start = s - 1 if s > 0 and text[s - 1] == "周" else s
    number = _number_before(text, unit_start)
    if number is None:
        return None
    n = parse_number(text[number[0] : number[1]])
    lo_ok, hi_ok = tb.age["plausible"]
    if n is None or not (lo_ok <= n <= hi_ok):
        return None
    lower = _range_lower(text, number[0])
    if lower is not None:
        lo = parse_number(text[lower[0] : lower[1]])
        if lo is not None and lo_ok <= lo < n:
            return _age_hit(text, lower[0], e, n, "range", vocab, "range")
    num_start = number[0]
    start, end = num_start, e
    pre = tb.bound_before.ending_at(text, _skip_spaces_back(text, num_start))
    post = tb.bound_after.starting_at(text, e)
    if post is not None:
        end = e + len(post[0])
    if pre is not None:
        start = _skip_spaces_back(text, num_start) - len(pre[0])
    # The word after the number decides when both are present (年龄在18岁以上).
    bound = post if post is not None else pre
    direction = bound[1] if bound is not None else None
    excluded = _excluded_after(text, end, vocab)
    if direction == "upper" and bound is not None:
        # 18岁以下勿扰 keeps minors out: a floor, lawful.
        return None if excluded is not None else _age_hit(text, start, end, n, bound[0], vocab, "limit")
    if direction == "lower":
        if excluded is not None:
            return _age_hit(text, start, excluded, n, "exclude", vocab, "exclude")
        if tb.age["flag_lower_bounds"] and n > tb.age["lower_bound_lawful_max"]:
            return _age_hit(text, start, end, tb.age["retirement_upper_bound"] - 1, "floor", vocab, "limit")
        return None
    if direction == "approx":
        # 25岁左右 is a requirement after an age label or before 为宜/优先.
        label_zone = text[max(0, num_start - 6) : num_start]
        side = right_context(text, end, vocab.grounds["age"])
        if any(label in label_zone for label in tb.labels) or (side and side.kind in ("limit", "preference")):
            return _age_hit(text, start, side.end if side else end, n, post[0] if post else "", vocab, "approx")
    return None


def _skip_spaces_back(text: str, pos: int) -> int:
    """`pos` moved back over whitespace, line breaks included (22\n~35岁)."""
    while pos > 0 and text[pos - 1] in " \t\r\n":
        pos -= 1
    return pos


def age_at_plus(text: str, s: int, e: int, vocab: Vocabulary) -> Hit | None:
    """An age written without 岁 before an exclusion: 32+勿扰, 35以上免谈, 40往上的就别报了."""
    # A Chinese numeral counts only before an exclusion that needs a floor word (年过四十的不考虑).
    spelled = text[s:e] in _tables().floor_exclusions and s > 0 and text[s - 1] in _CN_NUM
    if s == 0 or not (text[s - 1].isdigit() or spelled):
        return None  # 3年以上, 大专以上: most floors in a posting are not after a bare number
    number = _number_before(text, s)
    if number is None or not (spelled or text[number[0] : number[1]].strip().isdigit()):
        return None
    n = parse_number(text[number[0] : number[1]])
    if n is None or not (_tables().age["plausible"][0] <= n <= _tables().age["plausible"][1]):
        return None
    if text[s:e] in _tables().floor_exclusions:
        # 超过45的不要: the exclusion after a bare number is about age only after a floor word.
        pre = _tables().bound_before.ending_at(text, _skip_spaces_back(text, number[0]))
        if pre is None or pre[1] != "lower":
            return None
        start = _skip_spaces_back(text, number[0]) - len(pre[0])
        if pre[0] not in _tables().age_floor_words:
            opens = start == 0 or text[start - 1] in vocab.item_delimiters
            closes = e == len(text) or text[e] in vocab.item_delimiters
            if not (opens and closes):
                return None
        return _age_hit(text, start, e, n, text[s:e], vocab, "exclude")
    end = _excluded_after(text, e, vocab) if text[s:e] in _tables().plus_bounds else e
    if end is None:
        return None
    return _age_hit(text, number[0], end, n, text[s:end], vocab, "exclude")


def age_at_label(text: str, s: int, e: int, vocab: Vocabulary) -> Hit | None:
    """An age after its label, with or without 岁: 年龄:18-35, 年龄不超过35, 年龄35以下."""
    tb = _tables()
    if s > 0 and text[s].isascii() and text[s - 1].isascii() and text[s - 1].isalpha():
        return None  # "age" inside an English word (package, manage)
    m = tb.age_label_expr.match(text, e)
    if not m or m.end() <= e or "岁" in text[e : m.end()]:
        return None  # with 岁 the unit rule reports the smaller span (35岁以下)
    pre, n1, n2, post_upper = m.group(1), m.group(2), m.group(3), m.group(4)
    lo = parse_number(n1)
    if lo is None:
        return None
    if n2 is not None:
        hi = parse_number(n2)
        if hi is None or hi <= lo:
            return None
        return _age_hit(text, s, m.end(), hi, "range", vocab, "range")
    if pre or post_upper:
        if _excluded_after(text, m.end(), vocab) is not None:
            return None
        return _age_hit(text, s, m.end(), lo, pre or post_upper, vocab, "limit")
    if m.group(5):
        excluded = _excluded_after(text, m.end(), vocab)
        if excluded is not None:
            return _age_hit(text, s, excluded, lo, "exclude", vocab, "exclude")
    return None


def age_at_birth(text: str, s: int, e: int, vocab: Vocabulary, ref_year: int) -> Hit | None:
    """A birth-year floor: 1990年以后出生 / 出生于1995年之后 (an age ceiling); 以前 is a lawful floor."""
    tb = _tables()
    window_start = max(0, s - 20)
    m = tb.birth_before.search(text[window_start:s])
    start, end = (window_start + m.start(), e) if m else (s, e)
    if m is None:
        m = tb.birth_after.match(text, e)
        if m is None:
            return None
        end = m.end()
    year = int(m.group(1))
    if year < 100:
        year += 2000 if year <= ref_year % 100 else 1900
    if m.group(2) not in tb.birth_after_words:
        return None
    return _age_hit(text, start, end, ref_year - year, "born after", vocab, "limit")


def _height_value(token: str, unit: str | None) -> bool:
    tb = _tables()
    if "米" in token:
        metres = float(token.replace("米", "."))
    elif "." in token:
        metres = float(token)
    else:
        value = int(token)
        lo, hi = tb.height["cm_range"]
        return lo <= value <= hi and unit not in ("m", "米")
    lo_m, hi_m = tb.height["metre_range"]
    return lo_m <= metres <= hi_m


def _body_hit(text: str, start: int, end: int, kind: str, measure: str, vocab: Vocabulary) -> Hit | None:
    """An appearance hit for a height or weight figure, unless negated or in an anti-discrimination phrase."""
    side = left_context(text, start, vocab.grounds["appearance"])
    if (side is not None and side.kind == "neg") or anti_discrimination(text, start, end, vocab):
        return None
    score = _tables().body_scores[kind]
    return Hit("appearance", "", start, end, score, text[start:end], kind, measure, measure, "appearance_occupations")


def height_at_label(text: str, s: int, e: int, vocab: Vocabulary) -> Hit | None:
    """A height figure after its label: 身高165cm以上, 身高:女160,男170, 身高1.75米."""
    m = _tables().height_expr.match(text, e)
    if not m or not _height_value(m.group(1), m.group(2)):
        return None
    return _body_hit(text, s, m.end(), "label", "height", vocab)


def height_at_unit(text: str, s: int, e: int, vocab: Vocabulary) -> Hit | None:
    """A height figure without its label: 165cm以上, 1.65米以上 (a person's size, not an object's)."""
    tb = _tables()
    window_start = max(0, s - 8)
    m = tb.height_number_before.search(text[window_start:s])
    if not m:
        return None
    unit = text[s:e].rstrip("以上下及左右内+之间")
    if not _height_value(m.group(1), unit):
        return None
    start = window_start + m.start()
    a, b = phrase_bounds(text, start, e, vocab)
    if tb.object_words.search(text, a, b):
        return None  # 货架1.8米以上, 宽度150cm以上: an object's size
    if unit in ("m", "米") and not tb.person_words.search(text, a, b):
        return None
    return _body_hit(text, start, e, "standalone", "height", vocab)


def weight_at_label(text: str, s: int, e: int, vocab: Vocabulary) -> Hit | None:
    """A weight criterion after its label: 体重55kg以下, 体重不超过120斤, 体重适中."""
    tb = _tables()
    m = tb.weight_expr.match(text, e)
    end = None
    if m:
        value = float(m.group(2))
        unit, bound = m.group(3), m.group(4)
        if unit and normalize_pattern(unit) == "斤":
            ok = tb.weight["jin_range"][0] <= value <= tb.weight["jin_range"][1]
        else:
            ok = tb.weight["kg_range"][0] <= value <= tb.weight["kg_range"][1] and bool(unit or bound or m.group(1))
        end = m.end() if ok else None
    if end is None:
        q = tb.weight_quality.match(text, e)
        end = q.end() if q and q.end() > e else None
    return None if end is None else _body_hit(text, s, end, "label", "weight", vocab)
