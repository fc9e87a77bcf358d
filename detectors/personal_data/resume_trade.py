"""Trade in résumés and personal information (出售简历, 收购简历, 一手简历, 个人信息打包…), including split-character and emoji spellings."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache

from detectors.context import DetectionContext
from detectors.findings import Finding
from detectors.lexicon import compile_alternation
from detectors.normalize import normalize_pattern
from detectors.personal_data.cues import lexicon
from detectors.rules import Detector

# What evaders put between the characters of a word after normalisation has removed spaces and
# decorative symbols: emoji and pictographs, and ASCII punctuation between two CJK characters.
_PUNCT_SPLITTERS = "-.+#=^~'`"
# Emoji, pictographs and dingbats (normalisation has already removed ★☆◆… between CJK characters)
# go wherever they are; ASCII punctuation splits a word only between two CJK characters
# ("出-售-简-历"), elsewhere it is a date, a salary range or a list number. One pattern finds both
# kinds of run from their first character (a pattern that opens with a character class lets the
# regex engine skip ahead to candidates): a symbol run, or a punctuation run with CJK on both sides.
_S = r"\u2190-\u2bff\u3030\u303d\u3297\u3299\u20e3\U0001F000-\U0001FAFF"
_P = re.escape(_PUNCT_SPLITTERS)
_SPLITTERS = re.compile(rf"[{_S}{_P}](?:(?<=[{_S}])[{_S}]*|(?<=[\u4e00-\u9fff][{_P}])[{_P}]*(?=[\u4e00-\u9fff]))")
_SENTENCE_END = re.compile(r"[。;!?\n]")
# The start of a price per record, for the quick look before the full checks.
_PRICE_HINT = re.compile(r"[0-9一二两三四五六七八九十半][0-9.]{0,6}(?:元|块|毛|角)|按[条份个]|[每一][条份个][0-9]")
_WORD_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_")
_NEGATION_WINDOW = 8
_VERB_BEFORE = 6  # characters allowed between a trade verb and the goods ("出售大量优质简历")
_LOOSE_BEFORE = 3
# Between verb and goods, years, counts and ranges do not count towards the reach ("转让2019-2025年
# 全部应聘者档案", "出售30000份简历"): a trader names the stock's age and size there.
_SPAN_SLACK = 20
# Goods with no trade verb or price near them are on sale when the field talks sales in at least
# this many distinct phrases ("一手", "不二卖", "打包价", "看样本").
_SALES_TALK = 2
_QUANTITY = re.compile(r"[0-9][0-9.,\-~至到]*(?:年|月|份|条|万|千|w|k)?")
_VERB_AFTER = 4  # "简历低价出售"
# A price per record: "简历5元一份", "3毛/条", "0.5元每条", "五毛一条", "按条卖".
_PRICE = re.compile(
    r"[0-9一二两三四五六七八九十半]+(?:\.[0-9]+)?(?:元|块|毛|角)(?:/|每|一)?(?:份|条|个|套|组)"
    r"|按(?:条|份|个)(?:卖|出|算|计价|收费|计费)"
    r"|(?:每|一)(?:份|条|个)[0-9一二两三四五六七八九十半]+(?:\.[0-9]+)?(?:元|块|毛|角)"
)
# After an offer, these make it a warning: "出售简历属于违法行为".
_CONDEMNED = re.compile(r"[^。;!?\n]{0,10}?(?:违法|犯罪|违规|处罚|追究|判刑|严惩|侵犯|被抓|被查)")


@dataclass(frozen=True, slots=True)
class _Lexicon:
    anchor: re.Pattern[str]  # every goods word and offer phrase, one literal alternation
    kind: dict[str, str]  # anchor phrase -> goods | loose | offer | offer_deal
    verbs: re.Pattern[str]
    short_verbs: frozenset[str]
    short_buy_verbs: frozenset[str]
    deal: re.Pattern[str]
    negation: re.Pattern[str]
    not_goods_after: re.Pattern[str]
    sales_talk: re.Pattern[str]
    applying: re.Pattern[str]  # an applicant's verb right before the goods ("投递简历")
    series: re.Pattern[str]  # a verb and a conjunction right before another verb ("出售、", "转让或")


@cache
def _lexicon() -> _Lexicon:
    tr = lexicon()["trade"]
    kind: dict[str, str] = {}
    spellings = [normalize_pattern(w) for w in tr["resume_spellings"]]
    for group, name in (
        ("loose_goods", "loose"),
        ("goods", "goods"),
        ("offers_with_deal", "offer_deal"),
        ("offers", "offer"),
    ):
        for w in tr[group]:
            word = normalize_pattern(w)
            kind[word] = name
            if "简历" in word:
                for spelt in spellings:
                    kind.setdefault(word.replace("简历", spelt), name)
    return _Lexicon(
        anchor=compile_alternation(kind),
        kind=kind,
        verbs=compile_alternation(tr["verbs"]),
        short_verbs=frozenset(normalize_pattern(w) for w in tr["short_verbs"]),
        short_buy_verbs=frozenset(normalize_pattern(w) for w in tr["short_buy_verbs"]),
        deal=re.compile(compile_alternation(tr["deal_words"]).pattern + "|" + _PRICE.pattern),
        negation=compile_alternation(tr["negation"]),
        not_goods_after=compile_alternation(tr["not_goods_after"]),
        sales_talk=compile_alternation(tr["sales_talk"]),
        applying=re.compile("(?:" + compile_alternation(tr["applying_before"]).pattern + r")\s*$"),
        series=re.compile(
            "(?:"
            + compile_alternation([*tr["verbs"], *tr["series_verbs"]]).pattern
            + ")(?:、|,|/|或者|或|和|及|以及|与|并)$"
        ),
    )


def _compact(text: str) -> tuple[str, Sequence[int] | None]:
    """The text without splitter characters, and for each kept character its index in `text` (None: unchanged)."""
    cuts = _merge([m.span() for m in _SPLITTERS.finditer(text)])
    if not cuts:
        return text, None
    keep: list[int] = []
    out: list[str] = []
    pos = 0
    for a, b in cuts:
        keep.extend(range(pos, a))
        out.append(text[pos:a])
        pos = b
    keep.extend(range(pos, len(text)))
    out.append(text[pos:])
    return "".join(out), keep


def trade_spans(text: str) -> list[tuple[int, int, str]]:
    """(start, end, phrase) of every trade offer in normalised `text`, offsets into `text`."""
    lx = _lexicon()
    compact, index = _compact(text)
    spans: list[tuple[int, int]] = []
    n = len(compact)
    talk: int | None = None  # distinct sales-talk phrases in the field, counted once when asked
    for m in lx.anchor.finditer(compact):
        s, e = m.span()
        if _inside_a_word(compact, s, e) or lx.not_goods_after.match(compact, e) is not None:
            continue  # "jl" of a handle "jl_ziyuan2025"; "简历模板", a product
        kind = lx.kind[m.group()]
        if kind != "offer" and not _trade_nearby(compact, lx, kind, s, e, n):
            if kind == "loose" or lx.applying.search(compact, max(0, s - 4), s) is not None:
                continue  # "投递简历", "数据分析": nothing of a trade around the goods
            if talk is None:
                talk = len({t.group() for t in lx.sales_talk.finditer(compact)})
            if talk < _SALES_TALK:
                continue
            found_by_talk = True
        else:
            found_by_talk = False
        lo, hi = _sentence(compact, s, e)
        found: tuple[int, int] | None = None
        reach = _LOOSE_BEFORE if kind == "loose" else _VERB_BEFORE
        for v in lx.verbs.finditer(compact, max(lo, s - reach - _SPAN_SLACK), s):
            if _gap(compact, v.end(), s) <= reach:
                found = (v.start(), e)
                break
        if found is None and found_by_talk:
            found = (s, e)  # an ad: "同城简历数据…一手不二卖，打包价更优"
        if found is None:
            if kind == "offer":
                found = (s, e)
            elif kind == "offer_deal" and (lx.deal.search(compact, lo, s) or lx.deal.search(compact, e, hi)):
                found = (s, e)
            elif kind != "loose":
                found = _verb_after_or_price(compact, lx, s, e, lo, hi)
        if found is None:
            continue
        a, b = found
        head = _series_head(compact, lx, a, lo)
        neg_lo = max(lo, head - _NEGATION_WINDOW)
        if lx.negation.search(compact, neg_lo, head) or _CONDEMNED.match(compact, b):
            continue
        spans.append((a, b))
    if not spans:
        return []
    out = []
    for a, b in _merge(spans):
        phrase = compact[a:b]
        if index is not None:
            a, b = index[a], index[b - 1] + 1
        out.append((a, b, phrase))
    return out


def _gap(text: str, a: int, b: int) -> int:
    """Characters between a verb and its goods, a year, count or range counting as one."""
    between = text[a:b]
    if len(between) <= 1 or "," in between or not any("0" <= ch <= "9" for ch in between):
        return len(between)
    return len(_QUANTITY.sub("#", between))


def _series_head(text: str, lx: _Lexicon, a: int, lo: int) -> int:
    """The first verb of a series the verb at `a` ends ("不会出售、转让或共享简历"): a negation before the
    series denies every verb in it."""
    while True:
        m = lx.series.search(text, max(lo, a - 12), a)
        if m is None:
            return a
        a = m.start()


def _inside_a_word(text: str, s: int, e: int) -> bool:
    """A match whose Latin first or last letter runs on into letters, digits or an underscore."""
    if "a" <= text[s] <= "z" and s > 0 and text[s - 1] in _WORD_CHARS:
        return True
    return "a" <= text[e - 1] <= "z" and e < len(text) and text[e] in _WORD_CHARS


def _trade_nearby(text: str, lx: _Lexicon, kind: str, s: int, e: int, n: int) -> bool:
    """A quick look for anything that could make the goods at [s, e) a trade, before the full checks."""
    if lx.verbs.search(text, max(0, s - _VERB_BEFORE - _SPAN_SLACK), min(n, e + _VERB_AFTER + 5)) is not None:
        return True
    if kind == "loose":
        return False
    if s > 0 and (text[s - 1] in lx.short_verbs or text[s - 1] in lx.short_buy_verbs):
        return True
    if _PRICE_HINT.search(text, max(0, s - 14), min(n, e + 16)) is not None:
        return True  # a price per record
    return kind == "offer_deal"


def _verb_after_or_price(text: str, lx: _Lexicon, s: int, e: int, lo: int, hi: int) -> tuple[int, int] | None:
    """Goods at [s, e) traded by a short verb before ("卖简历"), a verb after ("简历低价出售") or a price."""
    if s > lo and text[s - 1] in lx.short_verbs:
        return s - 1, e
    if (
        s > lo
        and text[s - 1] in lx.short_buy_verbs
        and (lx.deal.search(text, lo, s - 1) or lx.deal.search(text, e, hi))
    ):
        return s - 1, e
    v = lx.verbs.search(text, e, min(hi, e + _VERB_AFTER + 5))
    if v is not None and v.start() <= e + _VERB_AFTER:
        return s, v.end()
    p = _PRICE.search(text, e, min(hi, e + 16)) or _PRICE.search(text, max(lo, s - 14), s)
    if p is not None:
        return min(s, p.start()), max(e, p.end())
    return None


class ResumeTradeDetector(Detector):
    """Offers to sell or buy résumés or personal data, not warnings or promises against it."""

    rules = ("personal_data.resume_trade",)
    record_types = frozenset({"job_posting", "agency_filing"})

    def detect(self, ctx: DetectionContext) -> Iterable[Finding]:
        evidence = []
        phrases = []
        for path in ctx.text_fields:
            for start, end, phrase in trade_spans(ctx.norm(path).text):
                evidence.append(ctx.evidence(path, start, end))
                phrases.append(phrase)
        if evidence:
            yield ctx.finding(
                "personal_data.resume_trade",
                evidence,
                analysis={"phrases": sorted(set(phrases)), "validation": "trade_verb+personal_data_goods"},
            )


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Overlapping matches ("出售简历" and "简历资源") as one span."""
    out: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if out and start < out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def _sentence(text: str, start: int, end: int) -> tuple[int, int]:
    """The sentence around [start, end)."""
    lo = max(text.rfind(c, 0, start) for c in "。;!?\n") + 1
    nxt = _SENTENCE_END.search(text, end)
    return lo, nxt.start() if nxt else len(text)
