"""Finding identifier candidates in normalised text: one pass for digit runs (IDs, cards, mobiles), plus e-mail, passport or travel-permit and IM handles when their markers appear."""

from __future__ import annotations

import re
from dataclasses import dataclass

from detectors.identifiers import (
    valid_bank_card,
    valid_first_generation_resident_id,
    valid_mobile,
    valid_passport,
    valid_resident_id,
    valid_travel_permit,
    valid_uscc,
)
from detectors.lexicon import load_toml
from detectors.masking import (
    mask_address,
    mask_bank_card,
    mask_email,
    mask_handle,
    mask_mobile,
    mask_passport,
    mask_resident_id,
)
from detectors.normalize import NormalizedText, normalize_pattern

RESIDENT_ID, MOBILE, BANK_CARD, PASSPORT, EMAIL, IM_ACCOUNT, ADDRESS = (
    "resident_id",
    "mobile",
    "bank_card",
    "passport",
    "email",
    "im_account",
    "address",
)

# Chinese numerals evaders spell numbers with; the normaliser converts only long all-numeral runs,
# so runs mixing them with digits ("138 一二三四 5678") are converted here, character for character.
_LABELS = load_toml("detectors.personal_data", "lexicon.toml")["labels"]
_NUMERAL_MAP: dict[str, str] = load_toml("detectors", "data/normalization.toml")["numeral_digits"]["map"]
_NUMERALS = "".join(_NUMERAL_MAP)
_TO_DIGITS = str.maketrans(_NUMERAL_MAP)
_TO_SEPARATORS = str.maketrans(dict.fromkeys(_NUMERAL_MAP, " "))
# A run of digits (or numerals) and the separators people write inside numbers: hyphens, dashes,
# dots, slashes, brackets, keycap marks, spaces (spaces between two digits are already gone after
# normalisation; their trace is kept in the offset map and splits groups), line breaks (an ID pasted
# into a chat four digits a line), and the dots of other scripts people group digits with (bullet
# •, katakana ・, operator dots ∙⋅, hyphenation point ‧). One character class, so the engine scans the posting once;
# groups, glue and numerals are sorted out in code.
_RUN_CHARS = rf"0-9{_NUMERALS} \t\n\-‐‑–—.·•∙⋅‧・/()\u20e3"
_NUMBER_RUN = re.compile(rf"[0-9{_NUMERALS}][{_RUN_CHARS}]{{10,}}")
_DIGITS = frozenset("0123456789") | frozenset(_NUMERAL_MAP)
_NUMERAL = re.compile(f"[{_NUMERALS}]")
_SEPARATOR = re.compile(r"[^0-9x" + _NUMERALS + "]+")
_ASCII_DIGIT = re.compile("[0-9]")
# A group of digits within a run; an x only as the last character (a resident ID's check character).
_DIGIT_GROUP = re.compile(r"[0-9]+(?:x\Z)?|x\Z")
# Not glued to letters, masking stars or an @: part of a USCC, a masked ID (110105********1234) or
# an e-mail local part is not a number of its own.
_GLUED = frozenset("0123456789abcdefghijklmnopqrstuvwxyz*@#_")
# E-mail, also spelt out to dodge scrapers: lixue(at)163.com, lixue#163.com, lixue 艾特 163 点 com,
# lixue圈a163点com, lixue [at] qq [dot] com, lixue @ 163 . com; any of the words in any brackets.
_AT_WORD = r"(?:@|at|艾特|圈a)"
_AT = rf"(?:[(\[{{<]\s*{_AT_WORD}\s*[)\]}}>]|@|艾特|圈a|#|\s+at\s+)"
_DOT = r"(?:\s*(?:[(\[{<]\s*(?:dot|点|\.)\s*[)\]}>]|\.|点|。)\s*|\s+dot\s+)"
# Words that can spell the @ (the scan for addresses runs only where one of them is).
# Whether a field can hold an address at all: plain `in` tests first (a regex alternation of these
# costs ten times more), the bracketed/spaced "at" only where "at" occurs.
_AT_WORD_HINT = re.compile(r"[(\[{<]\s*at|\sat\s")
_TLD = r"(?:com|cn|net|org|edu|gov|cc|io|me|co|info|biz|top|vip|hk|tw|mo|jp|uk|us|de)"
_EMAIL_AT = re.compile(_AT)
_EMAIL_LOCAL = re.compile(r"(?<![a-z0-9._%+-])([a-z0-9][a-z0-9._%+-]{0,63})\s*$")
_EMAIL_DOMAIN = re.compile(
    rf"\s*([a-z0-9][a-z0-9-]*(?:{_DOT}[a-z0-9-]+)*{_DOT}{_TLD}(?:{_DOT}(?:cn|hk|tw|jp|uk))?)(?![a-z0-9])"
)
_DOT_SPELLING = re.compile(_DOT)
# A local part spelt out in spaced words ("zhang jia hui 1998 at 163 dot com"): up to four more
# Latin or digit words, each one space apart, back to something that is not Latin (a CJK word, a
# colon), so that a sentence of English is not taken for a name.
_SPACED_LOCAL = re.compile(r"(?:^|(?<=[^a-z0-9 ]))\s?((?:[a-z0-9]{1,12} ){1,4})$")
# A passport or travel-permit number after its letter series: E12345678, EA1234567, G12345678,
# P1234567, 141234567; C12345678, CA1234567, L12345678, H1234567801.
_PASSPORT = re.compile(r"([ec](?:[ \-]?[a-z](?=[ \-]?[0-9]))?|[gpsdwlthm]|1[45])[ \-]?([0-9]{7,10})(?![0-9a-z])")
# Words that must be in a field before passports and permits are looked for.

