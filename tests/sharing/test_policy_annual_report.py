"""The tax route for annual-report anomalies (found by `hrwatch scan`): held until confirmed, then shared minimised."""

from __future__ import annotations

from detectors import Registries
from detectors.context import DetectionContext
from detectors.fake_recruitment.annual_report import annual_report_checks, annual_report_finding
from schemas import parse_record
from sharing.minimise import minimise
from sharing.policy import load_policy
from sharing.routing import ReviewState, plan_share
from tests.sharing.conftest import filing

CONFIRMED = ReviewState("1", "confirm", "confirmed", "e1", None)


def _scan_finding() -> dict[str, object]:
    record = parse_record(filing("f-1"))  # fees 2.6 M on revenue 1.2 M, tax 1,000
    checks = annual_report_checks(record, ("职业中介",))  # type: ignore[arg-type]
    found = annual_report_finding(DetectionContext(record, Registries(), "v", "2026-11-23T02:00:00Z"), checks)
    assert found is not None
    return found.to_dict()


def test_annual_report_anomalies_go_to_tax_after_confirmation_only() -> None:
    policy = load_policy()
    f = _scan_finding()
    record = filing("f-1")
    held = plan_share(policy, "tax", f, None, record, subject_expired=False)
    assert (held.action, held.route.name if held.route else None, held.waiting_for) == (
        "hold",
        "tax.annual_report_anomaly",
        "confirmation",
    )
    shared = plan_share(policy, "tax", f, CONFIRMED, record, subject_expired=False)
    assert (shared.action, shared.trigger) == ("share", "confirmed")
    for partner in ("police", "market"):
        assert plan_share(policy, partner, f, CONFIRMED, record, subject_expired=False).action == "skip"
    assert shared.route is not None
    payload = minimise(f, record, shared.route.fields).payload
    assert payload["record"]["annual_report"]["fees_collected_cny"] == 2600000
    assert "legal_representative" not in payload["record"]  # a person's name: not the tax office's to see here
    assert {e["field"] for e in payload["finding"]["evidence"]} >= {"annual_report.fees_collected_cny"}
