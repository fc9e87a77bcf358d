"""Registry rules: unlicensed agency on the posting date, inactive or mismatched employer, and malformed USCCs."""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Iterator
from functools import cache, lru_cache
from typing import Any

from detectors.context import DetectionContext
from detectors.fake_recruitment.cues import scan
from detectors.fake_recruitment.org_names import compare_names
from detectors.findings import Evidence, Finding
from detectors.identifiers import uscc_check_char, valid_uscc
from detectors.lexicon import load_toml
from detectors.registries import BusinessEntry, uscc_key
from detectors.rules import Detector, rule_specs
from schemas import AgencyFiling, JobPosting

PACKAGE = "detectors.fake_recruitment"
_USCC_ALPHABET = frozenset("0123456789ABCDEFGHJKLMNPQRTUWXY")
_USCC_AUTHORITIES = frozenset("123456789ANY")
_MASK_CHARS = frozenset("*＊×#")


@cache
def _config() -> dict[str, Any]:
    return load_toml(PACKAGE, "registry_checks.toml")


@lru_cache(maxsize=8192)
def cached_valid_uscc(value: str) -> bool:
    """identifiers.valid_uscc, remembered: the same employers post again and again."""
    return valid_uscc(value)


def _present(value: str | None) -> str:
    return (value or "").strip()


class UnlicensedAgencyDetector(Detector):
    """An intermediary without a placement (职业中介) licence valid on the posting date."""

    rules = ("fake_recruitment.unlicensed_agency",)

    def detect(self, ctx: DetectionContext) -> Iterator[Finding]:
        rec = ctx.record
        if not isinstance(rec, JobPosting) or rec.agency is None:
            return
        agency = rec.agency
        a_uscc, a_name, a_no = uscc_key(agency.uscc), _present(agency.name), _present(agency.license_no)
        if not (a_uscc or a_name or a_no):
            return
        employer = rec.employer
        e_uscc = uscc_key(employer.uscc) if employer else ""
        itself = bool(a_uscc and a_uscc == e_uscc) or bool(
            not a_uscc and employer and a_name and compare_names(a_name, employer.name).same
        )
        placing: Evidence | None = None
        if itself:
            # The firm hires for itself (e.g. a dispatch firm as employer): no intermediary — unless,
            # giving no licence number, it offers places with other firms (各大厂随便挑, 介绍费).
            placing = None if a_no else _placement_cue(ctx)
            if placing is None:
                return
        on = rec.posted_at.date()
        licences = ctx.registries.licences
        status = licences.status_at(a_uscc or None, on, a_no or None, name=a_name or None)
        if status.licensed:
            return
        conf = _config()
        level = conf["licence_states"].get(status.state, conf["licence_states"]["unknown"])
        note = ""
        if len(licences) == 0:
            level = conf["licence_registry_empty"]
            note = " (the licence registry holds no filings yet)"
        who = a_name or a_uscc or a_no
        evidence = [
            ctx.whole_field(p, public=True) for p in ("agency.uscc", "agency.name", "agency.license_no") if ctx.text(p)
        ]
        evidence = evidence[:2]
        if placing is not None:
            evidence.append(placing)
            note += f" (it names itself as employer, but places job-seekers with other firms: {placing.excerpt!r})"
        yield ctx.finding(
            "fake_recruitment.unlicensed_agency",
            evidence,
            score=level["score"],
            severity=level["severity"],
            explanation=(
                f"agency {who} published this posting on {on} without a 职业中介 licence valid that day: "
                f"{_licence_words(status.state, status.reason)}{note}"
            ),
            analysis={
                "licence_state": status.state,
                "reason": status.reason,
                "filing_id": status.filing_id,
                "posted_on": on.isoformat(),
            },
        )


def _placement_cue(ctx: DetectionContext) -> Evidence | None:
    """Evidence of placing job-seekers with other firms (lexicon.toml [agency] placement), not negated."""
    for fs, s, e in scan(ctx).find("agency.placement"):
        if not fs.negated(s, e):
            return ctx.evidence(fs.path, s, e)
    return None


def _licence_words(state: str, reason: str) -> str:
    """The registry's reason, led by the plain verdict where the reason does not already say it."""
    prefix = {
        "not_yet": "licence not yet valid",
        "out_of_scope": "licence scope lacks 职业中介",
        "unknown": "no licence on record",
    }.get(state)
    return f"{prefix} — {reason}" if prefix else reason


