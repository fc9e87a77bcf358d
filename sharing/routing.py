"""Pure routing decisions: for a finding and a partner, given the policy, the queue decision and the subject record — share, hold or skip."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sharing.minimise import needs_record
from sharing.policy import Route, SharingPolicy

# A queue decision releases findings held for confirmation when the alert ends in one of these.
CONFIRMED_STATUSES = frozenset({"confirmed", "escalated", "shared"})
DISMISSED = "dismissed"


@dataclass(frozen=True, slots=True)
class ReviewState:
    """The latest queue decision about a finding (from hr.reviews.v1)."""

    alert_id: str
    decision: str
    status: str
    event_id: str
    decided_at: str | None
    requested_partners: frozenset[str] = frozenset()
    reason: str | None = None  # of a dismissal

    @property
    def confirmed(self) -> bool:
        return self.status in CONFIRMED_STATUSES

    @property
    def dismissed(self) -> bool:
        return self.status == DISMISSED

    def as_envelope_review(self) -> dict[str, Any]:
        return {
            "alert_id": self.alert_id,
            "event_id": self.event_id,
            "decision": self.decision,
            "decided_at": self.decided_at,
        }


@dataclass(frozen=True, slots=True)
class Plan:
    """What to do for one (finding, partner): `share` under `route` with `trigger`, `hold` until `waiting_for`, or `skip`."""

    action: str  # share | hold | skip
    route: Route | None = None
    trigger: str | None = None  # immediate | confirmed | requested
    waiting_for: str | None = None  # confirmation | subject


SKIP = Plan("skip")


def has_value(record: Mapping[str, Any] | None, dotted: str) -> bool:
    """Whether the record has a non-empty value at `record.a.b`."""
    node: Any = record
    for part in dotted.removeprefix("record.").split("."):
        if not isinstance(node, Mapping):
            return False
        node = node.get(part)
    return node not in (None, "", [], {})


def plan_share(
    policy: SharingPolicy,
    partner: str,
    finding: Mapping[str, Any],
    review: ReviewState | None,
    subject: Mapping[str, Any] | None,
    *,
    subject_expired: bool,
) -> Plan:
    """The decision for one partner. The partner's routes are tried in policy order; the first that applies decides.

    `subject_expired`: the subject record has been waited for long enough; routes that need it
    then go ahead without it (its fields are left out), and `subject_has` conditions fail.
    """
    if partner not in policy.partners:
        return SKIP  # held under an earlier policy that had this partner
    plan = _plan_route(policy, partner, finding, review, subject, subject_expired)
    if plan.action == "share" and review is not None and review.dismissed:
        # A regulator dismissed it before it went out (a late or redelivered finding): sending it now would
        # only be followed by a retraction. It waits instead; a reopen + confirm releases it.
        return Plan("hold", plan.route, waiting_for="confirmation")
    return plan


def _plan_route(
    policy: SharingPolicy,
    partner: str,
    finding: Mapping[str, Any],
    review: ReviewState | None,
    subject: Mapping[str, Any] | None,
    subject_expired: bool,
) -> Plan:
    for route in policy.routes_of(partner):
        if not route.matches(finding):
            continue
        if route.subject_has:
            if subject is None:
                if not subject_expired:
                    return Plan("hold", route, waiting_for="subject")
                continue
            if not all(has_value(subject, f) for f in route.subject_has):
                continue
        if route.after_confirmation and not (review is not None and review.confirmed):
            return _or_requested(
                policy, partner, review, subject, subject_expired, Plan("hold", route, waiting_for="confirmation")
            )
        return _with_subject(route, "confirmed" if route.after_confirmation else "immediate", subject, subject_expired)
    return _or_requested(policy, partner, review, subject, subject_expired, SKIP)


def _with_subject(route: Route, trigger: str, subject: Mapping[str, Any] | None, subject_expired: bool) -> Plan:
    if subject is None and not subject_expired and needs_record(route.fields):
        return Plan("hold", route, trigger, waiting_for="subject")
    return Plan("share", route, trigger)


def _or_requested(
    policy: SharingPolicy,
    partner: str,
    review: ReviewState | None,
    subject: Mapping[str, Any] | None,
    subject_expired: bool,
    otherwise: Plan,
) -> Plan:
    """A supervisor's explicit share with this partner (queue decision `share`) goes out under its on_request route."""
    on_request = policy.partners[partner].on_request
    if on_request is None or review is None or not review.confirmed or partner not in review.requested_partners:
        return otherwise
    return _with_subject(on_request, "requested", subject, subject_expired)


def organisation_of(subject: Mapping[str, Any] | None) -> tuple[str | None, str | None]:
    """The organisation a finding is about, for the audit log and digests: the agency, else the employer."""
    if not subject:
        return None, None
    for key in ("agency", "employer"):
        org = subject.get(key)
        if isinstance(org, Mapping) and (org.get("name") or org.get("uscc")):
            return org.get("name") or None, org.get("uscc") or None
    if subject.get("name"):  # a business registration
        return subject.get("name"), subject.get("uscc")
    return None, None
