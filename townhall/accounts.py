"""Staff accounts: users, roles, hashed passwords (argon2), login rate limiting and sessions.

Roles:
- ``admin``: everything, including the management of accounts;
- ``trainer``: the review tool (inbox, annotation, export, retraining); contacts are masked;
- ``agent``: the staff pages (appointments, reports, handoffs, feedback) and reading conversations.

Sessions are server-side (``staff_sessions``): the browser holds a random session id, the
database only its SHA-256 hash, so a copy of the table opens no session. Logging out deletes
the row; deactivating a user or changing a password deletes all of that user's rows;
``purge_expired_sessions`` removes the expired ones.
"""
from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import Boolean, CheckConstraint, Column, ForeignKey, Integer, String, Text, delete, func, select
from sqlalchemy.orm import Session

from townhall.db import Base, UTCDateTime, utcnow

ROLES = ("admin", "trainer", "agent")
ROLE_LABELS = {"admin": "administrateur", "trainer": "annotateur", "agent": "agent d'accueil"}
MIN_PASSWORD_LENGTH = 10
MAX_FAILURES_PER_USER_AND_IP = 5
MAX_FAILURES_PER_IP = 30
MAX_FAILURES_PER_USER = 20  # from any address: rotating addresses does not give more tries
FAILURE_WINDOW = timedelta(minutes=15)
SESSION_LIFETIME = timedelta(hours=8)  # one working day, then log in again
SESSION_TOUCH_INTERVAL = timedelta(minutes=1)  # last_seen_at is written at most this often
MAX_SESSION_ID_CHARS = 128

_hasher = PasswordHasher()
# Verified when the username is unknown, so that timing does not reveal which accounts exist.
_DUMMY_HASH = _hasher.hash("not-a-real-password-0000")


class User(Base):
    __tablename__ = "staff_users"
    __table_args__ = (CheckConstraint("role IN ('admin', 'trainer', 'agent')", name="role"),)

    id = Column(Integer, primary_key=True)
    username = Column(String(64), nullable=False, unique=True)
    password_hash = Column(String(255), nullable=False)
    role = Column(String(16), nullable=False)
    active = Column(Boolean, nullable=False, default=True)
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)
    last_login_at = Column(UTCDateTime, nullable=True)


class LoginAttempt(Base):
    __tablename__ = "staff_login_attempts"

    id = Column(Integer, primary_key=True)
    username = Column(String(64), nullable=False, index=True)
    ip = Column(String(64), nullable=False, index=True)
    at = Column(UTCDateTime, nullable=False, default=utcnow, index=True)
    success = Column(Boolean, nullable=False, default=False)


class StaffSession(Base):
    """A logged-in browser. ``token_hash`` is the SHA-256 of the id in the cookie, never the id."""

    __tablename__ = "staff_sessions"

    id = Column(Integer, primary_key=True)
    token_hash = Column(String(64), nullable=False, unique=True)
    user_id = Column(Integer, ForeignKey("staff_users.id", ondelete="CASCADE"), nullable=False, index=True)
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)
    last_seen_at = Column(UTCDateTime, nullable=False, default=utcnow)
    expires_at = Column(UTCDateTime, nullable=False, index=True)
    data = Column(Text, nullable=True)  # JSON: the one-time message shown on the next page


class AccountError(ValueError):
    """A French message explaining why an account cannot be created or changed."""


class TooManyAttempts(Exception):
    """Too many failed logins recently for this username and address."""


@dataclass(frozen=True)
class LoginResult:
    user: User | None
    rate_limited: bool = False


def normalise_username(username: str | None) -> str:
    # Without control characters (a NUL byte is refused by PostgreSQL).
    return "".join(c for c in (username or "") if c.isprintable()).strip().lower()[:64]


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def create_user(session: Session, username: str, password: str, role: str) -> User:
    username = normalise_username(username)
    if not username or not username.replace(".", "").replace("-", "").replace("_", "").isalnum():
        raise AccountError("L'identifiant ne peut contenir que des lettres, des chiffres, des points et des tirets.")
    if role not in ROLES:
        raise AccountError(f"Rôle inconnu : choisissez parmi {', '.join(ROLES)}.")
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise AccountError(f"Le mot de passe doit contenir au moins {MIN_PASSWORD_LENGTH} caractères.")
    if find(session, username) is not None:
        raise AccountError("Cet identifiant existe déjà.")
    user = User(username=username, password_hash=hash_password(password), role=role, active=True)
    session.add(user)
    session.flush()
    return user


def find(session: Session, username: str) -> User | None:
    return session.execute(select(User).where(User.username == normalise_username(username))).scalar_one_or_none()


def all_users(session: Session) -> list[User]:
    return list(session.execute(select(User).order_by(User.username)).scalars())


def set_password(session: Session, username: str, password: str) -> User:
    user = find(session, username)
    if user is None:
        raise AccountError("Compte introuvable.")
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise AccountError(f"Le mot de passe doit contenir au moins {MIN_PASSWORD_LENGTH} caractères.")
    user.password_hash = hash_password(password)
    end_user_sessions(session, user.id)  # a new password logs out every browser
    return user