PASSPORT_FORMAT, PERMIT_FORMAT = "prc_passport_format", "travel_permit_format"
# An IM handle after its label: 微信(号)/qq(号) and their evasive spellings, then a WeChat id or QQ number.
_IM_WECHAT = [normalize_pattern(w) for w in _LABELS["im_wechat"]]
_IM_QQ = [normalize_pattern(w) for w in _LABELS["im_qq"]]
_IM = re.compile(
    "(" + "|".join(re.escape(w) for w in sorted({*_IM_WECHAT, *_IM_QQ}, key=len, reverse=True)) + ")"
    r"号?(?:码|账号|帐号|id)?\s*(?:是|为)?\s*[:]?\s*([a-z][-_a-z0-9]{5,19}|[1-9][0-9]{4,11})(?![-_a-z0-9])"
)
_IM_HINT = re.compile("|".join(re.escape(w) for w in sorted({*_IM_WECHAT, *_IM_QQ}, key=len, reverse=True)))
# A bare letter label: a word of its own, then 号 or a colon, then the handle ("V：lvting_0521").
_LETTER_QQ = frozenset(_LABELS["im_letter_qq"])
_LETTERS = "".join(sorted({*_LABELS["im_letter_wechat"], *_LETTER_QQ}))
_IM_LETTER = re.compile(
    rf"[{_LETTERS}](?<![a-z0-9_][{_LETTERS}])(?:号码?|号)?\s*:\s*([a-z][-_a-z0-9]{{5,19}}|[1-9][0-9]{{4,11}})(?![-_a-z0-9.@])"
)
_LETTER_HINT = re.compile(rf"[{_LETTERS}](?:号|\s*:)")
_LETTER_CHARS = tuple(_LETTERS)


@dataclass(frozen=True, slots=True)
class Sighting:
    """One validated identifier in a normalised field. `value` is the raw identifier and never leaves this package."""

    kind: str
    field: str
    start: int  # normalised offsets
    end: int
    value: str
    validation: str
    label: str = ""  # what the text calls it, when it does (IM label)

    @property
    def masked(self) -> str:
        """The identifier as findings show it: 110105********1234, 138****5678, li***@163.com."""
        return mask(self.kind, self.value)


def _run_digits(run: str) -> str:
    """The run with numerals as digits when they spell the number, or as separators when they are words."""
    if _NUMERAL.search(run) is None:
        return run
    if len(_NUMERAL.findall(run)) >= 3 or _ASCII_DIGIT.search(run) is None:
        return run.translate(_TO_DIGITS)
    return run.translate(_TO_SEPARATORS)  # "第一 138…": a stray numeral word, not part of the number


def _groups(nt: NormalizedText, digits: str, offset: int) -> list[tuple[str, int, int]]:
    """Split a run into digit groups at separators and at whitespace removed by normalisation."""
    starts, ends = nt.starts, nt.ends
    groups: list[tuple[str, int, int]] = []
    for m in _DIGIT_GROUP.finditer(digits):
        a, b = m.span()
        if starts is not None and ends is not None:
            # A space the normaliser removed between two digits still ends a group (138 1234 5678).
            for k in range(a + 1, b):
                if starts[offset + k] > ends[offset + k - 1]:
                    groups.append((digits[a:k], offset + a, offset + k))
                    a = k
        groups.append((digits[a:b], offset + a, offset + b))
    return groups


