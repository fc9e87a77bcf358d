"""Building the publisher and a partner subscriber from hrwatch Settings (any object with those attributes)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine

from sharing.envelope import KeyRing
from sharing.metrics import ShareMetrics
from sharing.policy import SharingPolicy, load_policy
from sharing.publisher import PublisherConfig, SharePublisher
from sharing.subscriber import PartnerSubscriber, SubscriberConfig


def key_ring(settings: Any) -> KeyRing:
    """Keys given per partner in the settings (HRWATCH_SHARE_SIGNING_KEYS__<P>, …) first, then files in HRWATCH_SHARE_KEY_DIR.

    Receipt keys (`<partner>-receipts.key|.pub`) come from the same directory; settings
    `share_receipt_signing_keys` / `share_receipt_verify_keys`, where the settings define them, come first.
    """
    receipt_signing = getattr(settings, "share_receipt_signing_keys", None) or {}
    return KeyRing(
        directory=settings.share_key_dir,
        signing={p: v.get_secret_value() for p, v in (settings.share_signing_keys or {}).items()},
        verifying=dict(settings.share_verify_keys or {}),
        receipt_signing={p: _secret(v) for p, v in receipt_signing.items()},
        receipt_verifying=dict(getattr(settings, "share_receipt_verify_keys", None) or {}),
    )


def _secret(value: Any) -> str:
    return value.get_secret_value() if hasattr(value, "get_secret_value") else str(value)


def policy_of(settings: Any) -> SharingPolicy:
    return load_policy(settings.share_policy)


def _timeouts(settings: Any) -> tuple[float, float]:
    from streams.app import session_timeouts

    return session_timeouts(settings)


def build_publisher(
    settings: Any,
    bootstrap: str,
    engine: Engine,
    *,
    metrics: ShareMetrics | None = None,
    policy: SharingPolicy | None = None,
) -> SharePublisher:
    """The publisher on the store's engine (migrated to 0005 or later); raises PolicyError or KeyFileError naming what is wrong."""
    session, heartbeat = _timeouts(settings)
    config = PublisherConfig(
        bootstrap=bootstrap,
        namespace=settings.topic_namespace,
        group_id=settings.share_group_id,
        session_timeout=session,
        heartbeat_interval=heartbeat,
        max_poll_records=settings.max_poll_records,
        issuer=settings.share_issuer,
        subject_wait=settings.share_subject_wait,
        resend_after=settings.share_resend_after,
    )
    return SharePublisher(config, policy or policy_of(settings), key_ring(settings), engine, metrics=metrics)


def subscriber_database_url(settings: Any, partner: str) -> str:
    return settings.subscriber_database_url or f"sqlite:///partner-{partner}.db"


def build_subscriber(
    settings: Any, bootstrap: str, partner: str, engine: Engine, *, metrics: ShareMetrics | None = None
) -> PartnerSubscriber:
    """A partner's subscriber on its own database; raises KeyFileError when the partner's public key or its
    receipt-signing key (`<partner>-receipts.key`, `hrwatch share keygen <partner> --receipts`) is missing."""
    session, heartbeat = _timeouts(settings)
    config = SubscriberConfig(
        bootstrap=bootstrap,
        partner=partner,
        namespace=settings.topic_namespace,
        group_id=settings.subscriber_group_id,
        session_timeout=session,
        heartbeat_interval=heartbeat,
    )
    ring = key_ring(settings)
    return PartnerSubscriber(
        config, ring.verifier(partner), engine, receipt_signer=ring.signer(partner, receipts=True), metrics=metrics
    )
