"""Masking of personal identifiers in excerpts: digits of IDs, cards, phones, passports and local parts of e-mails."""

from __future__ import annotations

import re

# A run of digits (allowing the separators people write inside numbers) long enough to identify someone.
_DIGIT_RUN = re.compile(r"[0-9０-９](?:[ \-－\u3000.]?[0-9０-９xX]){6,}")
_EMAIL = re.compile(r"([A-Za-z0-9._%+\-]{1,64})@([A-Za-z0-9.\-]+\.[A-Za-z]{2,})")
# Passport-like tokens: a letter or two followed by seven or eight digits.
_PASSPORT_LIKE = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{1,2}[0-9]{7,8}(?![0-9])")


def mask_identifier(value: str, keep_head: int | None = None, keep_tail: int = 4) -> str:
    """Mask the middle of an identifier, keeping separators: 110105199001011234 -> 110105********1234."""
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
    """An IM account (WeChat id, QQ number): zhang_san88 -> zh*******88."""
    return mask_identifier(value, keep_head=2, keep_tail=2)


def mask_email(value: str) -> str:
    """Mask an e-mail's local part: lixue_1996@163.com -> li********@163.com."""

    def repl(m: re.Match[str]) -> str:
        local = m.group(1)
        return local[:2] + "*" * max(len(local) - 2, 1) + "@" + m.group(2)

    return _EMAIL.sub(repl, value)


def mask_text(text: str) -> str:
    """Mask every identifier-like digit run, passport-like token and e-mail in free text (the safety net for all excerpts)."""
    # Passport-like tokens first: the digit-run pass would otherwise keep seven of their eight digits.
    text = _PASSPORT_LIKE.sub(lambda m: mask_passport(m.group()), text)
    text = _DIGIT_RUN.sub(lambda m: mask_identifier(m.group()), text)
    return mask_email(text)
