"""Share envelopes (sharing/envelope.v1.json): building, canonical form, Ed25519 signing and verification, key rings.

The signature covers the canonical form of every member but `signature`: JSON with keys sorted, no
whitespace, UTF-8 (not \\u-escaped), prefixed with the schema name as a domain separator. A verifier
re-serialises the parsed envelope the same way, so whatever it stores is exactly what was signed.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from sharing.keygen import KeyFileError, key_id, parse_private_key, parse_public_key, private_key_path, public_key_path

SCHEMA = "hr.share.envelope.v1"
_DOMAIN = SCHEMA.encode() + b"\n"


@cache
def envelope_schema() -> dict[str, Any]:
    """The parsed JSON Schema sharing/envelope.v1.json."""
    return json.loads(Path(__file__).with_name("envelope.v1.json").read_text("utf-8"))


@cache
def _validator() -> Any:
    import jsonschema

    return jsonschema.Draft202012Validator(envelope_schema(), format_checker=jsonschema.FormatChecker())


def canonical_bytes(envelope: Mapping[str, Any]) -> bytes:
    """The bytes the signature covers: every member except `signature`, canonical JSON, with the domain prefix."""
    body = {k: v for k, v in envelope.items() if k != "signature"}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return _DOMAIN + text.encode("utf-8")


def envelope_id(finding_id: str, partner: str) -> str:
    """Deterministic: a finding is shared to a partner once, so (finding, partner) names the envelope."""
    return hashlib.sha256(f"{SCHEMA}|{partner}|{finding_id}".encode()).hexdigest()[:32]


def unsigned_envelope(
    *,
    finding_id: str,
    partner: str,
    issuer: str,
    issued_at: str,
    classification: str,
    policy: Mapping[str, Any],
    review: Mapping[str, Any] | None,
    minimisation: Mapping[str, Any],
    payload: Mapping[str, Any],
) -> dict[str, Any]:
    """Every member of an envelope except the signer and signature, in schema order."""
    return {
        "schema": SCHEMA,
        "envelope_id": envelope_id(finding_id, partner),
        "finding_id": finding_id,
        "partner": partner,
        "issuer": issuer,
        "issued_at": issued_at,
        "classification": classification,
        "policy": dict(policy),
        "review": dict(review) if review is not None else None,
        "minimisation": dict(minimisation),
        "payload": dict(payload),
    }


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class EnvelopeSigner:
    """Signs one partner's envelopes with that partner channel's private key."""

    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        self._key = private_key
        self.key_id = key_id(private_key.public_key())

    def sign(self, unsigned: Mapping[str, Any]) -> dict[str, Any]:
        """The envelope with `signer` and `signature` set."""
        envelope = dict(unsigned)
        envelope["signer"] = {"alg": "Ed25519", "key_id": self.key_id}
        envelope["signature"] = _b64(self._key.sign(canonical_bytes(envelope)))
        return envelope


class EnvelopeRejected(Exception):
    """An envelope that must not be accepted; `reason` is a short label (metrics), `detail` says why."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


