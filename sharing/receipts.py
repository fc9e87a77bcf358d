"""Signed receipts (sharing/receipt.v1.json): a partner's subscriber signs them with its own key, the publisher verifies them.

Unsigned receipts could be forged by anybody who can write to hr.share.receipts.v1, and the share
log would then say a partner received what it never did. So each partner signs its receipts with
its own key pair (`<partner>-receipts.key`, made at the partner with `keygen --receipts`), and the
publisher trusts a receipt only when it verifies with that partner's `<partner>-receipts.pub`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from sharing.envelope import RECEIPT_SCHEMA, EnvelopeRejected, EnvelopeSigner, KeyRing, check_signed, parse_signed
from sharing.keygen import KeyFileError

log = logging.getLogger(__name__)
UNKNOWN_PARTNER = "unknown"  # metric label for receipts that do not name a partner of the policy


def signed_receipt(
    signer: EnvelopeSigner,
    *,
    partner: str,
    receiver: str,
    envelope_id: str | None,
    finding_id: str | None,
    status: str,
    reason: str | None,
    received_at: str,
) -> dict[str, Any]:
    """A receipt for one message on the partner's topic, signed with the partner's receipt key."""
    return signer.sign(
        {
            "schema": RECEIPT_SCHEMA,
            "partner": partner,
            "receiver": receiver,
            "envelope_id": envelope_id,
            "finding_id": finding_id,
            "status": status,
            "reason": reason,
            "received_at": received_at,
        }
    )


class ReceiptVerifier:
    """The publisher's check of hr.share.receipts.v1: schema, a partner of the policy, that partner's receipt key, signature."""

    def __init__(self, public_keys: Mapping[str, Mapping[str, Ed25519PublicKey]]) -> None:
        self.public_keys = {p: dict(k) for p, k in public_keys.items()}

    @classmethod
    def for_partners(cls, keys: KeyRing, partners: Mapping[str, Any] | list[str]) -> ReceiptVerifier:
        """Every partner's receipt keys; a partner without one is logged, and its receipts are then rejected (unknown_key)."""
        found: dict[str, dict[str, Ed25519PublicKey]] = {}
        for partner in partners:
            try:
                found[partner] = keys.public_keys(partner, receipts=True)
            except KeyFileError as exc:
                log.warning(
                    "share publisher: receipts from %s cannot be verified and will be rejected: %s", partner, exc
                )
                found[partner] = {}
        return cls(found)

    def missing(self) -> list[str]:
        """Partners whose receipts cannot be verified (no receipt key)."""
        return sorted(p for p, k in self.public_keys.items() if not k)

    def verify(self, raw: bytes | None) -> dict[str, Any]:
        """The verified receipt, or EnvelopeRejected (malformed, schema, unknown_partner, unknown_key, bad_signature)."""
        claimed = parse_signed(raw, (RECEIPT_SCHEMA,))
        partner = claimed["partner"]
        if partner not in self.public_keys:
            raise EnvelopeRejected("unknown_partner", f"receipt from {partner!r}, not a partner of the policy")
        return check_signed(raw, (RECEIPT_SCHEMA,), self.public_keys[partner], partner)


def claimed_partner(raw: bytes | None, partners: Mapping[str, Any]) -> str:
    """The partner a rejected receipt claims to come from (unverified), if it is one of the policy; else `unknown`.

    Only a metric label and a log line: bounded to the policy's partners so junk cannot create series.
    """
    try:
        obj = json.loads(raw or b"")
    except (ValueError, UnicodeDecodeError):
        return UNKNOWN_PARTNER
    partner = obj.get("partner") if isinstance(obj, dict) else None
    return partner if isinstance(partner, str) and partner in partners else UNKNOWN_PARTNER
