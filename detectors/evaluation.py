"""Evaluation of findings against labelled records: per-category and per-rule precision/recall, false positives on clean records."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Score:
    tp: int
    fp: int
    fn: int

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0


@dataclass(slots=True)
class Evaluation:
    categories: dict[str, Score] = field(default_factory=dict)
    rules: dict[str, Score] = field(default_factory=dict)
    clean_records: int = 0
    clean_with_findings: list[str] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)  # per-record mistakes, for reading

    @property
    def clean_false_positive_rate(self) -> float:
        return len(self.clean_with_findings) / self.clean_records if self.clean_records else 0.0


def evaluate(predicted: Mapping[str, Iterable[str]], labels: Iterable[Mapping[str, Any]]) -> Evaluation:
    """Compare predicted rule names per record id with labels ({id, rules, categories}), record by record."""
    cat_counts: dict[str, Counter[str]] = {}
    rule_counts: dict[str, Counter[str]] = {}
    result = Evaluation()
    for label in labels:
        rid = label["id"]
        want_rules = set(label.get("rules", ()))
        want_cats = set(label.get("categories", ())) | {r.split(".", 1)[0] for r in want_rules}
        got_rules = set(predicted.get(rid, ()))
        got_cats = {r.split(".", 1)[0] for r in got_rules}
        if not want_cats:
            result.clean_records += 1
            if got_rules:
                result.clean_with_findings.append(rid)
        for counts, want, got in ((cat_counts, want_cats, got_cats), (rule_counts, want_rules, got_rules)):
            for name in want | got:
                c = counts.setdefault(name, Counter())
                c["tp" if name in want and name in got else ("fn" if name in want else "fp")] += 1
        if want_rules != got_rules:
            result.errors.append(
                {"id": rid, "missed": sorted(want_rules - got_rules), "extra": sorted(got_rules - want_rules)}
            )
    result.categories = {k: Score(v["tp"], v["fp"], v["fn"]) for k, v in sorted(cat_counts.items())}
    result.rules = {k: Score(v["tp"], v["fp"], v["fn"]) for k, v in sorted(rule_counts.items())}
    return result


def format_report(ev: Evaluation) -> str:
    """A plain-text table of the evaluation."""
    lines = [f"{'':40s} {'prec':>6s} {'recall':>6s} {'tp':>4s} {'fp':>4s} {'fn':>4s}"]
    for title, table in (("category", ev.categories), ("rule", ev.rules)):
        lines.append(f"-- by {title}")
        for name, s in table.items():
            lines.append(f"{name:40s} {s.precision:6.3f} {s.recall:6.3f} {s.tp:4d} {s.fp:4d} {s.fn:4d}")
    lines.append(
        f"clean records: {ev.clean_records}, with any finding: {len(ev.clean_with_findings)}"
        f" (false-positive rate {ev.clean_false_positive_rate:.3f})"
        + (f": {', '.join(ev.clean_with_findings)}" if ev.clean_with_findings else "")
    )
    return "\n".join(lines)