class EnvelopeVerifier:
    """A partner's check of what arrives on its topic: schema, addressed to it, a trusted key, a valid signature."""

    def __init__(self, partner: str, public_keys: Mapping[str, Ed25519PublicKey]) -> None:
        self.partner = partner
        self.public_keys = dict(public_keys)

    def verify(self, raw: bytes | None, message_key: bytes | None = None) -> dict[str, Any]:
        """The verified envelope, or EnvelopeRejected (malformed, schema, foreign_partner, unknown_key, bad_signature, key_mismatch)."""
        if not raw:
            raise EnvelopeRejected("malformed", "empty message")
        try:
            envelope = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            raise EnvelopeRejected("malformed", f"not JSON: {exc}") from None
        if not isinstance(envelope, dict):
            raise EnvelopeRejected("malformed", f"a JSON {type(envelope).__name__}, not an object")
        if envelope.get("schema") != SCHEMA:
            raise EnvelopeRejected("schema", f"schema {envelope.get('schema')!r}, expected {SCHEMA!r}")
        errors = sorted(_validator().iter_errors(envelope), key=lambda e: list(e.absolute_path))
        if errors:
            first = errors[0]
            where = "/".join(str(p) for p in first.absolute_path) or "(top)"
            raise EnvelopeRejected("schema", f"{where}: {first.message}")
        if envelope["partner"] != self.partner:
            raise EnvelopeRejected("foreign_partner", f"addressed to {envelope['partner']!r}, this is {self.partner!r}")
        kid = envelope["signer"]["key_id"]
        public_key = self.public_keys.get(kid)
        if public_key is None:
            raise EnvelopeRejected("unknown_key", f"signed with key {kid}, not a key trusted for {self.partner!r}")
        try:
            public_key.verify(_unb64(envelope["signature"]), canonical_bytes(envelope))
        except (InvalidSignature, ValueError):
            raise EnvelopeRejected(
                "bad_signature", "the signature does not match the content (tampered or forged)"
            ) from None
        if envelope["envelope_id"] != envelope_id(envelope["finding_id"], envelope["partner"]):
            raise EnvelopeRejected("schema", "envelope_id does not belong to this finding and partner")
        if message_key is not None and message_key != envelope["finding_id"].encode():
            raise EnvelopeRejected("key_mismatch", "the message key is not the envelope's finding id")
        return envelope


@dataclass(frozen=True)
class KeyRing:
    """Where keys come from: values given inline (settings/env: PEM or base64 of raw bytes) first, then files in `directory`.

    `<partner>.key` holds the private key the sender signs that partner's envelopes with;
    `<partner>.pub` the public key the partner verifies them with.
    """

    directory: Path | None = None
    signing: Mapping[str, str] = field(default_factory=dict)
    verifying: Mapping[str, str] = field(default_factory=dict)
    env_prefix: str = "HRWATCH_SHARE_"  # only for messages: where a missing key could be set

    def signer(self, partner: str) -> EnvelopeSigner:
        """The signer for a partner channel; KeyFileError names the setting and the file to provide."""
        if partner in self.signing:
            where = f"{self.env_prefix}SIGNING_KEYS__{partner.upper()}"
            return EnvelopeSigner(parse_private_key(self.signing[partner], where))
        path = private_key_path(self.directory, partner) if self.directory else None
        if path is None or not path.exists():
            raise KeyFileError(
                f"no signing key for partner {partner!r}: set {self.env_prefix}SIGNING_KEYS__{partner.upper()} or "
                f"create {path or '<HRWATCH_SHARE_KEY_DIR>/' + partner + '.key'} (hrwatch share keygen {partner})"
            )
        return EnvelopeSigner(parse_private_key(_read(path), str(path)))

    def public_keys(self, partner: str) -> dict[str, Ed25519PublicKey]:
        """The keys trusted for a partner's envelopes, by key id: the inline one, or `<partner>.pub` and `<partner>.*.pub` (rotation)."""
        if partner in self.verifying:
            key = parse_public_key(self.verifying[partner], f"{self.env_prefix}VERIFY_KEYS__{partner.upper()}")
            return {key_id(key): key}
        paths: list[Path] = []
        if self.directory is not None:
            main = public_key_path(self.directory, partner)
            paths = ([main] if main.exists() else []) + sorted(Path(self.directory).glob(f"{partner}.*.pub"))
        if not paths:
            raise KeyFileError(
                f"no public key for partner {partner!r}: set {self.env_prefix}VERIFY_KEYS__{partner.upper()} or put "
                f"{partner}.pub into {self.directory or '<HRWATCH_SHARE_KEY_DIR>'}"
            )
        keys = [parse_public_key(_read(p), str(p)) for p in paths]
        return {key_id(k): k for k in keys}

    def verifier(self, partner: str) -> EnvelopeVerifier:
        return EnvelopeVerifier(partner, self.public_keys(partner))


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise KeyFileError(f"{path}: cannot read the key ({exc.strerror})") from None
