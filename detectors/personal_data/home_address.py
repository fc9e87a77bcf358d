"""Home and dormitory addresses of private persons (家住/现住址/户籍地址 + building, unit or room), not workplaces."""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable
from functools import cache

from detectors.context import DetectionContext
from detectors.findings import Finding
from detectors.masking import mask_address
from detectors.normalize import NormalizedText, normalize_pattern
from detectors.personal_data.attribution import name_opens_line
from detectors.personal_data.cues import lexicon, line_breaks
from detectors.rules import Detector

# The part of an address that pins down a dwelling: a house number, building, unit, room, lane or
# village group, written with a number.
_NUMERAL = "0-9一二三四五六七八九十百零〇两"
_DWELLING = re.compile(
    rf"[{_NUMERAL}]+\s*(?:号楼|号院|号|栋|幢|座|单元|室|弄|组|户|楼|层|房)(?:\s*-?\s*[0-9]{{2,4}}(?:室|房|号)?(?![0-9]))?"
    r"|[a-z]座\s*[0-9]{2,4}|[0-9]{1,3}-[0-9]{1,3}-[0-9]{2,4}"
)
# Premises the employer provides or occupies: "住在公司宿舍3栋" describes the job, not a person.
_EMPLOYER_PREMISES = re.compile(r"^(?:公司|单位|本公司|我司|厂区|厂里|园区|工厂|宿舍区|员工宿舍|集体宿舍)")
_ADDRESS_BODY = r"[:\s]*(?P<addr>[^。;!?\n,]{2,40})"
# Before a bare 住: words that make it board ("包吃住") or an offer ("可住", "需住") rather than residence.
_BOARD_BEFORE = frozenset("包吃管")
_OFFER_BEFORE = frozenset("可要需")
# The end of an address: the next field of a person's entry ("电话", "手机"…) starts after it.
_NEXT_FIELD = re.compile(r"电话|手机|联系|tel|身份证|证件|邮箱|微信|qq|卡号|银行|收款")


@cache
def _surnames() -> frozenset[str]:
    return frozenset(lexicon()["attribution"]["surnames"])


@cache
def _patterns() -> tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str], re.Pattern[str]]:
    lx = lexicon()["address"]
    words = sorted({normalize_pattern(w) for w in lx["residence"]}, key=len, reverse=True)
    premises = sorted({normalize_pattern(w) for w in lx["premises_before"]}, key=len, reverse=True)
    cue = re.compile("(?P<cue>" + "|".join(re.escape(w) for w in words) + ")" + _ADDRESS_BODY)
    before = re.compile("(?:" + "|".join(re.escape(w) for w in premises) + r")\s*$")
    # A bare 住 counts only after a person ("张丽萍 住 …", "该员工住…"), never as 住宿/住房/住所.
    bare = re.compile(r"(?P<cue>住)(?![宿房所院处址])" + _ADDRESS_BODY)
    surnames = lexicon()["attribution"]["surnames"]
    person = re.compile(
        rf"(?:(?:^|[\s,;、。:()0-9])[{surnames}][\u4e00-\u9fff]{{1,2}}|他|她|其|本人|该员工?|该生|员工|学员|求职者|应聘者)[\s,:]*$"
    )
    return cue, before, bare, person


def home_addresses(nt: NormalizedText) -> list[tuple[int, int]]:
    """Normalised spans of private home addresses: a residence word, then an address down to the dwelling."""
    text = nt.text
    if not ("住" in text or "户" in text or "家" in text or "寝" in text or "居" in text):
        return []
    cue_re, premises_before, bare_re, person_before = _patterns()
    found = [*cue_re.finditer(text)]
    bare = [*bare_re.finditer(text)] if "住" in text else []
    if not (found or bare):
        return []
    breaks = line_breaks(nt)
    for m in bare:
        s = m.start()
        if s == 0 or text[s - 1] in _BOARD_BEFORE:
            continue
        if text[s - 1] in _OFFER_BEFORE and not (s > 1 and text[s - 2] in _surnames()):
            continue  # "员工可住宿舍", but "史可住…" is a name
        line_start = _line_start(text, breaks, s)
        if person_before.search(text, max(line_start, s - 6), s) or name_opens_line(text, line_start, s):
            found.append(m)
    spans = []
    for m in found:
        start = m.start("addr")
        limit = _line_end(breaks, start, m.end("addr"))
        nxt = _NEXT_FIELD.search(text, start, limit)
        addr = text[start : nxt.start() if nxt else limit]
        dwelling = None
        for d in _DWELLING.finditer(addr):
            dwelling = d
        if dwelling is None or _EMPLOYER_PREMISES.match(addr):
            continue
        if premises_before.search(text, max(0, m.start() - 6), m.start()):
            continue
        spans.append((start, start + dwelling.end()))
    return sorted(set(spans))


def record_home_addresses(ctx: DetectionContext, path: str) -> list[tuple[int, int]]:
    """`home_addresses` of a field of the record in `ctx`, found once for both detectors that need them."""
    return ctx.shared(f"personal_data.home_addresses:{path}", lambda c: home_addresses(c.norm(path)))


def _line_start(text: str, breaks: list[int], pos: int) -> int:
    lo = max(text.rfind("\n", 0, pos), text.rfind("。", 0, pos)) + 1
    i = bisect_right(breaks, pos)
    return max(lo, breaks[i - 1]) if i else lo


def _line_end(breaks: list[int], start: int, end: int) -> int:
    i = bisect_right(breaks, start)
    return min(end, breaks[i]) if i < len(breaks) else end


class HomeAddressDetector(Detector):
    """A residence word followed by an address detailed to the dwelling."""

    rules = ("personal_data.address",)
    record_types = frozenset({"job_posting", "agency_filing"})

    def detect(self, ctx: DetectionContext) -> Iterable[Finding]:
        evidence = []
        for path in ctx.text_fields:
            nt = ctx.norm(path)
            for start, end in record_home_addresses(ctx, path):
                excerpt = mask_address(nt.original_slice(start, end))
                evidence.append(ctx.evidence(path, start, end, excerpt=excerpt))
        if evidence:
            yield ctx.finding(
                "personal_data.address",
                evidence,
                analysis={"addresses": [e.excerpt for e in evidence], "validation": "residence_word+dwelling_number"},
            )