# A 15-digit first-generation ID has no check digit: the caller requires an ID label before it.
FIRST_GENERATION_ID = "first_generation_id_region+birth_date"
# The lengths `_classify` accepts: mobiles (11, 13 with 86, 15 with 0086), cards (16–19), resident IDs (18, 15).
_IDENTIFIER_LENGTHS = frozenset({11, 13, 15, 16, 17, 18, 19})
# Across a line break only pieces join ("3601\n02\n1997…"): two whole numbers on two lines stay two.
_LONGEST_PIECE = 8
_LINE_END = frozenset("\n。,;!?")
_PIECE = re.compile(r"[ \t]*[0-9]{3,8}x?")


def _classify(value: str) -> tuple[str, str] | None:
    """The identifier kind a digit string validates as (resident ID before card), with the validation used."""
    n = len(value)
    if n == 18 and valid_resident_id(value):
        return RESIDENT_ID, "gb11643_check_digit+birth_date"
    if 16 <= n <= 19 and value.isdigit() and valid_bank_card(value):
        return BANK_CARD, "luhn+issuer_prefix"
    if n == 11 and valid_mobile(value):
        return MOBILE, "mobile_numbering_plan"
    if n == 13 and value.startswith("86") and valid_mobile(value[2:]):
        return MOBILE, "mobile_numbering_plan+country_code"
    if n == 15 and value.startswith("0086") and valid_mobile(value[4:]):
        return MOBILE, "mobile_numbering_plan+country_code"
    if n == 15 and valid_first_generation_resident_id(value):
        return RESIDENT_ID, FIRST_GENERATION_ID
    return None


@dataclass(frozen=True, slots=True)
class NumberCandidate:
    """A validated digit window of a run, before context decides whether it is personal."""

    kind: str
    start: int
    end: int
    value: str
    validation: str
    also_card: bool  # an 18-digit resident ID that is also Luhn-valid with a card prefix
    also_uscc: bool  # an all-digit string that is also a valid USCC
    area_code_before: bool  # a 0xx(x) group joined to it: a landline, not a mobile


def number_candidates(nt: NormalizedText) -> list[NumberCandidate]:
    """Every validated identifier window in the digit runs of a normalised field (one regex pass)."""
    out: list[NumberCandidate] = []
    text = nt.text
    n = len(text)
    for m in _NUMBER_RUN.finditer(text):
        a, b = m.span()
        while b > a and text[b - 1] not in _DIGITS:
            b -= 1
        if b < n and text[b] == "x":
            b += 1  # the check character of a resident ID
        if (a > 0 and text[a - 1] in _GLUED) or (b < n and text[b] in _GLUED):
            continue
        run = text[a:b]
        if "\n" in run and b < n and text[b] not in _LINE_END and not _PIECE.fullmatch(run, run.rfind("\n") + 1):
            # A run spanning lines continues a number only with pieces of digits: a last line that
            # runs on into words after a marker ("…4005\n(3)谷明") is a list entry, not a piece.
            b = a + run.rfind("\n")
            while b > a and text[b - 1] not in _DIGITS:
                b -= 1
            run = text[a:b]
        if len(_SEPARATOR.sub("", run)) < 11:
            continue  # dates, times, salary ranges: too few digits for any identifier
        groups = _groups(nt, _run_digits(run), a)
        # Where a group opens a new line (only looked at when the run spans lines): no window joins
        # a group longer than a piece across a line break.
        split_lines = "\n" in run and any(len(g[0]) > _LONGEST_PIECE for g in groups)
        new_line = (
            [k > 0 and "\n" in text[groups[k - 1][2] : groups[k][1]] for k in range(len(groups))] if split_lines else []
        )
        windows: list[tuple[int, int, str, tuple[str, str]]] = []
        for i in range(len(groups)):
            acc = ""
            for j in range(i, len(groups)):
                acc += groups[j][0]
                if len(acc) > 19:
                    break
                if "x" in acc[:-1]:
                    break
                if split_lines and j > i and any(new_line[i + 1 : j + 1]):
                    if any(len(g[0]) > _LONGEST_PIECE for g in groups[i : j + 1]):
                        break
                if len(acc) not in _IDENTIFIER_LENGTHS:
                    continue  # digits spaced out one by one make many windows, most of no identifier's length
                value = acc.upper()
                found = _classify(value)
                if found:
                    windows.append((i, j, value, found))
        # Prefer the window covering most digits; then earlier. Windows never share a group.
        windows.sort(key=lambda w: (-len(w[2]), w[0]))
        used: set[int] = set()
        for i, j, value, (kind, validation) in windows:
            if any(k in used for k in range(i, j + 1)):
                continue
            used.update(range(i, j + 1))
            start = groups[i][1]
            if kind == MOBILE and len(value) > 11:
                # Evidence covers the number, not the +86/0086 before it.
                skip, k = len(value) - 11, i
                while skip >= len(groups[k][0]):
                    skip -= len(groups[k][0])
                    k += 1
                start = groups[k][1] + skip
                value = value[-11:]
            area = i > 0 and groups[i - 1][0].startswith("0") and 3 <= len(groups[i - 1][0]) <= 4
            out.append(
                NumberCandidate(
                    kind,
                    start,
                    groups[j][2],
                    value,
                    validation,
                    also_card=kind == RESIDENT_ID and value.isdigit() and valid_bank_card(value),
                    also_uscc=len(value) == 18 and valid_uscc(value),
                    area_code_before=area,
                )
            )
    out.sort(key=lambda c: c.start)
    return out


