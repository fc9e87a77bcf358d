"""Home and dormitory addresses of private persons (家住/现住址/户籍地址 + building, unit or room), not workplaces."""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable
from functools import cache

from detectors.context import DetectionContext, field_value
from detectors.findings import Finding
from detectors.masking import mask_address
from detectors.normalize import NormalizedText, normalize, normalize_pattern
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


# A flat in a residential block, pinned down to building, entrance and door ("4栋1单元702",
# "12号楼3单元501室", "5-2-301"): an office is on a floor of a tower, not behind a 单元 door. Looked
# for only in fields that have 单元/栋/号楼/幢 somewhere (a bare "5-2-301" alone is left out: hyphens
# are in every salary range, and scanning for it would cost every posting).
_FLAT = re.compile(
    rf"[{_NUMERAL}]+\s*(?:栋|幢|号楼|座)\s*[{_NUMERAL}]+\s*单元\s*[0-9]{{2,4}}(?:室|房|号)?(?![0-9])"
    r"|(?<![0-9-])[0-9]{1,3}-[0-9]{1,2}-[0-9]{3,4}(?:室|房|号)?(?![0-9-])"
    # or a residential estate, then building and door ("阳光花园12栋502", "幸福家园3号楼1202室")
    rf"|(?:小区|花园|家园|公寓|新村|山庄|雅苑|苑)[^\s,。;:]{{0,10}}?[{_NUMERAL}]+\s*(?:栋|幢|号楼)\s*[0-9]{{3,4}}(?:室|房|号)?(?![0-9])"
)
# A field word opening the entry's value ("宋丽萍 地址：…"): the address starts after it.
_ADDRESS_LABEL = re.compile(r"(?:家庭|收件|收货|邮寄|通讯)?(?:住址|地址)\s*:?\s*")
# A courtesy title (王经理, 张先生: a recruiter) or a place (金鹰店, 东区) where a name would be.
_NOT_A_NAME = re.compile(
    r"(?:先生|女士|小姐|经理|总|老师|主管|师傅|姐|哥|工|主任|老板|店长|助理|[店厂部司馆院园苑城点区处])$"
)


@cache
def _entry_head() -> re.Pattern[str]:
    """A line opening with a full name, then a colon, a space or an address word ("宋丽萍：", "宋丽萍 地址：")."""
    surnames = lexicon()["attribution"]["surnames"]
    return re.compile(
        rf"\s*(?:[0-9]{{1,2}}[.、)]\s*)?(?P<name>[{surnames}][\u4e00-\u9fff]{{1,2}}?)"
        r"(?:\s*:\s*|\s+|(?=(?:家庭|收件|收货|邮寄|通讯)?(?:住址|地址)))"
    )


_LONG_NUMBER = re.compile(r"[0-9]{7,}[:,\s]*")


def _named_entry_flats(nt: NormalizedText, breaks: list[int]) -> list[tuple[int, int]]:
    """Flats written as a named person's entry, one a line ("宋丽萍：…槐荫大道217号丽景苑4栋1单元702"):
    a list of where people live, though no residence word introduces it."""
    text = nt.text
    spans = []
    for m in _FLAT.finditer(text):
        line_start = _line_start(text, breaks, m.start())
        head = _entry_head().match(text, line_start, m.start())
        if head is None or _NOT_A_NAME.search(head.group("name")):
            continue  # the entry must open with a person's name, the address its value
        label = _ADDRESS_LABEL.match(text, head.end())
        begin = label.end() if label else head.end()
        body = text[begin : m.start()]
        if len(body) > 40 or "," in body or _NEXT_FIELD.search(body) or _EMPLOYER_PREMISES.match(body):
            continue
        start = begin
        for number in _LONG_NUMBER.finditer(body):
            start = begin + number.end()  # "王建国 138… 幸福里3-2-401": the address after the phone
        spans.append((start, m.end()))
    return spans


def home_addresses(nt: NormalizedText) -> list[tuple[int, int]]:
    """Normalised spans of private home addresses: a residence word, then an address down to the dwelling;
    or a flat written as a named person's entry."""
    text = nt.text
    flats = (
        _named_entry_flats(nt, line_breaks(nt))
        if ("单元" in text or "栋" in text or "号楼" in text or "幢" in text)
        else []
    )
    if not ("住" in text or "户" in text or "家" in text or "寝" in text or "居" in text):
        return flats
    cue_re, premises_before, bare_re, person_before = _patterns()
    found = [*cue_re.finditer(text)]
    bare = [*bare_re.finditer(text)] if "住" in text else []
    if not (found or bare):
        return flats
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
    # A flat found both ways is reported once, with the residence word's span.
    spans += [f for f in flats if not any(a < f[1] and f[0] < b for a, b in spans)]
    return sorted(set(spans))


def record_home_addresses(ctx: DetectionContext, path: str) -> list[tuple[int, int]]:
    """`home_addresses` of a field of the record in `ctx`, found once for both detectors that need them.

    An address the record itself gives as the place of work (`location.address`) is the employer's
    own: a household employer hiring a live-in nanny publishes the home where the job is done, which
    is no third person's data (the employer's-own-contact principle)."""
    return ctx.shared(f"personal_data.home_addresses:{path}", lambda c: _not_workplace(c, path))


def _not_workplace(ctx: DetectionContext, path: str) -> list[tuple[int, int]]:
    nt = ctx.norm(path)
    spans = home_addresses(nt)
    if not spans:
        return spans
    workplace = field_value(ctx.record, "location.address")
    if not isinstance(workplace, str) or len(workplace.strip()) < 4:
        return spans
    place = normalize(workplace).text.replace(" ", "")
    return [(a, b) for a, b in spans if place not in nt.text[a:b].replace(" ", "")]


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
