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

from sharing.keygen import (
    KeyFileError,
    key_id,
    parse_private_key,
    parse_public_key,
    private_key_path,
    public_key_path,
    receipt_key_name,
)

SCHEMA = "hr.share.envelope.v1"
RETRACTION_SCHEMA = "hr.share.retraction.v1"
RECEIPT_SCHEMA = "hr.share.receipt.v1"
_DOMAIN = SCHEMA.encode() + b"\n"
# The JSON Schema file of each signed message kind (all in sharing/).
SCHEMA_FILES = {
    SCHEMA: "envelope.v1.json",
    RETRACTION_SCHEMA: "retraction.v1.json",
    RECEIPT_SCHEMA: "receipt.v1.json",
}


@cache
def envelope_schema(name: str = SCHEMA) -> dict[str, Any]:
    """The parsed JSON Schema of a signed message kind (default sharing/envelope.v1.json)."""
    return json.loads(Path(__file__).with_name(SCHEMA_FILES[name]).read_text("utf-8"))


@cache
def _validator(name: str = SCHEMA) -> Any:
    import jsonschema

    return jsonschema.Draft202012Validator(envelope_schema(name), format_checker=jsonschema.FormatChecker())


def canonical_bytes(envelope: Mapping[str, Any], domain: bytes = _DOMAIN) -> bytes:
    """The bytes the signature covers: every member except `signature`, canonical JSON, with the domain prefix.

    The domain is the message's schema name: an envelope's signature never verifies as a
    retraction's or a receipt's, even where the same key signs both.
    """
    body = {k: v for k, v in envelope.items() if k != "signature"}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return domain + text.encode("utf-8")


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


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class EnvelopeSigner:
    """Signs one partner's envelopes with that partner channel's private key."""

    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        self._key = private_key
        self.key_id = key_id(private_key.public_key())

    def sign(self, unsigned: Mapping[str, Any]) -> dict[str, Any]:
        """The envelope (or retraction, or receipt: its `schema` is the signature's domain) with `signer` and `signature` set."""
        envelope = dict(unsigned)
        envelope["signer"] = {"alg": "Ed25519", "key_id": self.key_id}
        domain = str(envelope.get("schema", SCHEMA)).encode() + b"\n"
        envelope["signature"] = b64(self._key.sign(canonical_bytes(envelope, domain)))
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
        """The verified envelope or retraction notice (its `schema` says which), or EnvelopeRejected
        (malformed, schema, foreign_partner, unknown_key, bad_signature, key_mismatch)."""
        envelope = check_signed(raw, (SCHEMA, RETRACTION_SCHEMA), self.public_keys, self.partner)
        if envelope["schema"] == SCHEMA and envelope["envelope_id"] != envelope_id(
            envelope["finding_id"], envelope["partner"]
        ):
            raise EnvelopeRejected("schema", "envelope_id does not belong to this finding and partner")
        if message_key is not None and message_key != envelope["finding_id"].encode():
            raise EnvelopeRejected("key_mismatch", "the message key is not the envelope's finding id")
        return envelope


def parse_signed(raw: bytes | None, schemas: tuple[str, ...]) -> dict[str, Any]:
    """A message parsed and checked against its JSON Schema (one of `schemas`), signature not yet checked."""
    if not raw:
        raise EnvelopeRejected("malformed", "empty message")
    try:
        message = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise EnvelopeRejected("malformed", f"not JSON: {exc}") from None
    if not isinstance(message, dict):
        raise EnvelopeRejected("malformed", f"a JSON {type(message).__name__}, not an object")
    if message.get("schema") not in schemas:
        expected = " or ".join(repr(s) for s in schemas)
        raise EnvelopeRejected("schema", f"schema {message.get('schema')!r}, expected {expected}")
    errors = sorted(_validator(message["schema"]).iter_errors(message), key=lambda e: list(e.absolute_path))
    if errors:
        first = errors[0]
        where = "/".join(str(p) for p in first.absolute_path) or "(top)"
        raise EnvelopeRejected("schema", f"{where}: {first.message}")
    return message


