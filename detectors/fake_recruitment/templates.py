"""Nightly-scan rule: one posting text mass-posted under many employers — MinHash fingerprints, LSH clustering (pure)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np

from detectors.context import DetectionContext
from detectors.findings import Finding
from detectors.lexicon import load_toml
from detectors.normalize import normalize

RULE = "fake_recruitment.mass_posted_template"
PACKAGE = "detectors.fake_recruitment"
# Reposts differ in whitespace, punctuation and symbols more than in words.
_NOISE = re.compile(r"[\s\W_]+", re.UNICODE)
_MASK64 = (1 << 64) - 1


@cache
def config() -> dict[str, Any]:
    """The [templates] thresholds of scan_checks.toml."""
    return dict(load_toml(PACKAGE, "scan_checks.toml")["templates"])


@cache
def _seeds(count: int) -> np.ndarray:
    # Fixed odd multipliers (splitmix64 of 1..count): the same text gives the same signature in every
    # process and on every run, which the finding ids and the stored fingerprints rely on.
    out = []
    x = 0
    for _ in range(count):
        x = (x + 0x9E3779B97F4A7C15) & _MASK64
        z = x
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
        out.append((z ^ (z >> 31)) | 1)
    return np.array(out, dtype=np.uint64).reshape(-1, 1)


def skeleton(title: str | None, description: str | None) -> str:
    """The comparable text: normalised (full-width, 繁→简, evasions) title and description without punctuation."""
    return _NOISE.sub("", normalize(f"{title or ''}\n{description or ''}").text)


def signature(text: str) -> tuple[int, ...] | None:
    """MinHash signature (32-bit values) of the text's character shingles; None when the text is too short."""
    conf = config()
    k, n = conf["shingle"], len(text)
    if n < max(conf["min_chars"], k):
        return None
    codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    count = n - k + 1
    shingles = np.zeros(count, dtype=np.uint64)
    for j in range(k):  # polynomial hash of each window; uint64 arithmetic wraps, as intended
        shingles = shingles * np.uint64(1_000_003) + codes[j : j + count]
    mixed = np.unique(shingles)[None, :] * _seeds(conf["hashes"])
    mixed ^= mixed >> np.uint64(29)
    return tuple(int(v) >> 32 for v in mixed.min(axis=1))


def fingerprint(title: str | None, description: str | None) -> str:
    """The stored form of a posting's signature (hex, comma-separated); '' when the text is too short."""
    sig = signature(skeleton(title, description))
    return "" if sig is None else ",".join(f"{v:08x}" for v in sig)


def parse_fingerprint(value: str | None) -> tuple[int, ...] | None:
    if not value:
        return None
    return tuple(int(part, 16) for part in value.split(","))


def similarity(a: Sequence[int], b: Sequence[int]) -> float:
    """Share of equal signature values: an unbiased estimate of the Jaccard similarity of the shingle sets."""
    return sum(x == y for x, y in zip(a, b, strict=True)) / len(a)


def employer_key(uscc: str | None, name: str | None) -> str | None:
    """An employer's identity across postings: its USCC, else its normalised name."""
    if uscc and uscc.strip():
        return "uscc:" + uscc.strip().upper()
    if name and name.strip():
        return "name:" + _NOISE.sub("", normalize(name).text)
    return None


@dataclass(frozen=True, slots=True)
class TemplateItem:
    posting_id: str
    employer: str | None
    source: str
    signature: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class TemplateCluster:
    """Postings of one near-identical text; a mass-posted template when it spans `min_employers` employers."""

    posting_ids: tuple[str, ...]
    employers: tuple[str, ...]
    sources: tuple[str, ...]

    @property
    def key(self) -> str:
        return self.posting_ids[0]


def cluster_templates(items: Iterable[TemplateItem]) -> list[TemplateCluster]:
    """Clusters of near-duplicate postings that span at least `min_employers` distinct employers.

    LSH: postings sharing a whole band of their signature are candidates; a candidate joins a
    cluster when its signature agrees with the cluster representative's on `min_similarity` of the
    values. Items are taken in posting-id order, so the result does not depend on input order.
    """
    conf = config()
    band, threshold, cap = conf["band"], conf["min_similarity"], conf["max_band_bucket"]
    ordered = sorted(items, key=lambda i: i.posting_id)
    parent = list(range(len(ordered)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    buckets: dict[tuple[int, tuple[int, ...]], list[int]] = {}
    for i, item in enumerate(ordered):
        sig = item.signature
        for b in range(0, len(sig), band):
            reps = buckets.setdefault((b, sig[b : b + band]), [])
            matched = False
            for r in reps:
                if find(r) == find(i):
                    matched = True
                    break
                if similarity(ordered[r].signature, sig) >= threshold:
                    ri, rr = find(i), find(r)
                    parent[max(ri, rr)] = min(ri, rr)
                    matched = True
                    break
            if not matched and len(reps) < cap:
                reps.append(i)
    groups: dict[int, list[int]] = {}
    for i in range(len(ordered)):
        groups.setdefault(find(i), []).append(i)
    out = []
    for members in groups.values():
        employers = sorted({e for m in members if (e := ordered[m].employer)})
        if len(members) < 2 or len(employers) < conf["min_employers"]:
            continue
        out.append(TemplateCluster(
            tuple(ordered[m].posting_id for m in members), tuple(employers),
            tuple(sorted({ordered[m].source for m in members})),
        ))
    return sorted(out, key=lambda c: c.key)


def template_finding(ctx: DetectionContext, cluster: TemplateCluster) -> Finding:
    """The finding for one posting of a mass-posted cluster; its id does not depend on the cluster's size."""
    conf = config()
    extra = len(cluster.employers) - conf["min_employers"]
    score = min(conf["max_score"], conf["base_score"] + conf["score_per_employer"] * extra)
    severity = "high" if len(cluster.employers) >= conf["high_severity_employers"] else "medium"
    evidence = [ctx.whole_field("title")]
    return ctx.finding(
        RULE,
        evidence,
        score=score,
        severity=severity,
        explanation=(
            f"the same posting text was published {len(cluster.posting_ids)} times under "
            f"{len(cluster.employers)} different employers on {len(cluster.sources)} source(s) "
            f"({', '.join(cluster.sources[:5])})"
        ),
        analysis={
            "cluster": cluster.key,
            "postings": len(cluster.posting_ids),
            "employers": len(cluster.employers),
            "sources": list(cluster.sources),
        },
    )
