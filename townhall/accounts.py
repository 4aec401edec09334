"""Staff accounts: users, roles, hashed passwords (argon2) and login rate limiting.

Roles:
- ``admin``: everything, including the management of accounts;
- ``trainer``: the review tool (inbox, annotation, export, retraining); contacts are masked;
- ``agent``: the staff pages (appointments, reports, handoffs, feedback) and reading conversations.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import Boolean, CheckConstraint, Column, Integer, String, func, select
from sqlalchemy.orm import Session

from townhall.db import Base, UTCDateTime, utcnow

ROLES = ("admin", "trainer", "agent")
ROLE_LABELS = {"admin": "administrateur", "trainer": "entraîneur", "agent": "agent d'accueil"}
MIN_PASSWORD_LENGTH = 10
MAX_FAILURES_PER_USER_AND_IP = 5
MAX_FAILURES_PER_IP = 30
FAILURE_WINDOW = timedelta(minutes=15)

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


class AccountError(ValueError):
    """A French message explaining why an account cannot be created or changed."""


class TooManyAttempts(Exception):
    """Too many failed logins recently for this username and address."""


@dataclass(frozen=True)
class LoginResult:
    user: User | None
    rate_limited: bool = False


def normalise_username(username: str | None) -> str:
    return (username or "").strip().lower()[:64]


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
    return user


def set_active(session: Session, user_id: int, active: bool) -> User | None:
    user = session.get(User, user_id)
    if user is not None:
        user.active = active
    return user


def is_rate_limited(session: Session, username: str, ip: str, now: datetime | None = None) -> bool:
    since = (now or utcnow()) - FAILURE_WINDOW
    failures = select(func.count()).select_from(LoginAttempt).where(
        LoginAttempt.success.is_(False), LoginAttempt.at >= since)
    per_user = session.execute(failures.where(LoginAttempt.username == normalise_username(username),
                                              LoginAttempt.ip == ip)).scalar_one()
    per_ip = session.execute(failures.where(LoginAttempt.ip == ip)).scalar_one()
    return per_user >= MAX_FAILURES_PER_USER_AND_IP or per_ip >= MAX_FAILURES_PER_IP


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
    from sqlalchemy import delete

    result = session.execute(delete(LoginAttempt).where(LoginAttempt.at < utcnow() - older_than))
    return result.rowcount or 0