def email_candidates(text: str) -> list[tuple[int, int, str, str]]:
    """(start, end, address, domain) of every e-mail address, including (at)/艾特 spellings."""
    if not (
        "@" in text
        or "#" in text
        or "艾特" in text
        or "圈a" in text
        or ("at" in text and _AT_WORD_HINT.search(text) is not None)
    ):
        return []
    out = []
    for at in _EMAIL_AT.finditer(text):
        local = _EMAIL_LOCAL.search(text, max(0, at.start() - 70), at.start())
        domain_m = _EMAIL_DOMAIN.match(text, at.end())
        if local is None or domain_m is None:
            continue
        domain = _DOT_SPELLING.sub(".", domain_m.group(1))
        begin, name = local.start(1), local.group(1)
        spaced = _SPACED_LOCAL.search(text, max(0, begin - 60), begin) if begin and text[begin - 1] == " " else None
        if spaced is not None:
            begin, name = spaced.start(1), spaced.group(1).replace(" ", "") + name
        out.append((begin, domain_m.end(1), f"{name}@{domain}", domain))
    return out


def passport_candidates(text: str) -> list[tuple[int, int, str, str]]:
    """(start, end, number, format) of PRC passport-format and travel-permit-format numbers; the caller
    requires a 护照 or 通行证 cue."""
    if not ("护照" in text or "通行证" in text or "passport" in text or "回乡证" in text or "台胞证" in text):
        return []
    out = []
    for m in _PASSPORT.finditer(text):
        if m.start() > 0 and text[m.start() - 1] in _GLUED:
            continue
        value = (m.group(1) + m.group(2)).upper().replace(" ", "").replace("-", "")
        if valid_passport(value):
            out.append((m.start(), m.end(), value, PASSPORT_FORMAT))
        elif valid_travel_permit(value):
            out.append((m.start(), m.end(), value, PERMIT_FORMAT))
    return out


def im_candidates(text: str) -> list[tuple[int, int, str, str]]:
    """(start, end, handle, label) of WeChat ids and QQ numbers written after their label."""
    out = []
    if "微信" in text or "qq" in text or _IM_HINT.search(text) is not None:
        for m in _IM.finditer(text):
            label = "qq" if m.group(1) in _IM_QQ else "wechat"
            handle = m.group(2)
            if label == "qq" and not handle.isdigit():
                continue
            out.append((m.start(2), m.end(2), handle, label))
    if any(map(text.__contains__, _LETTER_CHARS)) and _LETTER_HINT.search(text) is not None:
        for m in _IM_LETTER.finditer(text):
            label = "qq" if m.group()[0] in _LETTER_QQ else "wechat"
            handle = m.group(1)
            if (label == "qq") != handle.isdigit():
                continue  # a QQ number is digits; a WeChat id after a bare V starts with a letter
            out.append((m.start(1), m.end(1), handle, label))
    return out


def mask(kind: str, value: str) -> str:
    """The masked form of an identifier of the given kind."""
    if kind == RESIDENT_ID:
        return mask_resident_id(value)
    if kind == MOBILE:
        return mask_mobile(value)
    if kind == BANK_CARD:
        return mask_bank_card(value)
    if kind == PASSPORT:
        return mask_passport(value)
    if kind == EMAIL:
        return mask_email(value)
    if kind == ADDRESS:
        return mask_address(value)
    return mask_handle(value)
