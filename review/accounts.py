"""Accounts and the audit trail on the queue's database: users with argon2id hashes, logins, reading the trail."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from review.audit import AuditEntry, audit_entry, write_audit
from review.auth import AccountError, check_account, hash_password, verify_password
from review.lifecycle import can
from review.queue_models import AuditRow, UserRow
from review.queue_types import MAX_FILTER_TEXT, Actor, Conflict, Forbidden, Invalid, NotFound, aware_utc, check_text


class Accounts:
    """Users and the audit trail; ReviewQueue inherits this (one database, one session factory)."""

    _sessions: sessionmaker[Session]
    clock: Callable[[], dt.datetime]

    # -- users and audit ---------------------------------------------------------------------------

    def create_user(
        self, username: str, password: str, role: str, *, display_name: str | None = None, actor: Actor | None = None
    ) -> Actor:
        """A new account with an argon2id password hash; only a supervisor (or the system: actor None) creates one."""
        if actor is not None and not can(actor.role, "manage_users"):
            raise Forbidden("forbidden", f"role {actor.role!r} may not manage users")
        try:
            check_account(username, role)
            digest = hash_password(password)
        except AccountError as exc:
            raise Invalid("invalid_account", str(exc)) from None
        display = check_text("display_name", display_name or username, 100, required=True)
        now = self.clock()
        try:
            with self._sessions.begin() as s:
                user = UserRow(
                    username=username,
                    display_name=display,
                    role=role,
                    password_hash=digest,
                    active=True,
                    created_at=now,
                )
                s.add(user)
                s.flush()
                who = actor or Actor(None, "system", "system")
                write_audit(
                    s,
                    now,
                    who.username,
                    actor.role if actor else None,
                    "user_create",
                    "user",
                    username,
                    {"role": role},
                    who.client,
                )
                return Actor(user.id, username, role, display)
        except IntegrityError:
            raise Conflict("user_exists", f"user {username!r} exists") from None

    def ensure_user(self, username: str, password: str, role: str) -> Actor:
        """Create the account, or reset its password, role and active flag (the demo login)."""
        try:
            return self.create_user(username, password, role)
        except Conflict:
            with self._sessions.begin() as s:
                user = s.scalar(select(UserRow).where(UserRow.username == username))
                assert user is not None
                user.password_hash, user.role, user.active = hash_password(password), role, True
                write_audit(
                    s,
                    self.clock(),
                    "system",
                    None,
                    "user_update",
                    "user",
                    username,
                    {"role": role, "password": "reset", "active": True},
                )
                return Actor(user.id, username, role, user.display_name)

    def set_user_active(self, username: str, active: bool, actor: Actor) -> None:
        if not can(actor.role, "manage_users"):
            raise Forbidden("forbidden", f"role {actor.role!r} may not manage users")
        if username == actor.username and not active:
            raise Conflict("self_lockout", "you cannot deactivate your own account")
        with self._sessions.begin() as s:
            user = s.scalar(select(UserRow).where(UserRow.username == username))
            if user is None:
                raise NotFound("user_not_found", f"no user {username!r}")
            user.active = active
            write_audit(
                s,
                self.clock(),
                actor.username,
                actor.role,
                "user_update",
                "user",
                username,
                {"active": active},
                actor.client,
            )

    def authenticate(self, username: str, password: str, client: str | None = None) -> Actor | None:
        """The active user with this password, or None; both outcomes are audited (never the password)."""
        username = username[:64]
        with self._sessions.begin() as s:
            user = s.scalar(select(UserRow).where(UserRow.username == username)) if "\x00" not in username else None
            ok = verify_password(user.password_hash if user else None, password) and user is not None and user.active
            action = "login" if ok else "login_failed"
            write_audit(
                s,
                self.clock(),
                username or "?",
                user.role if ok and user else None,
                action,
                "user",
                username,
                None,
                client,
            )
            return Actor(user.id, user.username, user.role, user.display_name, client) if ok and user else None

    def actor(self, user_id: int) -> Actor | None:
        """The active user with this id (the web session re-reads it on every request)."""
        with self._sessions() as s:
            user = s.get(UserRow, user_id)
            return Actor(user.id, user.username, user.role, user.display_name) if user and user.active else None

    def actor_named(self, username: str) -> Actor | None:
        with self._sessions() as s:
            user = s.scalar(select(UserRow).where(UserRow.username == username))
            return Actor(user.id, user.username, user.role, user.display_name) if user and user.active else None

    def users(self) -> list[dict[str, Any]]:
        with self._sessions() as s:
            return [
                {
                    "username": u.username,
                    "display_name": u.display_name,
                    "role": u.role,
                    "active": u.active,
                    "created_at": aware_utc(u.created_at),
                }
                for u in s.scalars(select(UserRow).order_by(UserRow.username))
            ]

    def audit(
        self,
        actor: Actor,
        *,
        action: str | None = None,
        username: str | None = None,
        object_id: str | None = None,
        limit: int = 200,
        before: int | None = None,
        record: bool = True,
    ) -> list[AuditEntry]:
        """The audit trail, newest first (supervisors and auditors); reading it is itself audited."""
        if not can(actor.role, "read_audit"):
            raise Forbidden("forbidden", f"role {actor.role!r} may not read the audit trail")
        for name, value in (("action", action), ("username", username), ("object_id", object_id)):
            if value is not None:
                check_text(name, value, MAX_FILTER_TEXT)
        q = select(AuditRow).order_by(AuditRow.id.desc()).limit(max(1, min(limit, 1000)))
        if action:
            q = q.where(AuditRow.action == action)
        if username:
            q = q.where(AuditRow.actor == username)
        if object_id:
            q = q.where(AuditRow.object_id == object_id)
        if before is not None:
            q = q.where(AuditRow.id < before)
        with self._sessions.begin() as s:
            rows = [audit_entry(r) for r in s.scalars(q)]
            if record:
                write_audit(
                    s,
                    self.clock(),
                    actor.username,
                    actor.role,
                    "audit_read",
                    None,
                    None,
                    {k: v for k, v in {"action": action, "username": username}.items() if v},
                    actor.client,
                )
            return rows
