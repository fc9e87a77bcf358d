"""Nightly-scan rule: a posting still live although its agency's placement licence lapsed after it was published (pure)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache
from typing import Any

from detectors.context import DetectionContext
from detectors.fake_recruitment.org_names import compare_names
from detectors.findings import Finding
from detectors.lexicon import load_toml
from detectors.registries import LicenceRegistry, LicenceStatus, uscc_key
from schemas import JobPosting

RULE = "fake_recruitment.lapsed_licence"
PACKAGE = "detectors.fake_recruitment"


@cache
def _levels() -> dict[str, Any]:
    return dict(load_toml(PACKAGE, "scan_checks.toml")["lapsed_licence"]["states"])


@dataclass(frozen=True, slots=True)
class LapsedAgency:
    """An agency licensed at some point whose placement licence is not in force on the scan date."""

    uscc: str
    name: str
    status: LicenceStatus  # on the scan date
    lapsed_since_last_scan: bool  # still licensed on the previous scan date
    numbers: tuple[str, ...]  # every licence number filed for it


def lapsed_agencies(licences: LicenceRegistry, since: dt.date, as_of: dt.date) -> list[LapsedAgency]:
    """Agencies whose licence is revoked, cancelled, expired or out of scope on `as_of`, by USCC."""
    levels = _levels()
    out = []
    for entry in licences.agencies():
        if not entry.uscc or not any(e.kind in ("license_grant", "license_change") for e in entry.events):
            continue
        status = licences.status_at(entry.uscc, as_of)
        if status.licensed or status.state not in levels:
            continue
        before = licences.status_at(entry.uscc, since)
        numbers = tuple(sorted({e.number for e in entry.events if e.number}))
        out.append(LapsedAgency(entry.uscc, entry.name, status, before.licensed, numbers))
    return sorted(out, key=lambda a: a.uscc)


def lapsed_licence_finding(ctx: DetectionContext, as_of: dt.date, live_days: int) -> Finding | None:
    """The finding for a live posting published while its agency was licensed, the licence no longer in force on `as_of`.

    A posting published after the lapse is `unlicensed_agency` (judged at the posting date) and is
    not repeated here; neither is one older than `live_days` (no longer live).
    """
    rec = ctx.record
    if not isinstance(rec, JobPosting) or rec.agency is None:
        return None
    agency = rec.agency
    a_uscc, a_name, a_no = uscc_key(agency.uscc), (agency.name or "").strip(), (agency.license_no or "").strip()
    employer = rec.employer
    if a_uscc and employer is not None and a_uscc == uscc_key(employer.uscc):
        return None  # the firm hires for itself: no intermediary
    if not a_uscc and employer is not None and a_name and compare_names(a_name, employer.name).same:
        return None
    posted_on = rec.posted_at.astimezone(dt.UTC).date()
    if posted_on > as_of or (as_of - posted_on).days > live_days:
        return None
    licences = ctx.registries.licences
    then = licences.status_at(a_uscc or None, posted_on, a_no or None, name=a_name or None)
    if not then.licensed:
        return None
    now = licences.status_at(a_uscc or None, as_of, a_no or None, name=a_name or None)
    level = _levels().get(now.state)
    if now.licensed or level is None:
        return None
    who = a_name or a_uscc or a_no
    evidence = [ctx.whole_field(p, public=True) for p in ("agency.uscc", "agency.name", "agency.license_no") if ctx.text(p)]
    return ctx.finding(
        RULE,
        evidence[:2],
        score=level["score"],
        severity=level["severity"],
        explanation=(
            f"agency {who} was licensed when it published this posting on {posted_on}, but on {as_of} its "
            f"licence is no longer in force ({now.reason}) while the posting is still live "
            f"(published within the last {live_days} days)"
        ),
        analysis={
            "licence_state": now.state,
            "reason": now.reason,
            "filing_id": now.filing_id,
            "posted_on": posted_on.isoformat(),
            "scan_date": as_of.isoformat(),
        },
    )
