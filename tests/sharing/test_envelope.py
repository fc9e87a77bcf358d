"""Envelopes: schema, Ed25519 signatures, rejection of tampered, forged, foreign and malformed ones; keys from files and settings."""

from __future__ import annotations

import base64
import copy
import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from cryptography.hazmat.primitives import serialization

from hrwatch.settings import load_settings
from sharing.envelope import (
    EnvelopeRejected,
    KeyRing,
    canonical_bytes,
    envelope_id,
    envelope_schema,
    unsigned_envelope,
)
from sharing.keygen import KeyFileError, generate, key_id
from sharing.wiring import key_ring

FID = "ab" * 32
REPO = Path(__file__).resolve().parents[2]


def _unsigned(partner: str = "police", **changes: Any) -> dict[str, Any]:
    body = unsigned_envelope(
        finding_id=FID,
        partner=partner,
        issuer="hrwatch",
        issued_at="2026-11-23T02:00:00+00:00",
        classification="内部",
        review=None,
        policy={
            "version": "v",
            "digest": "c" * 64,
            "route": f"{partner}.x",
            "trigger": "immediate",
            "legal_basis": ["刑事诉讼法 第一百一十条"],
        },
        minimisation={
            "fields": ["finding.id", "finding.score"],
            "masked": [],
            "unmasked": [],
            "unmask_legal_basis": [],
            "absent": [],
        },
        payload={
            "finding": {"id": FID, "score": 0.92, "rule": "fake_recruitment.task_scam"},
            "record": {"contact": {"phone": "13812345678"}},
        },
    )
    body.update(changes)
    return body


def _raw(envelope: dict[str, Any]) -> bytes:
    return json.dumps(envelope, ensure_ascii=False).encode()


def test_a_signed_envelope_is_valid_and_verifies(keys: KeyRing) -> None:
    env = keys.signer("police").sign(_unsigned())
    jsonschema.Draft202012Validator(envelope_schema()).validate(env)
    assert env["envelope_id"] == envelope_id(FID, "police")
    got = keys.verifier("police").verify(_raw(env), FID.encode())
    assert got == env


def test_the_signature_covers_the_content_not_its_layout(keys: KeyRing) -> None:
    env = keys.signer("police").sign(_unsigned())
    reordered = dict(reversed(list(env.items())))
    pretty = json.dumps(reordered, indent=2).encode()  # \\u-escaped, other key order, whitespace
    assert keys.verifier("police").verify(pretty)["finding_id"] == FID
    assert canonical_bytes(env) == canonical_bytes(reordered)


@pytest.mark.parametrize(
    ("tamper", "reason"),
    [
        (lambda e: e["payload"]["record"]["contact"].update(phone="13900000000"), "bad_signature"),
        (lambda e: e["payload"]["finding"].update(score=0.93), "bad_signature"),
        (lambda e: e["policy"]["legal_basis"].append("无"), "bad_signature"),
        (lambda e: e.update(classification="公开"), "bad_signature"),
        (lambda e: e.update(issued_at="2026-11-24T02:00:00+00:00"), "bad_signature"),
        (lambda e: e.update(signature="A" * 86), "bad_signature"),
        (lambda e: e.update(partner="market"), "foreign_partner"),
        (lambda e: e["signer"].update(key_id="0" * 16), "unknown_key"),
        (lambda e: e.pop("signature"), "schema"),
        (lambda e: e.update(extra="x"), "schema"),
        (lambda e: e.update(schema="hr.share.envelope.v2"), "schema"),
        (lambda e: e.update(envelope_id="f" * 32), "bad_signature"),
    ],
)
def test_tampered_envelopes_are_rejected_with_a_reason(keys: KeyRing, tamper: Any, reason: str) -> None:
    env = copy.deepcopy(keys.signer("police").sign(_unsigned()))
    tamper(env)
    with pytest.raises(EnvelopeRejected) as err:
        keys.verifier("police").verify(_raw(env))
    assert err.value.reason == reason


def test_foreign_and_forged_envelopes_are_rejected(keys: KeyRing) -> None:
    police = keys.verifier("police")
    for_market = keys.signer("market").sign(_unsigned("market"))
    with pytest.raises(EnvelopeRejected, match="foreign_partner"):
        police.verify(_raw(for_market))
    # Addressed to police, but signed with market's key (or an intruder's): not a key police trusts.
    for signer in ("market", "intruder"):
        forged = keys.signer(signer).sign(_unsigned("police"))
        with pytest.raises(EnvelopeRejected) as err:
            police.verify(_raw(forged))
        assert err.value.reason == "unknown_key"


