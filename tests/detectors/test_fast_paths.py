"""Fast paths kept for speed give what the plain way gives: separator runs, word splitters, name suffixes, check digits."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from detectors.fake_recruitment.org_names import _parts, _strip_end
from detectors.identifiers import luhn_valid, resident_id_check_char, uscc_check_char
from detectors.normalize import _INVISIBLE, _filler_matches, _tables
from detectors.personal_data.resume_trade import _PUNCT_SPLITTERS, _compact

_SEPARATED = "限男性汉族一二三0123ab \n\t\u3000·★•/|→🔥"


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=_SEPARATED, max_size=40))
def test_joined_filler_scan_finds_what_the_full_scan_finds(text: str) -> None:
    # Without invisible characters the scan may skip runs with a non-joinable neighbour.
    tb = _tables()
    assert _filler_matches(text, tb, invisible=False) == _filler_matches(text, tb, invisible=True)
    assert not set(text) & set(_INVISIBLE)


def _compact_plainly(text: str) -> str:
    symbols = re.compile(r"[\u2190-\u2bff\u3030\u303d\u3297\u3299\u20e3\U0001F000-\U0001FAFF]+")
    cuts = [m.span() for m in symbols.finditer(text)]
    for m in re.finditer(f"[{re.escape(_PUNCT_SPLITTERS)}]+", text):
        a, b = m.span()
        if a > 0 and b < len(text) and "\u4e00" <= text[a - 1] <= "\u9fff" and "\u4e00" <= text[b] <= "\u9fff":
            cuts.append((a, b))
    keep = [True] * len(text)
    for a, b in cuts:
        keep[a:b] = [False] * (b - a)
    return "".join(ch for ch, k in zip(text, keep, strict=True) if k)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="出售简历12-.+#~'`→★🔥✨ ab", max_size=30))
def test_one_splitter_scan_removes_what_two_scans_remove(text: str) -> None:
    compact, index = _compact(text)
    assert compact == _compact_plainly(text)
    assert index is None or [text[i] for i in index] == list(compact)


def _strip_plainly(text: str, words: list[str], keep: int = 2) -> str:
    changed = True
    while changed:
        changed = False
        for w in sorted(words, key=len, reverse=True):
            if text.endswith(w) and len(text) - len(w) >= keep:
                text = text[: -len(w)]
                changed = True
                break
    return text


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="深圳华科技有限公司人力资源服务集团股份", max_size=20))
def test_suffixes_by_last_character_strip_like_a_plain_scan(text: str) -> None:
    parts = _parts()
    for index in (parts.suffixes, parts.industries):
        words = [w for ws in index.values() for w in ws]
        assert _strip_end(text, index) == _strip_plainly(text, words)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="0123456789ABCDEFGHJKLMNPQRTUWXYZIOa*", min_size=17, max_size=17))
def test_check_characters_match_their_definitions(first17: str) -> None:
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    weights = [pow(3, i, 31) for i in range(17)]
    if all(c in alphabet for c in first17.upper()):
        total = sum(alphabet.index(c) * w for c, w in zip(first17.upper(), weights, strict=True))
        assert uscc_check_char(first17) == alphabet[(31 - total % 31) % 31]
    else:
        assert uscc_check_char(first17) is None
    if first17.isdigit():
        total = sum(int(c) * pow(2, 17 - i, 11) for i, c in enumerate(first17))
        assert resident_id_check_char(first17) == "10X98765432"[total % 11]
        digits = first17[:16]
        doubled = [int(c) * (2 if i % 2 else 1) for i, c in enumerate(reversed(digits))]
        assert luhn_valid(digits) == (sum(d - 9 if d > 9 else d for d in doubled) % 10 == 0)


def _structured_phrases() -> list[str]:
    from detectors.fake_recruitment.cues import lexicon

    automaton = lexicon().automaton
    return sorted(k.encode("latin-1").decode("utf-8") for k, v in automaton.items() if any(s.structured for s in v[2]))


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_structured_fields_skipped_only_when_no_structured_signal_can_occur(data: st.DataObject) -> None:
    from detectors.fake_recruitment.cues import lexicon
    from detectors.normalize import normalize, sources

    phrases = _structured_phrases()
    phrase = data.draw(st.sampled_from(phrases))
    # The phrase as an evader may write it: characters swapped for what normalises into them,
    # separators between them, some text around.
    spelled = "".join(
        data.draw(st.sampled_from(sorted(sources(ch) or {ch}))) + data.draw(st.sampled_from(["", " ", "★", "\u200b"]))
        for ch in phrase
    )
    text = data.draw(st.sampled_from(["", "深圳市", "工作地点:"])) + spelled + data.draw(st.sampled_from(["", "10号"]))
    if any(p in normalize(text).text for p in phrases):
        assert lexicon().structured_hint.search(text) is not None
