"""Ed25519 key pairs for share envelopes: generation, files and key ids (stdlib + cryptography only, no hrwatch).

Run it where hrwatch is not installed too (a partner's machine, a key ceremony):

    python sharing/keygen.py police --dir keys        # keys/police.key (private, 0600) + keys/police.pub
    python sharing/keygen.py police --receipts --dir partner-keys   # at the partner: police-receipts.key + .pub

The private key stays with the sender (hrwatch signs every envelope for `police` with it); the
public key goes to the partner, whose subscriber verifies with it. One pair per partner channel:
an envelope signed for one partner never verifies for another.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import os
import re
import sys
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

PARTNER_NAME = re.compile(r"^[a-z][a-z0-9_]{0,31}$")


class KeyFileError(ValueError):
    """A key that is missing, unreadable or not an Ed25519 key; the message says which and where."""


def key_id(public_key: Ed25519PublicKey) -> str:
    """The first 16 hex digits of the sha256 of the raw public key: names the key in every envelope."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def receipt_key_name(partner: str) -> str:
    """The base name of a partner's own receipt-signing key pair (`-` never occurs in a partner name)."""
    return f"{partner}-receipts"


def private_key_path(directory: Path, partner: str) -> Path:
    return Path(directory) / f"{partner}.key"


def public_key_path(directory: Path, partner: str) -> Path:
    return Path(directory) / f"{partner}.pub"


def generate(partner: str, directory: Path, *, force: bool = False, receipts: bool = False) -> tuple[Path, Path, str]:
    """Write `<partner>.key` (PKCS#8 PEM, mode 0600) and `<partner>.pub` (SubjectPublicKeyInfo PEM); returns both and the key id.

    `receipts`: the partner's own pair for signing its receipts, `<partner>-receipts.key` (stays with
    the partner) and `<partner>-receipts.pub` (goes to hrwatch).
    """
    if not PARTNER_NAME.match(partner):
        raise ValueError(f"partner name {partner!r} must be lower-case letters, digits and _ (at most 32)")
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    name = receipt_key_name(partner) if receipts else partner
    private_path, public_path = private_key_path(directory, name), public_key_path(directory, name)
    if not force and (private_path.exists() or public_path.exists()):
        raise FileExistsError(f"{private_path} or {public_path} exists; pass --force to replace the key pair")
    key = Ed25519PrivateKey.generate()
    private_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    # Create the private file 0600 from the start: never world-readable, not even for a moment.
    fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(private_pem)
    os.chmod(private_path, 0o600)
    public_path.write_bytes(public_pem)
    return private_path, public_path, key_id(key.public_key())


def parse_private_key(text: str | bytes, where: str) -> Ed25519PrivateKey:
    """An Ed25519 private key from PEM, or from base64 of its 32 raw bytes (handy in an environment variable)."""
    data = text.encode() if isinstance(text, str) else text
    try:
        if b"-----BEGIN" in data:
            key = serialization.load_pem_private_key(data, password=None)
        else:
            key = Ed25519PrivateKey.from_private_bytes(base64.b64decode(data.strip(), validate=True))
    except Exception as exc:
        raise KeyFileError(f"{where}: not a readable Ed25519 private key ({type(exc).__name__}: {exc})") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyFileError(f"{where}: a {type(key).__name__}, not an Ed25519 private key")
    return key


def parse_public_key(text: str | bytes, where: str) -> Ed25519PublicKey:
    """An Ed25519 public key from PEM, or from base64 of its 32 raw bytes."""
    data = text.encode() if isinstance(text, str) else text
    try:
        if b"-----BEGIN" in data:
            key = serialization.load_pem_public_key(data)
        else:
            key = Ed25519PublicKey.from_public_bytes(base64.b64decode(data.strip(), validate=True))
    except Exception as exc:
        raise KeyFileError(f"{where}: not a readable Ed25519 public key ({type(exc).__name__}: {exc})") from None
    if not isinstance(key, Ed25519PublicKey):
        raise KeyFileError(f"{where}: a {type(key).__name__}, not an Ed25519 public key")
    return key


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Generate an Ed25519 key pair for one partner's share envelopes.")
    parser.add_argument("partner", help="partner name as in the sharing policy (police, market, tax, …)")
    parser.add_argument("--dir", default="keys", help="directory for <partner>.key and <partner>.pub (default keys/)")
    parser.add_argument("--force", action="store_true", help="replace an existing key pair")
    parser.add_argument(
        "--receipts",
        action="store_true",
        help="the partner's own pair for signing receipts: run it at the partner, give <partner>-receipts.pub to hrwatch",
    )
    args = parser.parse_args(argv)
    try:
        private_path, public_path, kid = generate(
            args.partner, Path(args.dir), force=args.force, receipts=args.receipts
        )
    except (ValueError, FileExistsError) as exc:
        print(f"keygen: {exc}", file=sys.stderr)
        return 2
    if args.receipts:
        print(f"private key (keep at {args.partner}, signs its receipts): {private_path}")
        print(f"public key (give to hrwatch): {public_path}")
    else:
        print(f"private key (keep with the sender): {private_path}")
        print(f"public key (give to {args.partner}): {public_path}")
    print(f"key id: {kid}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
