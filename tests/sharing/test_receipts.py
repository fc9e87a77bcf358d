"""Signed receipts: the partner signs with its own receipt key, the publisher notes only receipts that verify; the rest
are rejected, logged and counted, and never stop it (SQLite and PostgreSQL)."""

from __future__ import annotations

import copy
import logging
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest

from review.store import FindingStore
from sharing.audit import entries
from sharing.envelope import EnvelopeRejected, KeyRing
from sharing.keygen import KeyFileError, generate
from sharing.policy import SharingPolicy
from sharing.receipts import ReceiptVerifier
from tests.sharing.conftest import (
    PARTNERS,
    OfflinePublisher,
    finding,
    make_offline,
    posting,
    receipt_for,
    store_subjects,
)

Build = Callable[..., OfflinePublisher]


def _shared(store: FindingStore, pub: OfflinePublisher) -> dict[str, Any]:
    store_subjects(store.engine, [posting("p-scam")])
    scam = finding("fake_recruitment.task_scam", "p-scam", severity="critical")
    pub.findings(scam)
    return pub.shared("police")[scam["id"]]


def _receipt_status(store: FindingStore) -> list[str]:
    return [e.receipt_status for e in entries(store.engine)]


def test_receipts_that_do_not_verify_are_rejected_logged_counted_and_change_nothing(
    store: FindingStore, offline: Build, keys: KeyRing, caplog: pytest.LogCaptureFixture
) -> None:
    pub = offline()
    env = _shared(store, pub)
    genuine = receipt_for(keys, env, "accepted")
    unsigned = {k: v for k, v in genuine.items() if k not in ("signer", "signature")}  # the pilot's format
    tampered = copy.deepcopy(receipt_for(keys, env, "rejected", reason="bad_signature")) | {"status": "accepted"}
    by_intruder = keys.signer("intruder", receipts=True).sign(
        {k: v for k, v in genuine.items() if k not in ("signer", "signature")}
    )
    by_envelope_key = keys.signer("police").sign({k: v for k, v in genuine.items() if k not in ("signer", "signature")})
    from_stranger = receipt_for(keys, env, "accepted", "intruder")
    envelope_replayed = env  # a signed envelope is not a receipt
    with caplog.at_level(logging.WARNING, "sharing.publisher"):
        pub.receipts(unsigned, tampered, by_intruder, by_envelope_key, from_stranger, envelope_replayed)
        pub.raw("receipts", b"\xff\xfe not json")
    assert _receipt_status(store) == [""]
    m = pub.publisher.metrics
    expected = {
        ("police", "schema"): 2,  # unsigned (signer and signature are required); the envelope (another schema)
        ("police", "bad_signature"): 1,
        ("police", "unknown_key"): 2,  # the intruder's key; hrwatch's own envelope key for police
        ("unknown", "unknown_partner"): 1,
    }
    for (partner, reason), n in expected.items():
        assert m.value("hrwatch_share_receipts_rejected_total", partner=partner, reason=reason) == n, (partner, reason)
    assert m.value("hrwatch_share_invalid_input_total", topic="hr.share.receipts.v1") == 1  # not JSON at all
    assert sum(1 for r in caplog.records if "receipt" in r.getMessage() and "rejected" in r.getMessage()) == 6
    assert m.value("hrwatch_share_receipted_total", partner="police", status="accepted") == 0

    pub.receipts(genuine)  # the genuine one still counts
    assert _receipt_status(store) == ["accepted"]
    assert m.value("hrwatch_share_receipted_total", partner="police", status="accepted") == 1


def test_a_partner_without_a_receipt_key_does_not_stop_sharing_its_receipts_are_rejected(
    store: FindingStore,
    key_dir: Path,
    policy: SharingPolicy,
    tmp_path: Path,
    keys: KeyRing,
    caplog: pytest.LogCaptureFixture,
) -> None:
    partial = tmp_path / "keys"
    partial.mkdir()
    for p in PARTNERS:
        shutil.copy(key_dir / f"{p}.key", partial)
        if p != "police":
            shutil.copy(key_dir / f"{p}-receipts.pub", partial)
    with caplog.at_level(logging.WARNING, "sharing.receipts"):
        pub = make_offline(store, KeyRing(partial), policy)
    assert pub.publisher.receipt_verifier.missing() == ["police"]
    assert any("police-receipts.pub" in r.getMessage() for r in caplog.records)
    env = _shared(store, pub)
    pub.receipts(receipt_for(keys, env, "accepted"))
    assert _receipt_status(store) == [""]
    assert (
        pub.publisher.metrics.value("hrwatch_share_receipts_rejected_total", partner="police", reason="unknown_key")
        == 1
    )


def test_receipt_keys_are_their_own_pair_and_never_trusted_for_envelopes(tmp_path: Path, keys: KeyRing) -> None:
    private_path, public_path, kid = generate("police", tmp_path, receipts=True)
    assert (private_path.name, public_path.name) == ("police-receipts.key", "police-receipts.pub")
    generate("police", tmp_path)  # the envelope pair beside it
    ring = KeyRing(tmp_path)
    assert list(ring.public_keys("police", receipts=True)) == [kid]
    assert kid not in ring.public_keys("police")  # police.*.pub (rotation) does not pick up police-receipts.pub
    with pytest.raises(KeyFileError, match=r"hrwatch share keygen tax --receipts"):
        ring.signer("tax", receipts=True)
    verifier = ReceiptVerifier.for_partners(keys, list(PARTNERS))
    receipt = receipt_for(keys, {"envelope_id": "a" * 32, "finding_id": "b" * 64}, "accepted")
    assert verifier.verify(orjson.dumps(receipt))["partner"] == "police"
    with pytest.raises(EnvelopeRejected) as err:
        verifier.verify(orjson.dumps(receipt | {"partner": "market"}))  # signed by police, claiming market
    assert err.value.reason == "unknown_key"


def test_keygen_script_makes_a_receipt_pair_at_the_partner(tmp_path: Path) -> None:
    from sharing.keygen import main

    assert main(["tax", "--receipts", "--dir", str(tmp_path)]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tax-receipts.key", "tax-receipts.pub"]
    assert (tmp_path / "tax-receipts.key").stat().st_mode & 0o077 == 0
