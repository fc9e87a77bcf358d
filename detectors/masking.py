"""Masking of personal identifiers in excerpts: digits of IDs, cards, phones, passports and local parts of e-mails."""

from __future__ import annotations

import re

# A run of digits (allowing the separators people write inside numbers) long enough to identify someone.
_DIGIT_RUN = re.compile(r"[0-9０-９](?:[ \-－\u3000.]?[0-9０-９xX]){6,}")
_EMAIL = re.compile(r"([A-Za-z0-9._%+\-]{1,64})@([A-Za-z0-9.\-]+\.[A-Za-z]{2,})")
# Passport-like tokens: a letter or two followed by seven or eight digits.
# Digits anywhere in an address, Chinese numerals where they number a building, unit or room.
_HOUSE_NUMBER = re.compile(r"\d+|[一二三四五六七八九十百零〇两]+(?=号|栋|幢|座|单元|室|弄|组|户|楼|层)")
_PASSPORT_LIKE = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{1,2}[0-9]{7,8}(?![0-9])")
# E-mails spelt out to dodge scrapers: lixue(at)163.com, lixue 艾特 163 点 com, lixue圈a163点com,
# lixue#163.com. Only the local part is masked, as in mask_email.
_SPELT_AT = (
    r"(?:\s*[(\[{<（【]\s*(?:@|＠|at|AT|艾特|圈a)\s*[)\]}>）】]\s*|\s+(?:at|AT)\s+|\s*(?:艾特|圈a|#|＃)\s*"
    r"|\s+[@＠]\s*|[@＠]\s+)"
)
_SPELT_EMAIL = re.compile(
    rf"([A-Za-z0-9][A-Za-z0-9._%+\-]{{0,63}})({_SPELT_AT}[A-Za-z0-9\-]+\s*(?:\.|点|。|\(dot\)|\[dot\]|\s(?:dot|DOT)\s))"
    r"(?=\s*(?i:com|cn|net|org|edu|gov|cc|io|me|co|info|biz|top|vip|hk|tw|mo|jp|uk|us|de)(?![A-Za-z]))"
)
_SPELT_HINTS = ("at", "AT", "艾特", "圈a", "#", "＃", " @", "@ ", " ＠", "＠ ")
# Phone and ID numbers spelt in Chinese numerals (幺三八…, 壹叁玖…), seven or more with spaces between.
_NUMERALS = "〇零洞一幺壹二两贰三叁四肆五伍六陆七柒拐八捌九玖勾"
_NUMERAL_RUN = re.compile(rf"[{_NUMERALS}](?:[ \-\u3000]?[{_NUMERALS}]){{6,}}")


def mask_identifier(value: str, keep_head: int | None = None, keep_tail: int = 4) -> str:
    """Mask the middle of an identifier, keeping separators: 110105199001011234 -> 110105********1234."""
    if value.isalnum():  # the common case, a bare identifier: slice instead of walking characters
        n = len(value)
        head = keep_head if keep_head is not None else (6 if n >= 15 else 3)
        tail = keep_tail
        if n <= head + tail:
            head, tail = min(head, n // 3), min(tail, n // 3)
        return value[:head] + "*" * (n - head - tail) + value[n - tail :]
    chars = [c for c in value if c.isalnum()]
    n = len(chars)
    if keep_head is None:
        keep_head = 6 if n >= 15 else 3
    if n <= keep_head + keep_tail:
        keep_head, keep_tail = min(keep_head, n // 3), min(keep_tail, n // 3)
    out = []
    seen = 0
    for c in value:
        if c.isalnum():
            out.append(c if seen < keep_head or seen >= n - keep_tail else "*")
            seen += 1
        else:
            out.append(c)
    return "".join(out)


def mask_resident_id(value: str) -> str:
    """110105199001011234 -> 110105********1234 (region kept, birth date and sequence hidden)."""
    return mask_identifier(value, keep_head=6, keep_tail=4)


def mask_mobile(value: str) -> str:
    """13812345678 -> 138****5678."""
    return mask_identifier(value, keep_head=3, keep_tail=4)


def mask_bank_card(value: str) -> str:
    """6222021234567890123 -> 622202*********0123 (issuer BIN and last four kept)."""
    return mask_identifier(value, keep_head=6, keep_tail=4)


def mask_passport(value: str) -> str:
    """E12345678 -> E1*****78."""
    return mask_identifier(value, keep_head=2, keep_tail=2)


def mask_handle(value: str) -> str:
    """An IM account (WeChat id, QQ number), separators included: zhang_san88 -> zh*******88."""
    n = len(value)
    if n <= 2:
        return "*" * n
    keep = 2 if n > 6 else 1
    return value[:keep] + "*" * (n - 2 * keep) + value[n - keep :]


def mask_address(address: str) -> str:
    """Hide the numbers that locate a dwelling: 学院路12号3栋502室 -> 学院路**号*栋***室."""
    return _HOUSE_NUMBER.sub(lambda m: "*" * len(m.group()), address)


def mask_email(value: str) -> str:
    """Mask an e-mail's local part: lixue_1996@163.com -> li********@163.com."""

    def repl(m: re.Match[str]) -> str:
        local = m.group(1)
        return local[:2] + "*" * max(len(local) - 2, 1) + "@" + m.group(2)

    return _EMAIL.sub(repl, value)


def mask_text(text: str) -> str:
    """Mask every identifier-like digit run (in digits or Chinese numerals), passport-like token and
    e-mail (also spelt out) in free text (the safety net for all excerpts)."""
    if "@" not in text and _ANY_DIGIT.search(text) is None and not any(h in text for h in _SPELT_HINTS):
        return text  # most excerpts: nothing below can match without a digit, a numeral or an @ (spelt)
    return _mask_free_text(text)


# Every pattern of mask_text needs one of these: digit runs and passports a digit, numeral runs a
# numeral, e-mails an @ or (spelt out) a letter or digit of the local part.
_ANY_DIGIT = re.compile(rf"[0-9０-９{_NUMERALS}]")


def _mask_free_text(text: str) -> str:
    # Passport-like tokens first: the digit-run pass would otherwise keep seven of their eight digits.
    text = _PASSPORT_LIKE.sub(lambda m: mask_passport(m.group()), text)
    text = _DIGIT_RUN.sub(lambda m: mask_identifier(m.group()), text)
    if _NUMERAL_RUN.search(text):
        text = _NUMERAL_RUN.sub(lambda m: _mask_numerals(m.group()), text)
    if any(h in text for h in _SPELT_HINTS):
        text = _SPELT_EMAIL.sub(lambda m: m.group(1)[:2] + "*" * max(len(m.group(1)) - 2, 1) + m.group(2), text)
    return mask_email(text) if "@" in text else text


def _mask_numerals(run: str) -> str:
    """A numeral run masked like a digit run: the first three and last four numerals kept."""
    n = sum(1 for c in run if c in _NUMERALS)
    head, tail = (3, 4) if n > 7 else (2, 2)
    out, seen = [], 0
    for c in run:
        if c in _NUMERALS:
            out.append(c if seen < head or seen >= n - tail else "*")
            seen += 1
        else:
            out.append(c)
    return "".join(out)
