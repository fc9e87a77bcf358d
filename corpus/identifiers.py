"""Valid (and deliberately broken) Chinese identifiers for the synthetic corpus, with their checks."""

from __future__ import annotations

import random
from datetime import date, timedelta

from faker.providers.ssn.zh_CN import Provider as _SsnProvider

# The check-character arithmetic is the detectors' own, so generator and detector agree by construction.
from detectors.identifiers import luhn_valid, resident_id_check_char, uscc_check_char, valid_resident_id

# County-level codes only: a resident ID issued against a province code (xx0000)
# or a prefecture code (xxxx00) would look fabricated to anyone who knows the format.
COUNTY_CODES: tuple[str, ...] = tuple(code for code in _SsnProvider.area_codes if not code.endswith("00"))

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)

# Real issuing-bank BINs under the UnionPay 62 range, so card numbers look like
# the ones people actually paste (ICBC, ABC, CCB, BOC, CMB, BoCom, PSBC, CIB).
_UNIONPAY_BINS = (
    "622202",
    "621226",
    "622848",
    "622845",
    "621700",
    "622700",
    "621661",
    "622588",
    "621483",
    "622262",
    "621799",
    "622188",
    "621098",
    "622908",
    "621440",
)

_MOBILE_PREFIXES = (
    "130",
    "131",
    "132",
    "133",
    "134",
    "135",
    "136",
    "137",
    "138",
    "139",
    "147",
    "150",
    "151",
    "152",
    "153",
    "155",
    "156",
    "157",
    "158",
    "159",
    "166",
    "173",
    "176",
    "177",
    "178",
    "180",
    "181",
    "182",
    "183",
    "185",
    "186",
    "187",
    "188",
    "189",
    "191",
    "193",
    "195",
    "198",
    "199",
)


def make_resident_id(rng: random.Random, today: date, min_age: int = 18, max_age: int = 60) -> str:
    """A resident ID for someone of working age on `today`, with a valid check digit."""
    region = rng.choice(COUNTY_CODES)
    age_days = rng.randint(min_age * 365 + 5, max_age * 365)
    born = today - timedelta(days=age_days)
    sequence = f"{rng.randint(0, 999):03d}"
    first17 = f"{region}{born:%Y%m%d}{sequence}"
    return first17 + resident_id_check_char(first17)


def mask_resident_id(value: str) -> str:
    """The masked form agencies are allowed to publish: region code and last four only."""
    return value[:6] + "*" * 8 + value[-4:]


def _luhn_check_digit(body: str) -> str:
    for d in "0123456789":
        if luhn_valid(body + d):
            return d
    raise AssertionError("unreachable: one of ten digits always completes a Luhn sum")


def make_bank_card(rng: random.Random) -> str:
    """A UnionPay debit card number: 62 BIN, 16-19 digits, Luhn-valid."""
    length = rng.choice((16, 19, 19, 19, 17, 18))
    body = rng.choice(_UNIONPAY_BINS)
    body += "".join(rng.choice("0123456789") for _ in range(length - len(body) - 1))
    return body + _luhn_check_digit(body)


def make_mobile(rng: random.Random) -> str:
    """A mainland mobile number, 1[3-9] followed by nine digits."""
    return rng.choice(_MOBILE_PREFIXES) + f"{rng.randint(0, 99_999_999):08d}"


def make_landline(rng: random.Random, area_code: str) -> str:
    """An office number in the city's area code (8 digits, 7 for small cities)."""
    digits = 8 if len(area_code) == 3 else rng.choice((7, 8))
    first = rng.choice("2345678")
    rest = "".join(rng.choice("0123456789") for _ in range(digits - 1))
    return f"{area_code}-{first}{rest}"


def make_passport(rng: random.Random) -> str:
    """An ordinary PRC passport number: E + 8 digits, or E + letter + 7 digits (post-2017)."""
    if rng.random() < 0.6:
        return "E" + f"{rng.randint(0, 99_999_999):08d}"
    letter = rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ")
    return "E" + letter + f"{rng.randint(0, 9_999_999):07d}"


def _org_code_check(body8: str) -> str:
    # GB 11714-1997: the organisation code inside a USCC carries its own check character.
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(body8, _ORG_WEIGHTS, strict=True))
    check = 11 - total % 11
    return {10: "X", 11: "0"}.get(check, str(check))


def make_uscc(rng: random.Random, region: str, digits_only: bool = False) -> str:
    """A USCC for a company registered in `region` (6-digit code), with a valid check character.

    Post-2015 registrations get an MA-prefixed body; older ones carry a numeric
    organisation code. `digits_only` forces an all-digit code, the kind a naive
    resident-ID detector confuses with an ID number.
    """
    while True:
        if not digits_only and rng.random() < 0.55:
            tail = "".join(rng.choice(USCC_ALPHABET) for _ in range(6))
            body8 = "MA" + tail
        else:
            body8 = "".join(rng.choice("0123456789") for _ in range(8))
        org = body8 + _org_code_check(body8)
        first17 = "91" + region + org
        code = first17 + (uscc_check_char(first17) or "0")
        if digits_only and not code.isdigit():
            continue
        return code


def break_uscc(rng: random.Random, valid: str) -> str:
    """The same code with a wrong check character, as a forged or mistyped licence shows."""
    wrong = [c for c in USCC_ALPHABET if c != valid[17]]
    return valid[:17] + rng.choice(wrong)


def make_non_id_number(rng: random.Random) -> str:
    """An 18-digit reference number (job code, order number) that is NOT a valid resident ID."""
    while True:
        candidate = f"{rng.randint(2018, 2026)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
        candidate += "".join(rng.choice("0123456789") for _ in range(10))
        if not valid_resident_id(candidate):
            return candidate
