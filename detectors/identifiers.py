"""Check-digit validators for Chinese identifiers: resident ID (GB 11643, and the 15-digit first generation), bank card (Luhn), USCC (GB 32100), mobile, passport, travel permits."""

from __future__ import annotations

import datetime as dt
import re
from operator import mul

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
# First digit of the administrative division code: 1 North, 2 North-east, 3 East, 4 South-central,
# 5 South-west, 6 North-west, 7 Taiwan, 8 Hong Kong/Macao/overseas.
_ID_REGIONS = "12345678"
# Province-level codes (GB/T 2260) that can open a resident ID; 83 is the residence permit for
# Taiwan residents (GB 11643 amendment), 81/82 those for Hong Kong and Macao residents.
_ID_PROVINCES = frozenset(
    "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 50 51 52 53 54 61 62 63 64 65 71 81 82 83".split()
)
_OLDEST_BIRTH = dt.date(1900, 1, 1)
# Luhn: every second digit from the right is doubled, and the digits of the product summed.
_LUHN_DOUBLED = (0, 2, 4, 6, 8, 1, 3, 5, 7, 9)

_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_VALUE = {c: i for i, c in enumerate(_USCC_ALPHABET)}
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
# Registration authority codes (1 organs, 5 civil affairs, 9 industry & commerce, …); Y = other.
_USCC_AUTHORITIES = "123456789ANY"

# Mainland mobile numbers: 1, then a network digit 3–9, then nine digits (YD/T 2.0 numbering plan).
_MOBILE = re.compile(r"1[3-9][0-9]{9}")
# People's Republic of China passports: ordinary e-passports E + 8 digits or E + letter + 7 digits
# (EA…, EB… once the digit series ran out), the older G + 8 digits, public-affairs P/S + 7 digits
# (S also 8), diplomatic D + 7 digits, and the pre-2000s 14/15 + 7 digits.
_PASSPORT = re.compile(r"(?:[EG][0-9]{8}|E[A-HJ-NP-Z][0-9]{7}|[PD][0-9]{7}|S[0-9]{7,8}|1[45][0-9]{7})")
# Travel permits of the mainland, Hong Kong, Macao and Taiwan: 往来港澳通行证 C + 8 digits (card),
# C + letter + 7 digits once the digits ran out, W + 8 digits (booklet); 往来台湾通行证 L + 8 digits
# (card), T + 8 digits (booklet); 港澳居民来往内地通行证 (回乡证) H or M + 8 digits, plus a two-digit
# issue count on older cards.
_TRAVEL_PERMIT = re.compile(r"(?:C[0-9]{8}|C[A-HJ-NP-Z][0-9]{7}|[WLT][0-9]{8}|[HM][0-9]{8}(?:[0-9]{2})?)")


def resident_id_check_char(first17: str) -> str:
    """The ISO 7064 MOD 11-2 check character of an 18-digit resident ID (GB 11643-1999)."""
    if len(first17) != len(_ID_WEIGHTS):
        raise ValueError(f"expected {len(_ID_WEIGHTS)} digits, got {len(first17)}")
    total = sum(map(mul, map(int, first17), _ID_WEIGHTS))  # map, not a generator: run for every digit run
    return _ID_CHECK[total % 11]


def resident_id_birth_date(value: str) -> dt.date | None:
    """The birth date encoded in digits 7–14, or None when it is not a real date."""
    digits = value[6:14]
    if len(digits) != 8 or not digits.isdigit():
        return None
    try:
        return dt.date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        return None


def resident_id_shape(value: str, today: dt.date | None = None) -> bool:
    """True when 18 characters are laid out like a resident ID (province code, plausible birth date), check digit aside."""
    if len(value) != 18 or not value[:17].isdigit() or not value[:17].isascii():
        return False
    if value[0] not in _ID_REGIONS or value[:2] not in _ID_PROVINCES:
        return False
    born = resident_id_birth_date(value)
    if born is None:
        return False
    today = today or dt.date.today()
    return _OLDEST_BIRTH <= born <= today


def valid_first_generation_resident_id(value: str) -> bool:
    """True for a 15-digit first-generation resident ID (issued until 2004): a real province code and a
    real birth date 19YYMMDD; it has no check digit, so callers require the number to be labelled as an ID."""
    if len(value) != 15 or not value.isdigit() or not value.isascii():
        return False
    if value[0] not in _ID_REGIONS or value[:2] not in _ID_PROVINCES:
        return False
    try:
        dt.date(1900 + int(value[6:8]), int(value[8:10]), int(value[10:12]))
    except ValueError:
        return False
    return True


def valid_resident_id(value: str, today: dt.date | None = None) -> bool:
    """True for an 18-character resident ID with a real province code, a correct check digit and a plausible birth date."""
    if not resident_id_shape(value, today):
        return False
    return value[17].upper() == resident_id_check_char(value[:17])


def luhn_valid(digits: str) -> bool:
    """True when the digit string passes the Luhn (mod 10) check."""
    if not digits.isdigit() or not digits.isascii():
        return False
    total = sum(map(int, digits[-1::-2])) + sum(map(_LUHN_DOUBLED.__getitem__, map(int, digits[-2::-2])))
    return total % 10 == 0


def valid_bank_card(digits: str) -> bool:
    """A 16–19 digit card number passing Luhn, with an issuer prefix of UnionPay, Visa, Mastercard, Amex or JCB."""
    if not (16 <= len(digits) <= 19) or not digits.isdigit():
        return False
    if not digits.startswith(("62", "4", "5", "3", "60", "9")):
        return False
    return luhn_valid(digits)


def valid_mobile(digits: str) -> bool:
    """True for an 11-digit mainland mobile number (1, a network digit 3–9, nine digits)."""
    return _MOBILE.fullmatch(digits) is not None


def valid_passport(value: str) -> bool:
    """True for a number in one of the PRC passport formats (E/G + 8 digits, EA… + 7, P/S/D + 7, 14/15 + 7)."""
    return _PASSPORT.fullmatch(value.upper()) is not None


def valid_travel_permit(value: str) -> bool:
    """True for a number in one of the travel-permit formats (C…, W…, L…, T…, H…/M…); no check digit, so
    callers require a permit label (往来港澳通行证, 回乡证…)."""
    return _TRAVEL_PERMIT.fullmatch(value.upper()) is not None


def uscc_check_char(first17: str) -> str | None:
    """The GB 32100-2015 check character for the first 17 characters of a USCC, or None if not computable."""
    code = first17.upper()
    if len(code) != len(_USCC_WEIGHTS):
        return None
    try:
        total = sum(map(mul, map(_USCC_VALUE.__getitem__, code), _USCC_WEIGHTS))
    except KeyError:  # a character outside the code's alphabet
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
