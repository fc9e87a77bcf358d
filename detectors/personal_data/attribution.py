"""Whose identifier is it: the employer's own recruiting contact, or a third person's (job-seeker, employee, a name in a list)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache

from detectors.normalize import normalize_pattern
from detectors.personal_data.cues import (
    ATTRIBUTION,
    EMPLOYER,
    GENERIC,
    MISCONDUCT,
    NOUN,
    PERSON,
    PRONOUN,
    ROSTER,
    THIRD,
    Cue,
    CueIndex,
    lexicon,
)

THIRD_PERSON, OWN_CONTACT, UNATTRIBUTED = "third_person", "own_contact", "unattributed"

_CLAUSE_WINDOW = 30  # characters back from an identifier in which a cue attributes it
_ROSTER_WINDOW = 160  # a list header reaches this far over the lines that follow
_TITLE_GUARD = 4  # "求职者王女士": a person word this close before a title makes the title a third person
_LIST_LINES = 12  # entries a list header may stand above
_NOUN_WINDOW = 15  # a bare person noun reaches this far within its comma clause
_SENTENCE_REACH = 80  # how far back in its sentence a contact word looks for the person it belongs to
_STORY_AFTER = 60  # how far after an identifier a story about its holder goes on ("…放鸽子，别被坑")
# Titles after a surname name the recruiter by courtesy (张先生, 李经理), not a listed person.
_TITLE = re.compile(r"(?:先生|女士|小姐|经理|总|老师|主管|师傅|姐|哥|工|主任|老板|店长|助理)$")


@dataclass(frozen=True, slots=True)
class Attribution:
    holder: str  # THIRD_PERSON, OWN_CONTACT or UNATTRIBUTED
    reason: str  # the cue or check that decided, for the finding's analysis (never the identifier)


@cache
def _header_words() -> re.Pattern[str]:
    """A quick test for list-header and notice words, before the full cue scan over a long window."""
    att = lexicon()["attribution"]
    words = sorted({normalize_pattern(w) for w in (*att["roster"], *att["person"])}, key=len, reverse=True)
    return re.compile("|".join(re.escape(w) for w in words))


@cache
def _misconduct_negation() -> re.Pattern[str]:
    """Words right before a misconduct word that deny it ("绝不拖欠") or warn against it ("拒绝放鸽子")."""
    words = sorted(
        (normalize_pattern(w) for w in lexicon()["attribution"]["misconduct_negation"]), key=len, reverse=True
    )
    # Right before it, or with one character between ("不招放鸽子的").
    return re.compile("(?:" + "|".join(re.escape(w) for w in words) + ")[\u4e00-\u9fff]?$")


@cache
def contact_fields() -> frozenset[str]:
    return frozenset(normalize_pattern(w) for w in lexicon()["attribution"]["contact_fields"])


@cache
def _people_words() -> re.Pattern[str]:
    """Words in a list header that say the list is of people."""
    words = lexicon()["attribution"]["list_header_people"]
    return re.compile("|".join(re.escape(normalize_pattern(w)) for w in sorted(words, key=len, reverse=True)))


@cache
def _name_patterns() -> tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str], re.Pattern[str], re.Pattern[str]]:
    surnames = lexicon()["attribution"]["surnames"]
    roles = "|".join(
        re.escape(normalize_pattern(w)) for w in sorted(lexicon()["attribution"]["roles"], key=len, reverse=True)
    )
    name = rf"(?P<name>[{surnames}][\u4e00-\u9fff]{{1,2}}?)"
    field = (
        r"(?:联系电话|联系方式|手机号码|手机号|手机|电话号码|电话|tel|邮箱|e-?mail|微信号?|qq号?|身份证号码?|证件号码?)"
    )
    tail = rf"[\s:,()|/]*{field}?[\s:+|/]*$"
    marker = r"(?:[0-9]{1,2}[.、)]|\([0-9]{1,2}\)|[①-⑳])?\s*"
    follows = r"(?=[\s,:()/|]|住|家|现|户|电话|手机|联系|tel|身份|证件|公民|男|女|[0-9]|邮箱|微信|qq|工号|籍贯|收款|卡号|银行)"
    # A full name right before the identifier, optionally with a field word between ("李娜 电话:"):
    # at the start of the line, or after a separator.
    at_line_start = re.compile(rf"^\s*{marker}{name}{tail}")
    after_separator = re.compile(rf"[\s,;、。:()\[\]0-9.|/]{name}{tail}")
    # Or right after the post the person held, written without a space ("骑手谭磊 159…").
    after_role = re.compile(rf"(?:{roles}){name}{tail}")
    # A full name opening the line (or the part after a colon), followed by what lists put after a name.
    opening = re.compile(rf"\s*{marker}{name}{follows}")
    after_colon = re.compile(rf"(?<=[,;、:])\s*{marker}{name}{follows}")
    return at_line_start, after_separator, opening, after_colon, after_role


def entry_name(text: str, item_start: int, start: int) -> str | None:
    """The full name (not a title like 张先生) the identifier at `start` is written under, if any."""
    at_line_start, after_separator, opening, after_colon, after_role = _name_patterns()
    line = text[item_start:start]
    if len(line) <= 24:
        m = at_line_start.search(line) or after_separator.search(line) or after_role.search(line)
    else:
        m = after_separator.search(line, len(line) - 24) or after_role.search(line, len(line) - 24)
    if m is None:
        ahead = text[item_start : start + 4]
        m = opening.match(ahead) or after_colon.search(ahead, 0, len(line))
        if m is not None and m.end("name") > len(line):
            m = None
    if m is None or _TITLE.search(m.group("name")):
        return None
    return m.group("name")


def name_opens_line(text: str, line_start: int, pos: int) -> bool:
    """True when a full name (not a title) opens the line, or the part after a colon, before `pos`."""
    _, _, opening, after_colon, _ = _name_patterns()
    line = text[line_start : pos + 4]  # a little beyond, for the look-ahead after the name
    m = opening.match(line) or after_colon.search(line, 0, pos - line_start)
    return m is not None and m.end("name") <= pos - line_start and not _TITLE.search(m.group("name"))


def _list_header(cues: CueIndex, start: int) -> str | None:
    """The header of the list the identifier's line belongs to ("已录用人员名单：", "报到人员："), if any.

    Walks back over lines that open with a name (the list's entries) to the line before them; that
    line is the header when it ends with a colon and speaks of people.
    """
    text = cues.text
    lo, _ = cues.sentence_span(start, start)
    for _ in range(_LIST_LINES):
        if lo == 0:
            return None
        h_lo, _ = cues.sentence_span(lo - 1, lo - 1)
        header = text[h_lo:lo].strip(" \n\t。")
        if header.endswith(":"):
            m = _people_words().search(header)
            return m.group() if m else None
        if not name_opens_line(text, h_lo, lo):
            return None
        lo = h_lo
    return None


def described_as_third_person(cues: CueIndex, text: str, name: str) -> str | None:
    """The person cue right before some mention of `name` ("离职员工郑海波", "求职者李娜"), if any."""
    pos = text.find(name)
    while pos >= 0:
        for cue in cues.scan(max(0, pos - 8), pos):
            if cue.kinds & THIRD and cue.end >= pos - 2:
                return cue.phrase
        pos = text.find(name, pos + len(name))
    return None


def attribute(cues: CueIndex, start: int, end: int, *, strong_in_sentence: bool) -> Attribution:
    """Decide from the cue words around it who holds the identifier at normalised [start, end)."""
    if strong_in_sentence:
        return Attribution(THIRD_PERSON, "same entry as an ID, card or passport number")
    line_start = cues.sentence_span(start, end)[0]
    for cue in cues.before(start, ATTRIBUTION, window=_CLAUSE_WINDOW):
        if cue.kinds <= GENERIC and not _noun_applies(cues, cue, start):
            continue
        if cue.kinds == {EMPLOYER} and cue.phrase in contact_fields() and _about_a_person(cues, line_start, cue):
            continue  # "刘强 联系电话 159…", "程畅入职三天不辞而别（联系电话…）": a field of a person's entry
        if cue.kinds & THIRD:
            return Attribution(THIRD_PERSON, f"person cue '{cue.phrase}'")
        # A title right after a person word ("应聘者李先生") names the third person, not the recruiter.
        guard = (
            cues.nearest(cue.start, frozenset({PERSON, NOUN}), window=_TITLE_GUARD)
            if _TITLE.search(cue.phrase)
            else None
        )
        if guard is not None:
            return Attribution(THIRD_PERSON, f"person cue '{guard.phrase}'")
        return Attribution(OWN_CONTACT, f"employer contact cue '{cue.phrase}'")
    after = cues.after(end, frozenset({PERSON}) | GENERIC, window=12)
    if after is not None and (
        PERSON in after.kinds
        or cues.names_holder(after)
        # "王磊（138…）已通过背调": the event is told of the name the identifier is written under
        or entry_name(cues.text, line_start, start) is not None
    ):
        return Attribution(THIRD_PERSON, f"person cue '{after.phrase}'")
    if _header_words().search(cues.text, max(0, start - _ROSTER_WINDOW), start) is not None:
        header = cues.nearest(start, frozenset({EMPLOYER, ROSTER, PERSON}), window=_ROSTER_WINDOW, same_sentence=False)
        if header is not None and (
            ROSTER in header.kinds or (PERSON in header.kinds and _opens_list(cues.text, header))
        ):
            return Attribution(THIRD_PERSON, f"list header '{header.phrase}'")
    people = _list_header(cues, start)
    if people is not None:
        return Attribution(THIRD_PERSON, f"list of people under '{people}'")
    told = _story_about_a_person(cues, start, end)
    if told is not None:
        return Attribution(THIRD_PERSON, told)
    told = _pronoun_of_a_person(cues, start, line_start)
    if told is not None:
        return Attribution(THIRD_PERSON, told)
    return Attribution(UNATTRIBUTED, "no third-person cue")


# 他/她/其 owning the identifier's label right before it: "他微信号 …", "她的手机：…", "她留的邮箱是 …".
_PRONOUN_LABEL = re.compile(
    r"([他她其])(?:的|留的|留下的|填的|写的)?\s*"
    r"(?:手机号码|手机号|手机|电话号码|电话|联系方式|邮箱|e-?mail|微信号|微信|wechat|qq号|qq)"
    r"(?:号码|号)?\s*(?:是|为)?\s*:?\s*$"
)


def _pronoun_of_a_person(cues: CueIndex, start: int, line_start: int) -> str | None:
    """The label is a pronoun's ("他微信号 …") and the pronoun points back, within its paragraph and
    with no recruiter between, at a specific third person ("来面试的小伙子王磊…。他微信号…"). A
    pronoun after a contact word ("联系人王女士，她的微信…") is the recruiter's, and stays unattributed."""
    text = cues.text
    m = _PRONOUN_LABEL.search(text, max(line_start, start - 14), start)
    if m is None:
        return None
    p = m.start(1)
    words = _pronoun_words()
    if text[max(0, p - 1) : p + 1] in words or text[p : p + 2] in words:
        return None  # 其他, 他们
    paragraph = text.rfind("\n", 0, p) + 1
    named = _named_noun().search(text, max(paragraph, p - _SENTENCE_REACH), p)
    if named is not None and not any(
        EMPLOYER in c.kinds and c.phrase not in contact_fields() and c.start >= named.end()
        for c in cues.before(p, frozenset({EMPLOYER}), window=p - named.end(), same_sentence=False)
    ):
        return f"pronoun '{m.group(1)}' of a named '{named.group(1)}'"  # "请应聘者李娜尽快回电，她的手机…"
    for cue in cues.before(p, ATTRIBUTION, window=min(_SENTENCE_REACH, p - paragraph), same_sentence=False):
        if EMPLOYER in cue.kinds and cue.phrase not in contact_fields():
            return None
        # A person noun the text has not made an addressee ("来试工的小姑娘…。她手机…") is someone
        # specific here; an event or misconduct word only with a name.
        if cue.kinds & (THIRD - GENERIC) or NOUN in cue.kinds or (cue.kinds & GENERIC and cues.names_holder(cue)):
            return f"pronoun '{m.group(1)}' of '{cue.phrase}'"
    return None


@cache
def _named_noun() -> re.Pattern[str]:
    """A person noun and the full name it introduces ("应聘者李娜", "候选人：赵一鸣"), whatever comes before."""
    att = lexicon()["attribution"]
    nouns = "|".join(re.escape(normalize_pattern(w)) for w in sorted(att["person_nouns"], key=len, reverse=True))
    return re.compile(rf"({nouns}):?[{att['surnames']}][\u4e00-\u9fff]")


@cache
def _pronoun_words() -> frozenset[str]:
    return frozenset(normalize_pattern(w) for w in lexicon()["attribution"]["pronoun_words"])


def _story_about_a_person(cues: CueIndex, start: int, end: int) -> str | None:
    """The identifier's paragraph tells of a specific person's misconduct ("这个人叫吴志鹏，…人就跑了，
    电话…", "王一鸣 邮箱…投简历后又放鸽子", "招的学徒 微信:… 帮她买了工具，结果拉黑"): the person
    is a name the identifier is written under, a specific person cue or a pronoun, the misconduct
    word not denied ("绝不拖欠"), both within reach in the same paragraph (a story runs over
    sentences: "这个人叫王强。干了三天就跑了。电话…"). Only asked when no cue near the identifier
    attributed it, so a recruiter's own number ("联系人…") never gets here."""
    text = cues.text
    lo = max(text.rfind("\n", 0, start) + 1, start - _SENTENCE_REACH)
    line_end = text.find("\n", end)
    hi = min(len(text) if line_end < 0 else line_end, end + _STORY_AFTER)
    found = [c for c in cues.scan(lo, hi) if c.end <= start or c.start >= end]
    denied = _misconduct_negation()
    misconduct = next(
        (c for c in found if MISCONDUCT in c.kinds and denied.search(cues.text, max(0, c.start - 5), c.start) is None),
        None,
    )
    if misconduct is None:
        return None
    person = next((c for c in found if c.kinds & {PERSON, PRONOUN}), None)
    if person is not None:
        return f"story of misconduct '{misconduct.phrase}' about '{person.phrase}'"
    name = entry_name(cues.text, cues.sentence_span(start, end)[0], start)
    if name is not None:
        return f"story of misconduct '{misconduct.phrase}' about a named person"
    return None


def attribute_named(cues: CueIndex, name: str, *, named_list: bool) -> Attribution:
    """An identifier written under a full name and no cue: a person when listed with others or described as one."""
    if named_list:
        return Attribution(THIRD_PERSON, "named person in a list")
    described = described_as_third_person(cues, cues.text, name)
    if described is not None:
        return Attribution(THIRD_PERSON, f"named person described as '{described}'")
    return Attribution(UNATTRIBUTED, "no third-person cue")


def _about_a_person(cues: CueIndex, line_start: int, field: Cue) -> bool:
    """The sentence before a contact-field word is about a third person: a name opens it, or a person word precedes."""
    if name_opens_line(cues.text, line_start, field.start):
        return True
    earlier = cues.before(field.start, THIRD, window=_SENTENCE_REACH)
    return any(c.kinds & (THIRD - GENERIC) or (c.kinds & GENERIC and cues.names_holder(c)) for c in earlier)


def _noun_applies(cues: CueIndex, cue: Cue, start: int) -> bool:
    """A generic noun holds the number when it names someone, or sits in the number's own comma clause."""
    if cues.names_holder(cue):
        return True
    between = cues.text[cue.end : start]
    return len(between) <= _NOUN_WINDOW and "," not in between


def _opens_list(text: str, cue: Cue) -> bool:
    """A notice word that heads a list: "本批录用：", "恭喜以下学员入职：" (a colon shortly after it)."""
    colon = text.find(":", cue.end, cue.end + 8)
    return colon >= 0 and "。" not in text[cue.end : colon]


def digits_of(value: object) -> str:
    """The digits of a contact field (a phone written with +86, spaces or hyphens), without the country code."""
    if not isinstance(value, str):
        return ""
    d = "".join(ch for ch in value if ch.isdigit())
    if d.startswith("0086"):
        d = d[4:]
    elif d.startswith("86") and len(d) == 13:
        d = d[2:]
    return d


def own_contact_values(contact: Mapping[str, object] | None) -> tuple[frozenset[str], str]:
    """The employer's published contact values (phone digits, handles, e-mail) and its e-mail domain."""
    if not contact:
        return frozenset(), ""
    values: set[str] = set()
    for key in ("phone", "wechat", "qq"):
        v = contact.get(key)
        if isinstance(v, str) and v.strip():
            values.add(v.strip().lower())
            if digits_of(v):
                values.add(digits_of(v))
    email = contact.get("email")
    domain = ""
    if isinstance(email, str) and "@" in email:
        values.add(email.strip().lower())
        domain = email.strip().lower().rsplit("@", 1)[1]
    return frozenset(values), domain