class BusinessRegistryDetector(Detector):
    """Employer revoked, cancelled or suspended in the business registry, or registered under another name."""

    rules = ("fake_recruitment.inactive_employer", "fake_recruitment.employer_mismatch")

    def detect(self, ctx: DetectionContext) -> Iterator[Finding]:
        rec = ctx.record
        if not isinstance(rec, JobPosting) or rec.employer is None:
            return
        uscc = uscc_key(rec.employer.uscc)
        if not uscc:
            return
        businesses = ctx.registries.businesses
        entry, after_posting = _entry_for(businesses, uscc, rec.posted_at)
        if entry is None:
            yield from self._unknown(ctx, uscc, len(businesses))
            return
        if not after_posting:
            # Judged at the posting date, as licences are: a revocation recorded after the posting
            # says nothing of the employer's standing when it recruited.
            yield from self._inactive(ctx, entry)
        cmp = compare_names(rec.employer.name, entry.name)
        if not cmp.same:
            yield ctx.finding(
                "fake_recruitment.employer_mismatch",
                [ctx.whole_field("employer.name", public=True), ctx.whole_field("employer.uscc", public=True)],
                explanation=(
                    f"the posting names the employer {rec.employer.name!r}, but USCC {uscc} is registered to "
                    f"{entry.name!r} (compared without place and legal form: {cmp.posted_core!r} vs "
                    f"{cmp.registered_core!r}, similarity {cmp.ratio:.0f}/100)"
                ),
                analysis={"registered_name": entry.name, "similarity": round(cmp.ratio, 1)},
            )

    def _inactive(self, ctx: DetectionContext, entry: BusinessEntry) -> Iterator[Finding]:
        conf = _config()
        level = conf["business_status"].get(entry.status or "")
        if level is None:
            return
        score = level["score"]
        when = entry.updated_at.date().isoformat()
        yield ctx.finding(
            "fake_recruitment.inactive_employer",
            [ctx.whole_field("employer.uscc", public=True), ctx.whole_field("employer.name", public=True)],
            score=score,
            severity=level["severity"],
            explanation=(
                f"the business registry shows employer {entry.name!r} as {level['words']} since {when}: "
                "it cannot lawfully recruit"
            ),
            analysis={"status": entry.status, "registry_updated_at": entry.updated_at.isoformat()},
        )

    def _unknown(self, ctx: DetectionContext, uscc: str, registry_size: int) -> Iterator[Finding]:
        conf = _config()["unknown_employer"]
        if registry_size < conf["min_registry_size"] or not cached_valid_uscc(uscc):
            return
        yield ctx.finding(
            "fake_recruitment.inactive_employer",
            [ctx.whole_field("employer.uscc", public=True)],
            score=conf["score"],
            severity=conf["severity"],
            explanation=(
                f"USCC {uscc} is not in the business registry ({registry_size} enterprises on record); the registry "
                "is partial, so this is a weak signal that the employer is not a registered enterprise"
            ),
            analysis={"status": "unknown", "registry_size": registry_size},
        )


def _entry_for(businesses: Any, uscc: str, posted_at: dt.datetime) -> tuple[BusinessEntry | None, bool]:
    """The registration in force at the posting, else the newest one (flagged as dated after the posting)."""
    entry = businesses.at(uscc, posted_at)
    if entry is not None:
        return entry, False
    newest = businesses.get(uscc)
    return newest, newest is not None


@lru_cache(maxsize=8192)
def written_code(value: str) -> str:
    """The code as characters: full-width forms folded, spaces and hyphens between groups dropped, upper-case."""
    if value.isascii() and value.isalnum():
        return value.upper()
    return "".join(ch for ch in unicodedata.normalize("NFKC", value) if not ch.isspace() and ch != "-").upper()


def uscc_problem(value: str) -> str | None:
    """Why `value` is not a GB 32100-2015 unified social credit code, or None when it is one."""
    code = written_code(value)
    if cached_valid_uscc(code):
        return None
    if len(code) != 18:
        return f"it has {len(code)} characters, not 18"
    bad = sorted({c for c in code if c not in _USCC_ALPHABET})
    if bad:
        return f"it contains {''.join(bad)}, outside the code's character set (I, O, S, V and Z are never used)"
    if code[0] not in _USCC_AUTHORITIES:
        return f"its first character {code[0]} is not a registration-authority code"
    if not code[2:8].isdigit():
        return "characters 3–8 (the administrative-division code) are not all digits"
    expected = uscc_check_char(code[:17])
    return f"its check character is {code[17]}, but characters 1–17 give {expected}"


class InvalidUsccDetector(Detector):
    """Employer and agency USCCs (postings, agency filings) that fail the GB 32100-2015 format or check character."""

    rules = ("fake_recruitment.invalid_uscc",)
    record_types = frozenset({"job_posting", "agency_filing"})

    def detect(self, ctx: DetectionContext) -> Iterator[Finding]:
        rec = ctx.record
        values: tuple[tuple[str, str | None], ...]
        if isinstance(rec, JobPosting):
            values = (
                ("employer.uscc", rec.employer.uscc if rec.employer else None),
                ("agency.uscc", rec.agency.uscc if rec.agency else None),
            )
        elif isinstance(rec, AgencyFiling):
            values = (("agency.uscc", rec.agency.uscc),)
        else:
            return
        evidence: list[Evidence] = []
        reasons: list[str] = []
        for path, raw in values:
            value = (raw or "").strip()
            if value and cached_valid_uscc(written_code(value)):
                continue
            if not value or _MASK_CHARS & set(value):
                continue  # absent, or masked on purpose
            problem = uscc_problem(value)
            if problem:
                evidence.append(ctx.whole_field(path, public=True))
                reasons.append(f"{path} {value}: {problem}")
        if evidence:
            spec = rule_specs()["fake_recruitment.invalid_uscc"]
            yield ctx.finding(
                "fake_recruitment.invalid_uscc",
                evidence,
                explanation=f"{spec.explanation}: " + "; ".join(reasons),
                analysis={"problems": reasons},
            )
