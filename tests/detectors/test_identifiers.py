"""Property tests for the identifier validators and maskers: valid ones validate, corrupted ones are rejected where the check scheme guarantees it."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from detectors.identifiers import (
    luhn_valid,
    resident_id_birth_date,
    resident_id_check_char,
    resident_id_shape,
    uscc_check_char,
    valid_bank_card,
    valid_first_generation_resident_id,
    valid_mobile,
    valid_passport,
    valid_resident_id,
    valid_travel_permit,
    valid_uscc,
)
from detectors.masking import (
    mask_bank_card,
    mask_email,
    mask_handle,
    mask_mobile,
    mask_passport,
    mask_resident_id,
    mask_text,
)

TODAY = dt.date(2024, 6, 1)
PROVINCES = "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 50 51 52 53 54 61 62 63 64 65".split()
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
DIGITS = "0123456789"

# --- generators ----------------------------------------------------------------------------------


@st.composite
def resident_ids(draw: st.DrawFn, born: st.SearchStrategy[dt.date] | None = None) -> str:
    """A valid resident ID: province + 4-digit area, birth date, 3-digit sequence, MOD 11-2 check."""
    province = draw(st.sampled_from(PROVINCES))
    area = draw(st.text(DIGITS, min_size=4, max_size=4))
    date = draw(born if born is not None else st.dates(dt.date(1900, 1, 1), TODAY))
    seq = draw(st.text(DIGITS, min_size=3, max_size=3))
    first17 = f"{province}{area}{date:%Y%m%d}{seq}"
    return first17 + resident_id_check_char(first17)


@st.composite
def bank_cards(draw: st.DrawFn) -> str:
    """A Luhn-valid card number of 16–19 digits with a card-issuer prefix."""
    prefix = draw(st.sampled_from(["62", "60", "4", "5", "3", "9"]))
    length = draw(st.integers(16, 19))
    body = prefix + draw(st.text(DIGITS, min_size=length - len(prefix) - 1, max_size=length - len(prefix) - 1))
    check = next(d for d in DIGITS if luhn_valid(body + d))
    return body + check


@st.composite
def usccs(draw: st.DrawFn) -> str:
    """A valid unified social credit code: authority, category, 6-digit division, 9-char org code, check."""
    head = draw(st.sampled_from(["91", "92", "93", "11", "12", "51", "52", "53", "Y1"]))
    division = draw(st.text(DIGITS, min_size=6, max_size=6))
    org = draw(st.text(USCC_ALPHABET, min_size=9, max_size=9))
    first17 = head + division + org
    check = uscc_check_char(first17)
    assert check is not None
    return first17 + check


def replace_at(value: str, i: int, ch: str) -> str:
    return value[:i] + ch + value[i + 1 :]


def swap(value: str, i: int) -> str:
    return value[:i] + value[i + 1] + value[i] + value[i + 2 :]


# --- resident ID (GB 11643, ISO 7064 MOD 11-2) ---------------------------------------------------


@given(resident_ids())
def test_generated_resident_ids_validate(value: str) -> None:
    assert valid_resident_id(value, today=TODAY)
    assert valid_resident_id(value.lower(), today=TODAY)  # a lower-case x check character is the same ID


@given(resident_ids(), st.integers(0, 17), st.sampled_from(list(DIGITS + "X")))
def test_any_single_character_change_is_rejected(value: str, i: int, ch: str) -> None:
    assume(value[i] != ch)
    assume(i == 17 or ch != "X")  # X only ever stands in the check position
    # MOD 11-2 weights are all non-zero modulo the prime 11: every single substitution changes the sum.
    assert not valid_resident_id(replace_at(value, i, ch), today=TODAY)


@given(resident_ids(), st.integers(0, 16))
def test_any_adjacent_transposition_is_rejected(value: str, i: int) -> None:
    assume(value[i] != value[i + 1])
    # Adjacent weights differ by a factor of 2 mod 11, so a swap of distinct digits changes the sum.
    assert not valid_resident_id(swap(value, i), today=TODAY)


@given(resident_ids(born=st.dates(dt.date(1950, 1, 1), dt.date(2010, 12, 31))))
def test_birth_date_is_read_back(value: str) -> None:
    born = resident_id_birth_date(value)
    assert born is not None
    assert value[6:14] == f"{born:%Y%m%d}"


@pytest.mark.parametrize("date_digits", ["19900230", "19901301", "19900000", "20230229", "18991231"])
def test_impossible_or_implausible_birth_dates_are_rejected(date_digits: str) -> None:
    first17 = f"110105{date_digits}123"
    assert not valid_resident_id(first17 + resident_id_check_char(first17), today=TODAY)


@given(st.dates(dt.date(2024, 6, 2), dt.date(2099, 12, 31)))
def test_birth_in_the_future_is_rejected(born: dt.date) -> None:
    first17 = f"320502{born:%Y%m%d}001"
    assert not valid_resident_id(first17 + resident_id_check_char(first17), today=TODAY)


@pytest.mark.parametrize("province", ["00", "10", "19", "24", "39", "49", "59", "66", "70", "80", "90", "99"])
def test_unknown_province_codes_are_rejected(province: str) -> None:
    first17 = f"{province}0105199001011234"[:17]
    assert not valid_resident_id(first17 + resident_id_check_char(first17), today=TODAY)


@given(resident_ids())
def test_shape_ignores_only_the_check_digit(value: str) -> None:
    assert resident_id_shape(value, today=TODAY)
    wrong = next(c for c in "0123456789X" if c != value[17])
    assert resident_id_shape(value[:17] + wrong, today=TODAY)
    assert not valid_resident_id(value[:17] + wrong, today=TODAY)


@pytest.mark.parametrize(
    "value", ["", "11010519900101123", "1101051990010112345", "11010519900101123Y", "X10105199001011234"]
)
def test_malformed_resident_ids_are_rejected(value: str) -> None:
    assert not valid_resident_id(value, today=TODAY)


# --- bank card (Luhn) ----------------------------------------------------------------------------


@given(bank_cards())
def test_generated_cards_validate(value: str) -> None:
    assert valid_bank_card(value)


@given(bank_cards(), st.data())
def test_any_single_digit_change_is_rejected(value: str, data: st.DataObject) -> None:
    i = data.draw(st.integers(0, len(value) - 1))
    ch = data.draw(st.sampled_from(DIGITS))
    assume(value[i] != ch)
    # Luhn detects every single-digit error.
    assert not luhn_valid(replace_at(value, i, ch))


@given(bank_cards(), st.data())
def test_adjacent_transpositions_are_rejected_except_09(value: str, data: st.DataObject) -> None:
    i = data.draw(st.integers(0, len(value) - 2))
    assume(value[i] != value[i + 1] and {value[i], value[i + 1]} != {"0", "9"})
    # Luhn misses only the 09 <-> 90 swap among adjacent transpositions.
    assert not luhn_valid(swap(value, i))


@pytest.mark.parametrize(
    "value",
    ["79927398713", "1234567812345670", "8234567812345674", "62220212345678901234", "6222a21234567890128"],
)
def test_short_long_unprefixed_or_non_digit_cards_are_rejected(value: str) -> None:
    assert not valid_bank_card(value)


# --- USCC (GB 32100, MOD 31) ---------------------------------------------------------------------


@given(usccs())
def test_generated_usccs_validate(value: str) -> None:
    assert valid_uscc(value)
    assert valid_uscc(value.lower())


@given(usccs(), st.integers(0, 17), st.sampled_from(list(USCC_ALPHABET)))
def test_any_single_uscc_character_change_is_rejected(value: str, i: int, ch: str) -> None:
    assume(value[i] != ch)
    # Weights 3^i mod 31 are non-zero modulo the prime 31.
    assert not valid_uscc(replace_at(value, i, ch))


@given(usccs(), st.integers(0, 16))
def test_any_adjacent_uscc_transposition_is_rejected(value: str, i: int) -> None:
    assume(value[i] != value[i + 1])
    assert not valid_uscc(swap(value, i))


@given(usccs(), st.integers(0, 17), st.sampled_from(list("IOSVZ")))
def test_letters_outside_the_uscc_alphabet_are_rejected(value: str, i: int, ch: str) -> None:
    assert not valid_uscc(replace_at(value, i, ch))


# --- mobile and passport formats -----------------------------------------------------------------


@given(st.sampled_from("3456789"), st.text(DIGITS, min_size=9, max_size=9))
def test_mobile_numbers_validate(network: str, rest: str) -> None:
    assert valid_mobile(f"1{network}{rest}")


@pytest.mark.parametrize("value", ["12812345678", "1381234567", "138123456789", "02812345678", "1381234567a"])
def test_non_mobile_numbers_are_rejected(value: str) -> None:
    assert not valid_mobile(value)


@pytest.mark.parametrize(
    "value", ["E12345678", "EA1234567", "eb7654321", "G12345678", "P1234567", "S12345678", "D1234567", "141234567"]
)
def test_passport_formats_validate(value: str) -> None:
    assert valid_passport(value)


@pytest.mark.parametrize("value", ["E1234567", "EI1234567", "X12345678", "E123456789", "161234567"])
def test_non_passport_formats_are_rejected(value: str) -> None:
    assert not valid_passport(value)


@pytest.mark.parametrize(
    "value", ["C12345678", "ca1234567", "W12345678", "L12345678", "T12345678", "H12345678", "M1234567801"]
)
def test_travel_permit_formats_validate(value: str) -> None:
    assert valid_travel_permit(value)


@pytest.mark.parametrize("value", ["C1234567", "CI1234567", "E12345678", "H123456789", "L123456789", "12345678"])
def test_non_travel_permit_formats_are_rejected(value: str) -> None:
    assert not valid_travel_permit(value)


# --- first-generation (15-digit) resident IDs ----------------------------------------------------


@given(
    st.sampled_from(PROVINCES),
    st.text(DIGITS, min_size=4, max_size=4),
    st.dates(dt.date(1900, 1, 1), dt.date(1999, 12, 31)),
    st.text(DIGITS, min_size=3, max_size=3),
)
def test_first_generation_ids_validate(province: str, county: str, born: dt.date, seq: str) -> None:
    assert valid_first_generation_resident_id(f"{province}{county}{born:%y%m%d}{seq}")


@pytest.mark.parametrize(
    "value",
    [
        "110105710231582",  # 31 February
        "110105711323582",  # month 13
        "990105710923582",  # no such province
        "11010571092358",  # 14 digits
        "1101057109235821",  # 16 digits
        "11010571092358x",
    ],
)
def test_malformed_first_generation_ids_are_rejected(value: str) -> None:
    assert not valid_first_generation_resident_id(value)


# --- masking -------------------------------------------------------------------------------------


@given(resident_ids())
def test_masked_resident_id_keeps_region_and_last_four(value: str) -> None:
    masked = mask_resident_id(value)
    assert masked == value[:6] + "*" * 8 + value[-4:]


@given(bank_cards())
def test_masked_card_keeps_bin_and_last_four(value: str) -> None:
    masked = mask_bank_card(value)
    assert masked[:6] == value[:6] and masked[-4:] == value[-4:]
    assert set(masked[6:-4]) == {"*"}


def test_fixed_masks() -> None:
    assert mask_mobile("13812345678") == "138****5678"
    assert mask_passport("E12345678") == "E1*****78"
    assert mask_email("lixue@163.com") == "li***@163.com"
    assert mask_handle("zhang_san88") == "zh*******88"


SEPARATOR = st.sampled_from(["", " ", "-"])
FILLER = st.text(alphabet=list("招聘电话身份证卡号，。：abc "), max_size=12)


@given(resident_ids(), bank_cards(), st.text(DIGITS, min_size=8, max_size=8), SEPARATOR, FILLER, FILLER)
@settings(max_examples=200)
def test_mask_text_leaves_no_identifier_readable(rid: str, card: str, tail: str, sep: str, a: str, b: str) -> None:
    """The safety net masks IDs, cards, mobiles (with separators) and passports in any free text."""
    mobile = "139" + tail
    grouped = sep.join([mobile[:3], mobile[3:7], mobile[7:]])
    text = f"{a}{rid}{b}{card}。{a}{grouped}，护照E{tail}{b}"
    masked = mask_text(text)
    readable = re.sub(r"[ \-]", "", masked)
    for value in (rid, card, mobile, "E" + tail):
        assert value not in readable


NUMERAL = "〇一二三四五六七八九"


@given(st.text(DIGITS, min_size=8, max_size=8), SEPARATOR, FILLER, FILLER)
def test_mask_text_masks_numbers_spelt_in_chinese_numerals(tail: str, sep: str, a: str, b: str) -> None:
    spelt = "".join(NUMERAL[int(d)] for d in "139" + tail)
    text = f"{a}电话{sep.join([spelt[:3], spelt[3:7], spelt[7:]])}{b}"
    readable = re.sub(r"[ \-]", "", mask_text(text))
    # like a digit run: the first three and the last four kept, the middle that identifies the line hidden
    assert readable == re.sub(r"[ \-]", "", f"{a}电话{spelt[:3]}****{spelt[7:]}{b}")


@pytest.mark.parametrize(
    ("text", "hidden"),
    [
        ("邮箱 heyutong2000圈a163点com", "heyutong2000"),
        ("lin.yue(艾特)foxmail.com", "lin.yue"),
        ("changhao_88 AT 126 DOT com", "changhao_88"),
        ("wangyiming_2001#qq.com（#换成@）", "wangyiming_2001"),
        ("luobin1988 @ 163 . com", "luobin1988"),
        ("dengjiayi [at] qq [dot] com", "dengjiayi"),
    ],
)
def test_mask_text_masks_spelt_out_email_local_parts(text: str, hidden: str) -> None:
    masked = mask_text(text)
    assert hidden not in masked
    assert masked[:2] == text[:2] or masked.startswith(text[: text.index(hidden) + 2])


@pytest.mark.parametrize("text", ["meet at home.", "一线城市，三班倒", "第一名", "#1 job", "a at b.c"])
def test_mask_text_leaves_ordinary_words_alone(text: str) -> None:
    assert mask_text(text) == text
