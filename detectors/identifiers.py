"""Check-digit validators for Chinese identifiers: resident ID (GB 11643), bank card (Luhn), USCC (GB 32100)."""

from __future__ import annotations

import datetime as dt

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
# First digit of the administrative division code: 1 North, 2 North-east, 3 East, 4 South-central,
# 5 South-west, 6 North-west, 7 Taiwan, 8 Hong Kong/Macao/overseas.
_ID_REGIONS = "12345678"

_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
# Registration authority codes (1 organs, 5 civil affairs, 9 industry & commerce, …); Y = other.
_USCC_AUTHORITIES = "123456789ANY"


def resident_id_check_char(first17: str) -> str:
    """The ISO 7064 MOD 11-2 check character of an 18-digit resident ID (GB 11643-1999)."""
    total = sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def resident_id_birth_date(value: str) -> dt.date | None:
    """The birth date encoded in digits 7–14, or None when it is not a real date."""
    try:
        return dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return None


def valid_resident_id(value: str, today: dt.date | None = None) -> bool:
    """True for an 18-character resident ID with a correct check digit and a plausible birth date."""
    if len(value) != 18 or not value[:17].isdigit() or value[0] not in _ID_REGIONS:
        return False
    if value[17].upper() != resident_id_check_char(value[:17]):
        return False
    born = resident_id_birth_date(value)
    if born is None:
        return False
    today = today or dt.date.today()
    return dt.date(1900, 1, 1) <= born <= today


def luhn_valid(digits: str) -> bool:
    """True when the digit string passes the Luhn (mod 10) check."""
    if not digits.isdigit():
        return False
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def valid_bank_card(digits: str) -> bool:
    """A 16–19 digit card number passing Luhn, with an issuer prefix of UnionPay, Visa, Mastercard, Amex or JCB."""
    if not (16 <= len(digits) <= 19) or not digits.isdigit():
        return False
    if not digits.startswith(("62", "4", "5", "3", "60", "9")):
        return False
    return luhn_valid(digits)


def uscc_check_char(first17: str) -> str | None:
    """The GB 32100-2015 check character for the first 17 characters of a USCC, or None if not computable."""
    try:
        total = sum(_USCC_ALPHABET.index(c) * w for c, w in zip(first17.upper(), _USCC_WEIGHTS, strict=True))
    except ValueError:
        return None
    return _USCC_ALPHABET[(31 - total % 31) % 31]


def valid_uscc(value: str) -> bool:
    """True for an 18-character unified social credit code with a correct check character."""
    if len(value) != 18:
        return False
    value = value.upper()
    if value[0] not in _USCC_AUTHORITIES or not value[2:8].isdigit():
        return False
    check = uscc_check_char(value[:17])
    return check is not None and check == value[17]
