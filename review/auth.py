"""Reviewer accounts: argon2id password hashes, roles, and CSRF tokens for the web app."""

from __future__ import annotations

import hmac
import re
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from review.lifecycle import ROLES

# argon2id with OWASP's minimum (19 MiB, 2 passes, 1 lane): about 40 ms per check on this 2-core
# machine; the library default (64 MiB, 4 lanes) takes ten times as long and would make logins a DoS lever.
_HASHER = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
# Verified when the user is unknown, so a wrong username costs as long as a wrong password.
_DUMMY_HASH = _HASHER.hash("hrwatch-no-such-user")

USERNAME = re.compile(r"^[A-Za-z0-9_.\-]{2,64}$")
MIN_PASSWORD = 10


class AccountError(ValueError):
    """A username, role or password that cannot be used; the message says why."""


def hash_password(password: str) -> str:
    """The argon2id hash of a password (salted; parameters stored in the hash)."""
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"password must have at least {MIN_PASSWORD} characters")
    if len(password) > 1024:
        raise AccountError("password is too long")
    return _HASHER.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether `password` matches the hash; an unknown user (None) takes as long and fails."""
    try:
        return _HASHER.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _HASHER.check_needs_rehash(password_hash)


def check_account(username: str, role: str) -> None:
    """Raise AccountError unless the username is well-formed and the role is one of ROLES."""
    if not USERNAME.match(username):
        raise AccountError("username: 2–64 letters, digits, '_', '.', '-'")
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}")


def new_csrf_token() -> str:
    return secrets.token_urlsafe(32)


def csrf_matches(expected: str | None, given: str | None) -> bool:
    """Constant-time comparison of the session's CSRF token with the one a request carries."""
    if not expected or not given:
        return False
    return hmac.compare_digest(expected.encode(), given.encode())


def new_password() -> str:
    """A random password for generated accounts (the demo login)."""
    return secrets.token_urlsafe(12)
