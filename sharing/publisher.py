"""The share publisher: hr.findings.v1 + hr.reviews.v1 (+ receipts) in, signed minimised envelopes out on hr.share.<partner>.v1.

Each (finding, partner) is shared at most once: the share log row (primary key finding id +
partner) is claimed in SQL, with the signed envelope, before the envelope is published; a claim
that conflicts means "shared already" and nothing is sent. Rows claimed but not acknowledged by
the broker (a crash in between) are re-sent with the same bytes by the periodic sweep, so a
partner may see an envelope twice after a crash, never two different envelopes for one pair.

A shared finding that the queue dismisses later is retracted (sharing/retractions.py), the same
way: claimed in the decision's transaction, published after it, re-sent until acknowledged.
Receipts count only when signed by the partner's receipt key (sharing/receipts.py).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from schemas.registry import fast_validator
from sharing.consuming import ConsumerService, ConsumerSettings, make_consumer, send_all
from sharing.envelope import EnvelopeRejected, EnvelopeSigner, KeyRing, unsigned_envelope
from sharing.metrics import ShareMetrics
from sharing.minimise import minimise
from sharing.policy import SharingPolicy
from sharing.receipts import ReceiptVerifier, claimed_partner
from sharing.retractions import Notice, Retractions
from sharing.routing import Plan, ReviewState, organisation_of, plan_share
from sharing.state import Held, Pair, ShareState
from sharing.topics import findings_topic, publisher_topics, receipts_topic, reviews_topic, share_topic
from streams.topics import TopicNames

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PublisherConfig:
    """Where the publisher connects and how long it waits; built from Settings by the CLI."""

    bootstrap: str
    namespace: str = ""
    group_id: str = "hrwatch-sharing"
    session_timeout: float = 6.0
    heartbeat_interval: float = 1.0
    max_poll_records: int = 500
    issuer: str = "hrwatch"
    subject_wait: float = 120.0  # s a finding waits for its subject record before going out without it
    resend_after: float = 30.0  # s after which a claimed but unacknowledged envelope is published again
    sweep_every: float = 2.0  # s between looks at held findings and unsent envelopes
    # s: how far back the sweep looks for decisions that raced a share made by another publisher
    reconsider_window: float = 3600.0


@dataclass(frozen=True, slots=True)
class Outgoing:
    finding_id: str
    partner: str
    topic: str
    envelope: bytes
    trigger: str


def _valid_finding(obj: Any) -> bool:
    try:
        fast_validator("finding")(obj)
    except Exception:
        return False
    return True


def _valid_review(obj: Any) -> bool:
    return (
        isinstance(obj, dict)
        and isinstance(obj.get("finding_ids"), list)
        and all(isinstance(f, str) for f in obj["finding_ids"])
        and isinstance(obj.get("status"), str)
        and isinstance(obj.get("decision"), str)
    )


class SharePublisher(ConsumerService):
    """Routes findings to partners per the policy; `handle()` takes one consumed batch, `sweep()` the periodic work."""

    def __init__(
        self,
        config: PublisherConfig,
        policy: SharingPolicy,
        keys: KeyRing,
        engine: Engine,
        *,
        metrics: ShareMetrics | None = None,
        clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        self.config = config
        self.policy = policy
        # Every partner needs its key before anything is consumed: a missing key stops the start, naming it.
        self.signers: dict[str, EnvelopeSigner] = {p: keys.signer(p) for p in policy.partners}
        self.state = ShareState(engine)
        self.engine = engine
        self.metrics = metrics or ShareMetrics()
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self.names = TopicNames(config.namespace)
        self.topics = {
            "findings": findings_topic(self.names),
            "reviews": reviews_topic(self.names),
            "receipts": receipts_topic(self.names),
        }
        for topic in self.topics.values():  # series at 0 from the start, so increase() sees the first one
            self.metrics.invalid_input.labels(topic)
        # A partner without a receipt key does not stop sharing: its receipts are rejected (and counted) until it has one.
        self.receipt_verifier = ReceiptVerifier.for_partners(keys, list(policy.partners))
        self.retractions = Retractions(engine, self.signers, config.issuer, lambda p: share_topic(self.names, p))
        self.metrics.start_publisher_series(policy.partners)
        self.bootstrap = config.bootstrap
        self.client_id = "hrwatch-share-publisher"
        self._last_sweep = 0.0

    # -- running ----------------------------------------------------------------------------------

    def all_topics(self) -> list[str]:
        return publisher_topics(self.names, self.policy.partners)

    def start(self) -> SharePublisher:
        """Consume in a background thread (the worker, the demo and tests run it this way); `stop()` ends it."""
        consumer = make_consumer(
            ConsumerSettings(
                self.config.bootstrap,
                self.config.group_id,
                self.config.session_timeout,
                self.config.heartbeat_interval,
                self.config.max_poll_records,
                self.client_id,
            ),
            [self.topics["findings"], self.topics["reviews"], self.topics["receipts"]],
        )
        self._run_loop(consumer, self.handle, "share publisher", idle=self._maybe_sweep)
        return self

    # -- one batch --------------------------------------------------------------------------------

    def handle(self, messages: Sequence[Any]) -> None:
        """Findings, review decisions and receipts of one poll: plan, claim and hold in one transaction, then publish."""
        findings: dict[str, dict[str, Any]] = {}
        reviews: list[dict[str, Any]] = []
        receipts: list[dict[str, Any]] = []
        for m in messages:
            obj = _json(m.value)
            if m.topic == self.topics["findings"] and _valid_finding(obj):
                findings[obj["id"]] = obj
            elif m.topic == self.topics["reviews"] and _valid_review(obj):
                reviews.append(obj)
            elif m.topic == self.topics["receipts"] and isinstance(obj, dict):
                receipt = self._verified_receipt(m)
                if receipt is not None:
                    receipts.append(receipt)
            else:
                self.metrics.invalid_input.labels(m.topic).inc()
                log.warning("share publisher: unreadable message on %s[%d]@%d skipped", m.topic, m.partition, m.offset)
        now = self.clock()
        with Session(self.engine) as s, s.begin():
            touched = self.state.apply_reviews(s, reviews)
            held = self.state.held(s, touched | findings.keys())
            work = dict(findings)
            for h in held.values():
                work.setdefault(h.finding_id, h.finding)
            review_states = self.state.reviews(s, touched | work.keys())
            requested = [f for f, r in review_states.items() if r.requested_partners and f not in work]
            work.update(self.state.stored_findings(s, requested))
            outgoing = self._plan(s, work, review_states, held, now)
            notices = self.retractions.reconsider(s, {f: r for f, r in review_states.items() if f in touched}, now)
            receipted = self.state.record_receipts(s, receipts, now)
            notices_receipted = self.retractions.record_receipts(s, receipts, now)
        for partner, status in receipted:
            self.metrics.receipted.labels(partner, status).inc()
        for partner, status in notices_receipted:
            self.metrics.retractions_receipted.labels(partner, status).inc()
        self._publish(outgoing)
        self._publish_notices(notices)

    def _verified_receipt(self, m: Any) -> dict[str, Any] | None:
        """A receipt signed by its partner's receipt key, or None (rejected: logged and counted, never raised)."""
        try:
            return self.receipt_verifier.verify(m.value)
        except EnvelopeRejected as exc:
            partner = claimed_partner(m.value, self.policy.partners)
            self.metrics.receipts_rejected.labels(partner, exc.reason).inc()
            log.warning(
                "share publisher: receipt %s[%d]@%d (claims %s) rejected: %s",
                m.topic,
                m.partition,
                m.offset,
                partner,
                exc,
            )
            return None

    def sweep(self) -> None:
        """Re-plan held findings that may go out now, re-send unacknowledged envelopes, refresh the gauges."""
        now = self.clock()
        with Session(self.engine) as s, s.begin():
            expired_before = now - dt.timedelta(seconds=self.config.subject_wait)
            due = self.state.due_for_another_look(s, expired_before)
            if due:
                held = {(h.finding_id, h.partner): h for h in due}
                work = {h.finding_id: h.finding for h in due}
                outgoing = self._plan(s, work, self.state.reviews(s, work), held, now)
            else:
                outgoing = []
            since = now - dt.timedelta(seconds=self.config.reconsider_window)
            recent = self.retractions.recently_decided(s, since)
            notices = self.retractions.reconsider(s, self.state.reviews(s, recent), now) if recent else []
        self._publish(outgoing)
        self._publish_notices(notices)
        before = now - dt.timedelta(seconds=self.config.resend_after)
        unsent = self.state.unsent(before)
        if unsent:
            log.warning("share publisher: re-sending %d envelopes claimed but never acknowledged", len(unsent))
            self._publish([Outgoing(u.finding_id, u.partner, u.topic, u.envelope, u.trigger) for u in unsent])
        unsent_notices = self.retractions.unsent(before)
        if unsent_notices:
            log.warning(
                "share publisher: re-sending %d retractions claimed but never acknowledged", len(unsent_notices)
            )
            self._publish_notices(unsent_notices)
        self.metrics.set_waiting(self.state.waiting_counts())

    def _maybe_sweep(self) -> None:
        if time.monotonic() - self._last_sweep >= self.config.sweep_every:
            self._last_sweep = time.monotonic()
            self.sweep()

    # -- planning ---------------------------------------------------------------------------------

    def _plan(
        self,
        s: Session,
        work: Mapping[str, dict[str, Any]],
        reviews: Mapping[str, ReviewState],
        held: Mapping[Pair, Held],
        now: dt.datetime,
    ) -> list[Outgoing]:
        """Decide every (finding, partner) of `work`; claim shares, hold or release; returns the envelopes to publish."""
        held_partners: dict[str, set[str]] = {}
        for f, p in held:
            held_partners.setdefault(f, set()).add(p)
        candidates: dict[str, list[str]] = {}
        for fid, finding in work.items():
            review = reviews.get(fid)
            partners = set(self.policy.candidates(finding)) | held_partners.get(fid, set())
            if review is not None:
                partners |= review.requested_partners & self.policy.partners.keys()
            if partners:
                candidates[fid] = sorted(partners)
        if not candidates:
            return []
        pairs = [(fid, p) for fid, ps in candidates.items() for p in ps]
        done = self.state.already_shared(s, pairs)
        subjects = self.state.subjects(s, {_subject_key(work[fid]) for fid in candidates})
        claims: list[dict[str, Any]] = []
        outgoing: dict[Pair, Outgoing] = {}
        holds: list[dict[str, Any]] = []
        release: list[Pair] = []
        for fid, partner in pairs:
            pair = (fid, partner)
            if pair in done:
                release.append(pair)
                continue
            finding = work[fid]
            subject = subjects.get(_subject_key(finding))
            h = held.get(pair)
            waited = (now - h.held_at).total_seconds() if h is not None and h.waiting_for == "subject" else 0.0
            expired = waited >= self.config.subject_wait
            plan = plan_share(self.policy, partner, finding, reviews.get(fid), subject, subject_expired=expired)
            if plan.action == "share":
                row, envelope = self._claim_row(finding, partner, plan, reviews.get(fid), subject, now)
                claims.append(row)
                outgoing[pair] = Outgoing(fid, partner, row["topic"], envelope, row["trigger"])
                release.append(pair)
            elif plan.action == "hold":
                assert plan.route is not None and plan.waiting_for is not None
                holds.append(
                    {
                        "finding_id": fid,
                        "partner": partner,
                        "route": plan.route.name,
                        "waiting_for": plan.waiting_for,
                        "subject_type": finding["subject"]["type"],
                        "subject_id": finding["subject"]["id"],
                        "finding": orjson.dumps(finding).decode(),
                        "held_at": now,
                    }
                )
            elif h is not None:
                release.append(pair)  # the policy no longer routes it to this partner
        claimed = self.state.claim(s, claims)
        self.state.release(s, release)
        self.state.hold(s, holds)
        return [o for pair, o in outgoing.items() if pair in claimed]

    def _claim_row(
        self,
        finding: dict[str, Any],
        partner: str,
        plan: Plan,
        review: ReviewState | None,
        subject: Mapping[str, Any] | None,
        now: dt.datetime,
    ) -> tuple[dict[str, Any], bytes]:
        route = plan.route
        assert route is not None and plan.trigger is not None
        shrunk = minimise(finding, subject, route.fields, route.unmask)
        unmask_basis = list(route.unmask_legal_basis) if shrunk.unmasked else []
        envelope = self.signers[partner].sign(
            unsigned_envelope(
                finding_id=finding["id"],
                partner=partner,
                issuer=self.config.issuer,
                issued_at=now.isoformat(),
                classification=route.classification,
                policy={
                    "version": self.policy.version,
                    "digest": self.policy.digest,
                    "route": route.name,
                    "trigger": plan.trigger,
                    "legal_basis": list(route.legal_basis),
                },
                review=review.as_envelope_review() if review is not None and plan.trigger != "immediate" else None,
                minimisation={
                    "fields": list(route.fields),
                    "masked": list(shrunk.masked),
                    "unmasked": list(shrunk.unmasked),
                    "unmask_legal_basis": unmask_basis,
                    "absent": list(shrunk.absent),
                },
                payload=shrunk.payload,
            )
        )
        raw = json.dumps(envelope, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        org, org_uscc = organisation_of(subject)
        row = {
            "finding_id": finding["id"],
            "partner": partner,
            "envelope_id": envelope["envelope_id"],
            "route": route.name,
            "trigger": plan.trigger,
            "alert_id": review.alert_id if review is not None and plan.trigger != "immediate" else None,
            "review_event_id": review.event_id if review is not None and plan.trigger != "immediate" else None,
            "rule": finding["rule"],
            "category": finding["category"],
            "severity": finding["severity"],
            "subject_type": finding["subject"]["type"],
            "subject_id": finding["subject"]["id"],
            "organisation": (org or "")[:300] or None,
            "organisation_uscc": (org_uscc or "")[:40] or None,
            "legal_basis": orjson.dumps(list(route.legal_basis)).decode(),
            "fields": orjson.dumps(list(route.fields)).decode(),
            "unmasked": orjson.dumps(list(shrunk.unmasked)).decode(),
            "unmask_legal_basis": orjson.dumps(unmask_basis).decode(),
            "classification": route.classification,
            "policy_version": self.policy.version,
            "policy_digest": self.policy.digest,
            "topic": share_topic(self.names, partner),
            "envelope": raw.decode("utf-8"),
            "created_at": now,
            "sent_at": None,
            "receipt_status": None,
            "receipted_at": None,
        }
        return row, raw

    # -- publishing -------------------------------------------------------------------------------

    def _publish(self, outgoing: Sequence[Outgoing]) -> None:
        """Publish claimed envelopes keyed by finding id; mark the acknowledged ones sent (failures wait for the sweep)."""
        if not outgoing:
            return
        results = send_all(self.producer, [(o.topic, o.finding_id.encode(), o.envelope) for o in outgoing])
        sent = [o for o, err in zip(outgoing, results, strict=True) if err is None]
        for o, err in zip(outgoing, results, strict=True):
            if err is not None:
                log.warning(
                    "share publisher: envelope for %s to %s not acknowledged (%s); will re-send",
                    o.finding_id,
                    o.partner,
                    err,
                )
        trigger = {(o.finding_id, o.partner): o.trigger for o in sent}
        for pair in self.state.mark_sent(trigger, self.clock()):
            self.metrics.shared.labels(pair[1], trigger[pair]).inc()

    def _publish_notices(self, notices: Sequence[Notice]) -> None:
        """Publish claimed retractions/reinstatements keyed by finding id; mark the acknowledged ones sent and count them."""
        if not notices:
            return
        results = send_all(self.producer, [(n.topic, n.finding_id.encode(), n.envelope) for n in notices])
        for n, err in zip(notices, results, strict=True):
            if err is not None:
                log.warning(
                    "share publisher: %s of %s to %s not acknowledged (%s); will re-send",
                    n.kind,
                    n.finding_id,
                    n.partner,
                    err,
                )
        by_id = {n.notice_id: n for n, err in zip(notices, results, strict=True) if err is None}
        for nid in self.retractions.mark_sent(by_id, self.clock()):
            n = by_id[nid]
            if n.kind == "retraction":
                self.metrics.retractions_sent.labels(n.partner, n.reason).inc()
            else:
                self.metrics.reinstatements_sent.labels(n.partner).inc()


def _json(value: bytes | None) -> Any:
    if not value:
        return None
    try:
        return orjson.loads(value)
    except orjson.JSONDecodeError:
        return None


def _subject_key(finding: Mapping[str, Any]) -> tuple[str, str]:
    return (str(finding["subject"]["type"]), str(finding["subject"]["id"]))