def set_active(session: Session, user_id: int, active: bool) -> User | None:
    user = session.get(User, user_id)
    if user is not None:
        user.active = active
        if not active:
            end_user_sessions(session, user.id)
    return user


def is_rate_limited(session: Session, username: str, ip: str, now: datetime | None = None) -> bool:
    since = (now or utcnow()) - FAILURE_WINDOW
    failures = select(func.count()).select_from(LoginAttempt).where(
        LoginAttempt.success.is_(False), LoginAttempt.at >= since)
    per_user = session.execute(failures.where(LoginAttempt.username == normalise_username(username),
                                              LoginAttempt.ip == ip)).scalar_one()
    per_ip = session.execute(failures.where(LoginAttempt.ip == ip)).scalar_one()
    if per_user >= MAX_FAILURES_PER_USER_AND_IP or per_ip >= MAX_FAILURES_PER_IP:
        return True
    per_username = session.execute(failures.where(LoginAttempt.username == normalise_username(username))).scalar_one()
    return per_username >= MAX_FAILURES_PER_USER


def authenticate(session: Session, username: str, password: str, ip: str) -> LoginResult:
    """Check a login; every attempt is recorded for rate limiting. Returns the user or None."""
    username = normalise_username(username)
    ip = (ip or "inconnu")[:64]
    if is_rate_limited(session, username, ip):
        return LoginResult(None, rate_limited=True)
    user = find(session, username) if username else None
    ok = False
    try:
        ok = _hasher.verify(user.password_hash if user else _DUMMY_HASH, password or "")
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        ok = False
    ok = ok and user is not None and user.active
    session.add(LoginAttempt(username=username or "(vide)", ip=ip, success=ok))
    if not ok:
        return LoginResult(None)
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = utcnow()
    session.flush()
    return LoginResult(user)


def purge_attempts(session: Session, older_than: timedelta = timedelta(days=30)) -> int:
    """Login attempts hold IP addresses: keep them no longer than needed."""
    result = session.execute(delete(LoginAttempt).where(LoginAttempt.at < utcnow() - older_than))
    return result.rowcount or 0


# --- sessions ------------------------------------------------------------------------------


def hash_session_id(session_id: str) -> str:
    return hashlib.sha256(session_id.encode("utf-8")).hexdigest()


def new_session_id() -> str:
    return secrets.token_urlsafe(32)


def start_session(session: Session, user_id: int, now: datetime | None = None,
                  lifetime: timedelta = SESSION_LIFETIME) -> str:
    """Open a session for ``user_id``; returns the id for the cookie (only its hash is stored)."""
    now = now or utcnow()
    session_id = new_session_id()
    session.add(StaffSession(token_hash=hash_session_id(session_id), user_id=user_id, created_at=now,
                             last_seen_at=now, expires_at=now + lifetime))
    session.flush()
    return session_id


def resume_session(session: Session, session_id: str | None,
                   now: datetime | None = None) -> tuple[StaffSession, User] | None:
    """The live session and its active user for this id, or None (unknown, expired, user disabled)."""
    if not session_id or len(session_id) > MAX_SESSION_ID_CHARS:
        return None
    now = now or utcnow()
    row = session.execute(
        select(StaffSession, User).join(User, User.id == StaffSession.user_id)
        .where(StaffSession.token_hash == hash_session_id(session_id))
    ).first()
    if row is None:
        return None
    staff_session, user = row
    if staff_session.expires_at <= now or not user.active:
        session.delete(staff_session)
        return None
    if now - staff_session.last_seen_at >= SESSION_TOUCH_INTERVAL:
        staff_session.last_seen_at = now
    return staff_session, user


def end_session(session: Session, session_id: str | None) -> bool:
    """Log out: the session's row is deleted, so its cookie opens nothing any more."""
    if not session_id or len(session_id) > MAX_SESSION_ID_CHARS:
        return False
    result = session.execute(delete(StaffSession).where(StaffSession.token_hash == hash_session_id(session_id)))
    return bool(result.rowcount)


def end_user_sessions(session: Session, user_id: int) -> int:
    """Log a user out of every browser (account disabled, password changed)."""
    result = session.execute(delete(StaffSession).where(StaffSession.user_id == user_id))
    return result.rowcount or 0


def purge_expired_sessions(session: Session, now: datetime | None = None) -> int:
    """Delete the sessions past their expiry; returns how many were deleted."""
    result = session.execute(delete(StaffSession).where(StaffSession.expires_at <= (now or utcnow())))
    return result.rowcount or 0


def session_data(staff_session: StaffSession) -> dict:
    try:
        data = json.loads(staff_session.data) if staff_session.data else {}
    except ValueError:
        data = {}
    return data if isinstance(data, dict) else {}


def set_session_data(session: Session, session_id: str, data: dict) -> None:
    """Replace the small data (the one-time message) kept with a session."""
    row = session.execute(select(StaffSession).where(
        StaffSession.token_hash == hash_session_id(session_id))).scalar_one_or_none()
    if row is not None:
        row.data = json.dumps(data, ensure_ascii=False) if data else None
