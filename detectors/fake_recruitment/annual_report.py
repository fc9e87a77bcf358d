"""Nightly-scan rule: internally implausible agency annual reports (fees vs revenue vs placements vs tax, dispatch scope) (pure)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache
from typing import Any

from detectors.context import DetectionContext, field_value
from detectors.findings import Finding
from detectors.lexicon import load_toml
from detectors.registries import AgencyLicences
from schemas import AgencyFiling

RULE = "fake_recruitment.annual_report_anomaly"
PACKAGE = "detectors.fake_recruitment"
_SEVERITY_RANK = {"low": 0, "medium": 1, "high": 2, "critical": 3}


@cache
def _config() -> dict[str, Any]:
    return dict(load_toml(PACKAGE, "scan_checks.toml")["annual_report"])


@dataclass(frozen=True, slots=True)
class ReportCheck:
    """One failed plausibility check: its name, the fields it compares, and what it found."""

    name: str
    score: float
    severity: str
    fields: tuple[str, ...]
    detail: str


def scope_in_force(entry: AgencyLicences | None, on: dt.date) -> tuple[str, ...] | None:
    """The licence scope the agency held on `on` (None: no licence filing on record at all)."""
    if entry is None or not entry.events:
        return None
    scope: tuple[str, ...] = ()
    for event in entry.events:  # sorted by when each takes effect
        start = event.valid_from if event.kind == "license_grant" and event.valid_from else event.effective
        if start > on:
            break
        if event.kind == "license_grant":
            scope = event.scope
        elif event.kind == "license_change":
            scope = event.scope or scope
        else:
            scope = ()
    return scope


def annual_report_checks(filing: AgencyFiling, scope: tuple[str, ...] | None) -> list[ReportCheck]:
    """Every plausibility check the report fails; `scope` is the licence scope in force at the report's year end."""
    report = filing.annual_report
    if filing.filing_type != "annual_report" or report is None:
        return []
    conf = _config()
    revenue, fees, tax = report.revenue_cny, report.fees_collected_cny, report.tax_paid_cny
    placements, dispatched = report.placements, report.dispatched_workers
    out: list[ReportCheck] = []
    f = "annual_report."
    if fees is not None and revenue is not None and fees > revenue:
        c = conf["fees_exceed_revenue"]
        out.append(ReportCheck("fees_exceed_revenue", c["score"], c["severity"], (f + "fees_collected_cny", f + "revenue_cny"),
                               f"fees collected {fees:,.0f} exceed total revenue {revenue:,.0f}"))
    c = conf["fees_without_placements"]
    if fees is not None and fees >= c["min_fees"] and placements == 0:
        out.append(ReportCheck("fees_without_placements", c["score"], c["severity"], (f + "fees_collected_cny", f + "placements"),
                               f"fees of {fees:,.0f} collected with no placement made"))
    c = conf["fee_per_placement"]
    if fees is not None and placements is not None and placements >= c["min_placements"] and fees / placements > c["max_cny"]:
        out.append(ReportCheck("fee_per_placement", c["score"], c["severity"], (f + "fees_collected_cny", f + "placements"),
                               f"{fees / placements:,.0f} in fees per placement (more than {c['max_cny']:,})"))
    c = conf["low_tax"]
    if revenue is not None and tax is not None and revenue >= c["min_revenue"] and tax < revenue * c["min_ratio"]:
        out.append(ReportCheck("low_tax", c["score"], c["severity"], (f + "revenue_cny", f + "tax_paid_cny"),
                               f"tax paid {tax:,.0f} on revenue {revenue:,.0f} (below {c['min_ratio']:.1%})"))
    c = conf["dispatch_without_scope"]
    if dispatched and dispatched > 0 and scope is not None and c["scope"] not in scope:
        out.append(ReportCheck("dispatch_without_scope", c["score"], c["severity"], (f + "dispatched_workers",),
                               f"{dispatched} dispatched workers reported without {c['scope']} in the licence scope"
                               f" ({'、'.join(scope) or 'no licence in force'})"))
    return out


def annual_report_finding(ctx: DetectionContext, checks: list[ReportCheck]) -> Finding | None:
    """One finding for the report: highest check's score (plus a bonus per further check), its fields as evidence."""
    if not checks:
        return None
    top = max(checks, key=lambda c: (c.score, _SEVERITY_RANK[c.severity]))
    score = top.score + _config()["extra_check_bonus"] * (len(checks) - 1)
    severity = max((c.severity for c in checks), key=_SEVERITY_RANK.__getitem__)
    fields = sorted({p for c in checks for p in c.fields if field_value(ctx.record, p) is not None})
    evidence = [ctx.whole_field(p, public=True) for p in fields]
    agency = ctx.record.agency.name if isinstance(ctx.record, AgencyFiling) else ""
    year = ctx.record.annual_report.year if isinstance(ctx.record, AgencyFiling) and ctx.record.annual_report else None
    return ctx.finding(
        RULE,
        evidence,
        score=score,
        severity=severity,
        explanation=f"annual report {year or ''} of {agency}: " + "; ".join(c.detail for c in checks),
        analysis={"checks": [c.name for c in checks], "year": year},
    )

