"""Prometheus counters of sharing, per partner: shared, held, receipted, retracted (publisher); received, rejected, retractions (subscriber)."""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import CollectorRegistry, Counter, Gauge


class ShareMetrics:
    """One registry per process (or per test): the publisher and a partner's subscriber each have their own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.shared = Counter(
            "hrwatch_share_shared",
            "envelopes published to a partner and acknowledged by the broker (first time only)",
            ["partner", "trigger"],
            registry=r,
        )
        self.receipted = Counter(
            "hrwatch_share_receipted",
            "receipts from partners recorded in the share log (first receipt per envelope)",
            ["partner", "status"],
            registry=r,
        )
        self.waiting = Gauge(
            "hrwatch_share_waiting",
            "findings held for a partner until confirmed, or until their subject record is stored",
            ["partner", "waiting_for"],
            registry=r,
        )
        self.invalid_input = Counter(
            "hrwatch_share_invalid_input",
            "messages the publisher could not read (skipped, logged)",
            ["topic"],
            registry=r,
        )
        self.received = Counter(
            "hrwatch_share_received",
            "envelopes a partner's subscriber verified and stored (new ones)",
            ["partner"],
            registry=r,
        )
        self.rejected = Counter(
            "hrwatch_share_rejected",
            "envelopes a partner's subscriber rejected (tampered, foreign, malformed)",
            ["partner", "reason"],
            registry=r,
        )
        self.receipts_sent = Counter(
            "hrwatch_share_receipts_sent",
            "receipts a partner's subscriber wrote to the receipts topic",
            ["partner", "status"],
            registry=r,
        )
        # Retractions (a shared finding dismissed later) and reinstatements (reopened and confirmed again).
        self.retractions_sent = Counter(
            "hrwatch_share_retractions_sent",
            "retractions published to a partner and acknowledged by the broker (first time only)",
            ["partner", "reason"],
            registry=r,
        )
        self.reinstatements_sent = Counter(
            "hrwatch_share_reinstatements_sent",
            "reinstatements (a retraction withdrawn) published to a partner and acknowledged (first time only)",
            ["partner"],
            registry=r,
        )
        self.retractions_receipted = Counter(
            "hrwatch_share_retractions_receipted",
            "receipts from partners for retractions and reinstatements (first receipt per notice)",
            ["partner", "status"],
            registry=r,
        )
        self.receipts_rejected = Counter(
            "hrwatch_share_receipts_rejected",
            "receipts the publisher could not verify (unsigned, forged, tampered, unknown partner): ignored, logged",
            ["partner", "reason"],
            registry=r,
        )
        self.retractions_received = Counter(
            "hrwatch_share_retractions_received",
            "retractions a partner's subscriber verified and applied (new ones)",
            ["partner"],
            registry=r,
        )
        self.reinstatements_received = Counter(
            "hrwatch_share_reinstatements_received",
            "reinstatements a partner's subscriber verified and applied (new ones)",
            ["partner"],
            registry=r,
        )
        self._waiting_labels: set[tuple[str, str]] = set()

    def start_publisher_series(self, partners: Iterable[str]) -> None:
        """Put the retraction and receipt-verification series at 0 for every partner, so that increase() over a
        dashboard range sees their first event (a counter series that appears at 1 shows no increase)."""
        for partner in partners:
            self.reinstatements_sent.labels(partner)
            for reason in ("false_positive", "duplicate", "out_of_scope", "unspecified"):
                self.retractions_sent.labels(partner, reason)
            for status in ("accepted", "rejected"):
                self.retractions_receipted.labels(partner, status)
            for reason in ("schema", "unknown_key", "bad_signature"):
                self.receipts_rejected.labels(partner, reason)
        for reason in ("schema", "unknown_partner"):  # receipts naming no partner of the policy
            self.receipts_rejected.labels("unknown", reason)

    def value(self, name: str, **labels: str) -> float:
        """A sample's current value (0 when never set): for tests and summaries."""
        got = self.registry.get_sample_value(name, labels)
        return float(got) if got is not None else 0.0

    def set_waiting(self, counts: dict[tuple[str, str], int]) -> None:
        """Replace the held-findings gauges (pairs no longer held drop to 0)."""
        for gone in self._waiting_labels - counts.keys():
            self.waiting.labels(*gone).set(0)
        for (partner, waiting_for), n in counts.items():
            self.waiting.labels(partner, waiting_for).set(n)
        self._waiting_labels |= counts.keys()