def check_signed(
    raw: bytes | None, schemas: tuple[str, ...], public_keys: Mapping[str, Ed25519PublicKey], partner: str
) -> dict[str, Any]:
    """Parse, validate, check the message names `partner` and carries a valid signature by one of `public_keys`."""
    message = parse_signed(raw, schemas)
    if message["partner"] != partner:
        raise EnvelopeRejected("foreign_partner", f"addressed to {message['partner']!r}, this is {partner!r}")
    kid = message["signer"]["key_id"]
    public_key = public_keys.get(kid)
    if public_key is None:
        raise EnvelopeRejected("unknown_key", f"signed with key {kid}, not a key trusted for {partner!r}")
    domain = message["schema"].encode() + b"\n"
    try:
        public_key.verify(unb64(message["signature"]), canonical_bytes(message, domain))
    except (InvalidSignature, ValueError):
        raise EnvelopeRejected(
            "bad_signature", "the signature does not match the content (tampered or forged)"
        ) from None
    return message


@dataclass(frozen=True)
class KeyRing:
    """Where keys come from: values given inline (settings/env: PEM or base64 of raw bytes) first, then files in `directory`.

    Two key pairs per partner, one per direction:
    - `<partner>.key` signs what hrwatch sends the partner (envelopes, retractions); the partner verifies
      with `<partner>.pub` (and `<partner>.*.pub`, rotation).
    - `<partner>-receipts.key` is the partner's own: its subscriber signs receipts with it; hrwatch verifies
      them with `<partner>-receipts.pub` (and `<partner>-receipts.*.pub`). `-` is not allowed in partner
      names, so neither pair's files can be mistaken for the other's.
    """

    directory: Path | None = None
    signing: Mapping[str, str] = field(default_factory=dict)
    verifying: Mapping[str, str] = field(default_factory=dict)
    env_prefix: str = "HRWATCH_SHARE_"  # only for messages: where a missing key could be set
    receipt_signing: Mapping[str, str] = field(default_factory=dict)
    receipt_verifying: Mapping[str, str] = field(default_factory=dict)

    def signer(self, partner: str, *, receipts: bool = False) -> EnvelopeSigner:
        """The signer for a partner channel (or, `receipts`, the partner's receipt key); KeyFileError names what to provide."""
        inline, setting, name = self._where(partner, receipts, signing=True)
        if partner in inline:
            return EnvelopeSigner(parse_private_key(inline[partner], setting))
        path = private_key_path(self.directory, name) if self.directory else None
        if path is None or not path.exists():
            command = f"hrwatch share keygen {partner}" + (" --receipts" if receipts else "")
            raise KeyFileError(
                f"no {'receipt ' if receipts else ''}signing key for partner {partner!r}: set {setting} or "
                f"create {path or '<HRWATCH_SHARE_KEY_DIR>/' + name + '.key'} ({command})"
            )
        return EnvelopeSigner(parse_private_key(_read(path), str(path)))

    def public_keys(self, partner: str, *, receipts: bool = False) -> dict[str, Ed25519PublicKey]:
        """The keys trusted for a partner's envelopes (or, `receipts`, for its receipts), by key id:
        the inline one, or `<name>.pub` and `<name>.*.pub` (rotation)."""
        inline, setting, name = self._where(partner, receipts, signing=False)
        if partner in inline:
            key = parse_public_key(inline[partner], setting)
            return {key_id(key): key}
        paths: list[Path] = []
        if self.directory is not None:
            main = public_key_path(self.directory, name)
            paths = ([main] if main.exists() else []) + sorted(Path(self.directory).glob(f"{name}.*.pub"))
        if not paths:
            raise KeyFileError(
                f"no {'receipt ' if receipts else ''}public key for partner {partner!r}: set {setting} or put "
                f"{name}.pub into {self.directory or '<HRWATCH_SHARE_KEY_DIR>'}"
            )
        keys = [parse_public_key(_read(p), str(p)) for p in paths]
        return {key_id(k): k for k in keys}

    def verifier(self, partner: str) -> EnvelopeVerifier:
        return EnvelopeVerifier(partner, self.public_keys(partner))

    def _where(self, partner: str, receipts: bool, *, signing: bool) -> tuple[Mapping[str, str], str, str]:
        """(inline values, their setting's name, the key files' base name) for one key of a partner."""
        kind = ("SIGNING" if signing else "VERIFY") + "_KEYS__"
        if receipts:
            inline = self.receipt_signing if signing else self.receipt_verifying
            return inline, f"{self.env_prefix}RECEIPT_{kind}{partner.upper()}", receipt_key_name(partner)
        inline = self.signing if signing else self.verifying
        return inline, f"{self.env_prefix}{kind}{partner.upper()}", partner


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise KeyFileError(f"{path}: cannot read the key ({exc.strerror})") from None
