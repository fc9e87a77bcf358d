"""Word segmentation (jieba) of a small window, to tell a place or ethnic name used as a person's origin from one inside a longer word.

A trigger such as 回族 or 河南 + 人 only proposes; when context has decided it is a limit and the
trigger runs straight into more Chinese text that no context word explains (限宁夏回族自治区户籍,
只招河南人造革厂熟练工), segmentation decides whether the trigger is a word of its own there. It is
asked about a few characters around one candidate, never about a whole text: jieba costs ~2.7 ms per
500 characters, and one window ~25 µs.

The jieba dictionary (~350,000 words) is built on first use (~1.2 s of CPU, once per process), from
jieba's bundled file without writing jieba's cache file, plus this package's `segmentation.txt`:
administrative names (autonomous prefectures and counties), organisation words and regulatory terms
that must stay whole.
"""

from __future__ import annotations

import logging
import threading
from importlib import resources
from typing import Any

from detectors.discrimination.limits import Decision, TextIndex, is_cjk
from detectors.discrimination.vocabulary import Ground

PACKAGE = "detectors.discrimination"
# Characters of context the segmenter sees on each side of the candidate (jieba needs the
# neighbouring words to choose between 河南人|造革 and 河南|人造革).
WINDOW = 6
_BREAKS = frozenset("。,;:!?、()[]【】\n\r\t \"'/|")
_lock = threading.Lock()


def load_terms() -> list[tuple[str, int | None]]:
    """The user dictionary: `word [frequency]` per line, `#` comments."""
    text = resources.files(PACKAGE).joinpath("segmentation.txt").read_text("utf-8")
    terms: list[tuple[str, int | None]] = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        parts = line.split()
        terms.append((parts[0], int(parts[1]) if len(parts) > 1 else None))
    return terms


_TOKENIZER: Any = None


def _tokenizer() -> Any:
    """The jieba tokenizer, built once per process by whichever thread first needs it."""
    global _TOKENIZER
    if _TOKENIZER is None:
        with _lock:
            if _TOKENIZER is None:
                _TOKENIZER = _build_tokenizer()
    return _TOKENIZER


def _build_tokenizer() -> Any:
    import jieba  # imported here: ~0.25 s, and only a few postings ever need it

    jieba.setLogLevel(logging.WARNING)
    tk = jieba.Tokenizer()
    # What Tokenizer.initialize() does, minus reading and writing its cache file in /tmp:
    # detectors do no I/O beyond their own data files (and jieba's bundled dictionary).
    with tk.get_dict_file() as f:
        tk.FREQ, tk.total = tk.gen_pfdict(f)
    tk.initialized = True
    for word, freq in load_terms():
        tk.add_word(word, freq)
    return tk


def tokens(text: str) -> list[str]:
    """jieba's dictionary segmentation of a short text (no HMM guessing of unknown words)."""
    return list(_tokenizer().cut(text, HMM=False))


def is_word(text: str, start: int, end: int) -> bool:
    """Whether [start, end) of `text` is a word of the clause around it, or the head of one.

    The segmentation must end a word at `end` (宁夏回族自治区 does not end after 回族) and must not
    cut through `start` (江西南昌 is 江西|南昌, not 西南). A word that ends at `end` and starts
    before `start` keeps the trigger as its head (新疆维族, 河南人): still a person. Only a window of
    `WINDOW` characters on each side, cut at punctuation, is segmented.
    """
    lo = start
    while lo > 0 and start - lo < WINDOW and text[lo - 1] not in _BREAKS:
        lo -= 1
    hi = end
    while hi < len(text) and hi - end < WINDOW and text[hi] not in _BREAKS:
        hi += 1
    pos = lo
    ends_at_end = False
    for token in tokens(text[lo:hi]):
        a, pos = pos, pos + len(token)
        if a < start < pos < end:
            return False  # a word runs into the trigger from the left
        if pos == end:
            ends_at_end = True
        if pos >= end:
            break
    return ends_at_end


def own_word(text: str, start: int, end: int, decision: Decision, ground: Ground, index: TextIndex) -> bool:
    """Whether trigger [start, end) (with its origin suffix) is a word of its own, not part of a name.

    Settled without segmentation when each side touches a context word, a delimiter, another
    trigger or (after it) a suffix noun (只要汉族员工); otherwise jieba segments a few characters
    around it (限宁夏回族自治区户籍: 宁夏回族自治区 is one word).
    """
    open_left = (
        start > 0
        and decision.start == start
        and is_cjk(text[start - 1])
        and start not in index.by_end
        and not any(a < start < b for a, b in index.by_start.items() if a >= start - 4)
    )
    open_right = (
        end < len(text)
        and decision.end == end
        and is_cjk(text[end])
        and end not in index.by_start
        and ground.suffixes.starting_at(text, end) is None
        and not index.line_break_before(end)
    )
    if not (open_left or open_right):
        return True
    return is_word(text, start, end)
