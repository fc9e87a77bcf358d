"""Fraud wording in posting text: fee demands, task scams, overseas lures and pyramid schemes, weighed from lexicon.toml."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache

from detectors.context import DetectionContext
from detectors.fake_recruitment.cues import Scan, Signal, lexicon, scan
from detectors.fake_recruitment.pay import offered_pay
from detectors.findings import Evidence, Finding
from detectors.rules import Detector, rule_specs

CATEGORY = "fake_recruitment"
WORDING_RULES = ("fee_demand", "task_scam", "overseas_lure", "pyramid_scheme")


@dataclass(frozen=True, slots=True)
class Contribution:
    signal: Signal
    evidence: Evidence


@dataclass(frozen=True, slots=True)
class RuleResult:
    rule: str
    total: float
    threshold: float
    contributions: tuple[Contribution, ...]

    @property
    def fires(self) -> bool:
        return self.total >= self.threshold and any(c.signal.weight > 0 for c in self.contributions)


@dataclass(frozen=True, slots=True)
class _Bound:
    """What `evaluate` knows of a rule before looking at a posting: its virtual signals, and its empty result."""

    virtual: dict[str, float]
    # Without any phrase hit, can the virtual signals alone reach the threshold and the requirements?
    virtual_alone: bool
    nothing: RuleResult


@cache
def _bound(rule: str) -> _Bound:
    cues = lexicon().rules[rule]
    virtual = {s.name: s.weight for s in cues.signals if s.virtual}
    alone = sum(w for w in virtual.values() if w > 0) >= cues.threshold and all(
        any(r in virtual for r in group) for group in cues.requires
    )
    return _Bound(virtual, alone, RuleResult(rule, 0.0, cues.threshold, ()))


def evaluate(rule: str, sc: Scan) -> RuleResult:
    """Weigh the signals of `rule` found in the scan; each signal counts once, at its first qualifying hit."""
    cues = lexicon().rules[rule]
    bound = _bound(rule)
    hits = sc.by_rule.get(rule, ())
    if not hits and not bound.virtual_alone:
        return bound.nothing  # the bound below, for a posting with no phrase of this rule
    # Cheap bound first: the weights of every signal present, ignoring negation and context.
    present = {hit.signal.name: hit.signal.weight for _, hit in hits}
    virtual = bound.virtual
    ceiling = sum(w for w in (present | virtual).values() if w > 0)
    possible = present.keys() | virtual.keys()
    if ceiling < cues.threshold or not all(any(r in possible for r in group) for group in cues.requires):
        return bound.nothing
    found: dict[str, Contribution] = {}
    for fs, hit in hits:
        sig = hit.signal
        if sig.name in found:
            continue
        if not fs.structured:
            if fs.negated(hit.start, hit.end, sig):
                continue
            if sig.needs is not None and not fs.near(hit.start, hit.end, sig.needs, sig.window):
                continue
            if sig.unless is not None and fs.near(hit.start, hit.end, sig.unless, 1000, clause=True):
                continue
            if sig.unless_sentence is not None and fs.near(hit.start, hit.end, sig.unless_sentence, 1000):
                continue
        found[sig.name] = Contribution(sig, sc.ctx.evidence(fs.path, hit.start, hit.end))
    for sig in cues.signals:
        if sig.virtual == "monthly_pay_at_least" and sig.name not in found:
            pay = offered_pay(sc.ctx)
            if pay is not None and pay.monthly >= sig.value:
                ev = (
                    sc.ctx.whole_field(pay.field)
                    if pay.field.startswith("salary.")
                    else sc.ctx.evidence(pay.field, pay.start, pay.end)
                )
                found[sig.name] = Contribution(sig, ev)
    if not all(any(r in found for r in group) for group in cues.requires):
        return bound.nothing
    total = round(sum(c.signal.weight for c in found.values()), 6)
    return RuleResult(rule, total, cues.threshold, tuple(found.values()))


def explain(base: str, result: RuleResult) -> str:
    """The rule's explanation followed by the signals that made it fire."""
    parts = [c.signal.description for c in result.contributions if c.signal.weight > 0]
    lawful = [c.signal.description for c in result.contributions if c.signal.weight < 0]
    text = f"{base}: " + "; ".join(parts)
    if lawful:
        text += " (outweighing: " + "; ".join(lawful) + ")"
    return text


def to_finding(ctx: DetectionContext, result: RuleResult) -> Finding:
    """A finding for a fired wording rule, with one evidence span per contributing signal."""
    name = f"{CATEGORY}.{result.rule}"
    spec = rule_specs()[name]
    positive = [c for c in result.contributions if c.signal.weight > 0]
    score = min(0.99, spec.score + 0.05 * (result.total - result.threshold))
    evidence = list(dict.fromkeys(c.evidence for c in positive))  # one span may serve two signals
    return ctx.finding(
        name,
        evidence,
        score=score,
        explanation=explain(spec.explanation, result),
        analysis={
            "total": result.total,
            "threshold": result.threshold,
            "signals": [
                {
                    "signal": c.signal.name,
                    "weight": c.signal.weight,
                    "excerpt": c.evidence.excerpt,
                    "legal_basis": list(c.signal.legal_basis),
                }
                for c in result.contributions
            ],
        },
    )


class FraudWordingDetector(Detector):
    """Fires each wording rule whose non-negated signals reach the rule's threshold."""

    rules = tuple(f"{CATEGORY}.{r}" for r in WORDING_RULES)
    record_types = frozenset({"job_posting"})

    def detect(self, ctx: DetectionContext) -> Iterator[Finding]:
        sc = scan(ctx)
        if not any(fs.hits for fs in sc.fields):
            return
        results = {rule: evaluate(rule, sc) for rule in WORDING_RULES}
        lex = lexicon()
        for rule, result in results.items():
            if not result.fires:
                continue
            cues = lex.rules[rule]
            if any(results[o].fires for o in cues.yields_to if o in results):
                # The same wording is better explained by the other rule, unless this one has its own proof.
                if not any(c.signal.name in cues.strong for c in result.contributions):
                    continue
            yield to_finding(ctx, result)
