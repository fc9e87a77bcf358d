"""The normaliser: what it folds, and that every normalised character maps back into the original text."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from detectors.normalize import normalize, normalize_pattern

CASES = [
    ("限 男 性", "限男性"),
    ("限　男　性", "限男性"),
    ("拉★人★头", "拉人头"),
    ("ＡＢＣ１２３", "abc123"),
    ("聯繫方式", "联系方式"),
    ("歲", "岁"),
    ("♂优先", "男优先"),
    ("电话幺三八拐拐五六洞六三拐", "电话13877560637"),
    ("一线城市三班倒", "一线城市三班倒"),
    ("加薇信", "加微信"),
    ("VX号", "微信号"),
    ("vxworks", "vxworks"),
    ("扣扣:123", "qq:123"),
    ("先交yajin 500", "先交押金 500"),
    ("158 7405 6879", "15874056879"),
    ("18-40岁", "18-40岁"),
    ("限汉\n族", "限汉族"),
    ("乙肝🙅", "乙肝✗"),
    ("a\u200bb", "ab"),
]


@pytest.mark.parametrize(("original", "expected"), CASES)
def test_normalises(original: str, expected: str) -> None:
    assert normalize(original).text == expected


@pytest.mark.parametrize(
    ("original", "needle", "original_span"),
    [
        ("要求：限 男 性，40岁", "限男性", "限 男 性"),
        ("加薇信：abc", "微信", "薇信"),
        ("电话：幺三八拐拐五六洞六三拐。", "13877560637", "幺三八拐拐五六洞六三拐"),
        ("身份证：４２０１０６", "420106", "４２０１０６"),
        ("有意加V：dz888", "加微信", "加V"),
        ("⑩号楼住", "10号楼", "⑩号楼"),
    ],
)
def test_spans_map_back_to_original(original: str, needle: str, original_span: str) -> None:
    nt = normalize(original)
    start = nt.text.index(needle)
    assert nt.original_slice(start, start + len(needle)) == original_span


def test_patterns_are_normalised_like_text() -> None:
    assert normalize_pattern("聯繫") == "联系"
    assert normalize_pattern("ＶＸ") == "微信"


# Text drawn from the characters that exercise every step: CJK (simplified and traditional),
# full-width and half-width digits and letters, separators, symbols, emoji and numerals.
ALPHABET = list("限男性女乙肝聯繫歲岁幺三八拐洞一二 　\n\t-★·0123456789０１２３ＡＢabcvVxX信薇加扣①⑩㎏🙅⛔\u200b\ufe0f")
texts = st.text(alphabet=ALPHABET, max_size=80) | st.text(max_size=40)


@given(texts)
@settings(max_examples=400, deadline=None)
def test_offset_map_is_monotone_and_in_bounds(original: str) -> None:
    nt = normalize(original)
    prev_start = 0
    for i in range(len(nt.text)):
        s, e = nt.to_original(i, i + 1)
        assert 0 <= s < e <= len(original), (i, s, e)
        assert s >= prev_start
        prev_start = s
    s, e = nt.to_original(0, len(nt.text))
    assert 0 <= s <= e <= len(original)


@given(texts)
@settings(max_examples=300, deadline=None)
def test_whole_span_and_empty_span(original: str) -> None:
    nt = normalize(original)
    if nt.text:
        s, e = nt.to_original(0, len(nt.text))
        # Nothing before the first kept character or after the last one is anything but removable filler.
        assert normalize(original[:s]).text == ""
        assert normalize(original[e:]).text == ""
    assert nt.to_original(0, 0)[0] <= len(original)


@given(st.text(alphabet=list("限男性女乙肝聯繫歲岁 　-★0123456789０１２ＡＢab信薇加"), max_size=60))
@settings(max_examples=300, deadline=None)
def test_normalising_twice_changes_nothing(original: str) -> None:
    once = normalize(original).text
    assert normalize(once).text == once
