"""Near-duplicate postings: a normalised text skeleton, bottom-k shingle keys for blocking, rapidfuzz to decide."""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterable, Mapping
from typing import Any

from rapidfuzz import fuzz, process

from detectors import normalize

# Whitespace, punctuation and symbols: reposts differ in them more than in words.
_NOISE = re.compile(r"[\s\W_]+", re.UNICODE)
SHINGLE = 4
BLOCK_KEYS = 4
MAX_SKELETON = 4000  # characters compared; enough to tell a repost from a different posting


def skeleton(title: str | None, body: str | None) -> str:
    """The comparable form of a posting: normalised (full-width, 繁→简, evasions) title and text, no punctuation."""
    text = normalize(f"{title or ''}\n{body or ''}").text
    return _NOISE.sub("", text)[:MAX_SKELETON]


def block_keys(skel: str) -> list[int]:
    """The `BLOCK_KEYS` smallest CRC32 hashes of the skeleton's 4-character shingles (a bottom-k sketch).

    Two texts that share most shingles almost surely share one of these keys, so candidates for
    a near-duplicate are found by key equality; rapidfuzz then decides.
    """
    if not skel:
        return []
    if len(skel) <= SHINGLE:
        return [zlib.crc32(skel.encode("utf-8"))]
    hashes = {zlib.crc32(skel[i : i + SHINGLE].encode("utf-8")) for i in range(len(skel) - SHINGLE + 1)}
    return sorted(hashes)[:BLOCK_KEYS]


def similar(a: str, b: str, threshold: float) -> bool:
    """Whether two skeletons are near-identical: rapidfuzz ratio (normalised Indel similarity) >= threshold."""
    if not a or not b:
        return False
    return fuzz.ratio(a, b, score_cutoff=threshold) > 0


def best_match(skel: str, candidates: Iterable[tuple[int, str]], threshold: float) -> int | None:
    """The candidate id whose skeleton is most similar to `skel`, if any reaches the threshold (first on ties)."""
    choices = dict(candidates)
    if not skel or not choices:
        return None
    # extractOne preprocesses `skel` once for all candidates: several times faster than ratio() per pair.
    found = process.extractOne(skel, choices, scorer=fuzz.ratio, score_cutoff=threshold)
    return None if found is None else int(found[2])


def agency_key(record: Mapping[str, Any]) -> str | None:
    """The identity of the intermediary behind a record: its USCC, else its normalised name."""
    agency = record.get("agency")
    if not isinstance(agency, Mapping):
        return None
    uscc = agency.get("uscc")
    if isinstance(uscc, str) and uscc.strip():
        return "uscc:" + uscc.strip().upper()
    name = agency.get("name")
    if isinstance(name, str) and name.strip():
        return "name:" + _NOISE.sub("", normalize(name).text)
    return None