@pytest.mark.parametrize("raw", [b"", b"not json", b"[1, 2]", b"\xff\xfe", b'{"schema": "hr.share.envelope.v1"}'])
def test_malformed_messages_are_rejected_not_raised(keys: KeyRing, raw: bytes) -> None:
    with pytest.raises(EnvelopeRejected) as err:
        keys.verifier("police").verify(raw)
    assert err.value.reason in ("malformed", "schema")


def test_the_message_key_must_be_the_finding_id(keys: KeyRing) -> None:
    env = keys.signer("police").sign(_unsigned())
    with pytest.raises(EnvelopeRejected, match="key_mismatch"):
        keys.verifier("police").verify(_raw(env), b"other")


def test_keys_can_come_from_settings_instead_of_files(
    key_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    private = serialization.load_pem_private_key((key_dir / "tax.key").read_bytes(), password=None)
    raw_private = private.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    monkeypatch.setenv("HRWATCH_SHARE_SIGNING_KEYS__TAX", base64.b64encode(raw_private).decode())
    monkeypatch.setenv("HRWATCH_SHARE_VERIFY_KEYS__TAX", (key_dir / "tax.pub").read_text())
    monkeypatch.setenv("HRWATCH_SHARE_KEY_DIR", str(tmp_path))  # empty: the settings values must be used
    ring = key_ring(load_settings())
    env = ring.signer("tax").sign(_unsigned("tax"))
    assert env["signer"]["key_id"] == key_id(private.public_key())
    assert ring.verifier("tax").verify(_raw(env))["partner"] == "tax"
    with pytest.raises(KeyFileError, match="HRWATCH_SHARE_SIGNING_KEYS__POLICE"):
        ring.signer("police")


def test_missing_and_wrong_keys_say_what_to_provide(tmp_path: Path, key_dir: Path) -> None:
    ring = KeyRing(tmp_path)
    with pytest.raises(KeyFileError) as err:
        ring.signer("police")
    assert "police.key" in str(err.value) and "hrwatch share keygen police" in str(err.value)
    with pytest.raises(KeyFileError, match=r"police\.pub"):
        ring.verifier("police")
    (tmp_path / "police.key").write_text("garbage")
    with pytest.raises(KeyFileError, match="not a readable Ed25519 private key"):
        ring.signer("police")
    with pytest.raises(KeyFileError, match="VERIFY_KEYS__MARKET"):
        KeyRing(verifying={"market": "not base64!"}).verifier("market")


def test_a_rotated_key_is_trusted_beside_the_current_one(tmp_path: Path) -> None:
    _priv, _pub, old_id = generate("police", tmp_path)
    old_signer = KeyRing(tmp_path).signer("police")
    os.replace(tmp_path / "police.pub", tmp_path / "police.2025.pub")
    _priv, _pub, new_id = generate("police", tmp_path, force=True)
    verifier = KeyRing(tmp_path).verifier("police")
    assert set(verifier.public_keys) == {old_id, new_id}
    verifier.verify(_raw(old_signer.sign(_unsigned())))


def test_keygen_writes_a_private_key_only_its_owner_can_read(tmp_path: Path) -> None:
    private_path, public_path, kid = generate("market", tmp_path / "k")
    assert stat.S_IMODE(private_path.stat().st_mode) == 0o600
    assert public_path.read_text().startswith("-----BEGIN PUBLIC KEY-----")
    assert len(kid) == 16
    with pytest.raises(FileExistsError):
        generate("market", tmp_path / "k")
    with pytest.raises(ValueError, match="partner name"):
        generate("Market!", tmp_path / "k")


def test_keygen_runs_without_hrwatch(tmp_path: Path) -> None:
    """The helper is a plain script: run from its file, with only the standard library and cryptography."""
    probe = """
import runpy, sys
script, target = sys.argv[1], sys.argv[2]
sys.argv = [script, "police", "--dir", target]
try:
    runpy.run_path(script, run_name="__main__")
except SystemExit as stop:
    code = stop.code
ours = sorted(m for m in sys.modules if m.split(".")[0] in {"hrwatch", "detectors", "review", "streams", "sharing"})
print("IMPORTED", ours)
sys.exit(code)
"""
    script = REPO / "sharing" / "keygen.py"
    result = subprocess.run(
        [sys.executable, "-c", probe, str(script), str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "IMPORTED []" in result.stdout
    assert (tmp_path / "police.key").exists() and (tmp_path / "police.pub").exists()
    assert "key id:" in result.stdout
