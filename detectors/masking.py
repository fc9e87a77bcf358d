"""Masking of personal identifiers in excerpts: digits of IDs, cards, phones, passports and local parts of e-mails."""

from __future__ import annotations

import re

# A run of digits (allowing the separators people write inside numbers) long enough to identify someone.
_DIGIT_RUN = re.compile(r"[0-9０-９](?:[ \-－\u3000]?[0-9０-９xX]){6,}")
_EMAIL = re.compile(r"([A-Za-z0-9._%+\-]{1,64})@([A-Za-z0-9.\-]+\.[A-Za-z]{2,})")


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


def mask_email(value: str) -> str:
    """Mask an e-mail's local part: lixue_1996@163.com -> li********@163.com."""

    def repl(m: re.Match[str]) -> str:
        local = m.group(1)
        return local[:2] + "*" * max(len(local) - 2, 1) + "@" + m.group(2)

    return _EMAIL.sub(repl, value)


def mask_text(text: str) -> str:
    """Mask every identifier-like digit run and e-mail in free text (the safety net for all excerpts)."""
    text = _DIGIT_RUN.sub(lambda m: mask_identifier(m.group()), text)
    return mask_email(text)
