"""People who use the archive, their roles and clearances, and proving who is who.

Rules:
- an API key is 32 random bytes (URL-safe base64), shown once when the user is made; only its
  sha256 is stored, and keys are compared in constant time;
- a command done "as" a user is refused unless the key given is that user's, and the user's
  role may do it: two-person control means nothing if anyone can name anyone;
- a disabled user's key no longer works; users are never deleted (the audit names them).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime
from enum import StrEnum
from typing import NamedTuple

from sqlalchemy import bindparam, select

from archive.errors import NotPermitted, UsageError
from archive.models import AccessLevel, User
from archive.prepared import driver_cursor
from archive.repository import Archive, storage_faults
from archive.text import normalize


class Role(StrEnum):
    VIEWER = "viewer"  # reads what their clearance allows
    OFFICIAL = "official"  # reads, searches, downloads
    LEGAL = "legal"  # reads, verifies, puts and releases legal holds
    ARCHIVIST = "archivist"  # proposes and carries out dispositions, holds
    APPROVER = "approver"  # approves dispositions (the council's members)
    ADMIN = "admin"  # users; everything an archivist does


# What each action needs. Approving is the approver's alone, so that the one who proposes or
# carries out a disposition can never also approve it.
ALLOWED: dict[str, frozenset[Role]] = {
    "hold": frozenset({Role.LEGAL, Role.ARCHIVIST, Role.ADMIN}),
    "propose": frozenset({Role.ARCHIVIST, Role.ADMIN}),
    "approve": frozenset({Role.APPROVER}),
    # Whoever may approve a list may also stop it: the council decides, not the proposer.
    "cancel": frozenset({Role.APPROVER}),
    "execute": frozenset({Role.ARCHIVIST, Role.ADMIN}),
    "users": frozenset({Role.ADMIN}),
}
KEY_BYTES = 32


def key_hash(api_key: str) -> str:
    return hashlib.sha256(api_key.strip().encode("utf-8")).hexdigest()


def add_user(
    archive: Archive, name: str, role: Role, clearance: AccessLevel, created_by: str
) -> tuple[User, str]:
    """Make a user; return it and its API key (the only time the key is seen)."""
    name = normalize(name).strip()
    if not name or any(c.isspace() for c in name):
        raise UsageError(f"a user name is one word, e.g. 'nguyen.van.a' (not {name!r})")
    api_key = secrets.token_urlsafe(KEY_BYTES)
    user = User(
        name=name,
        role=role.value,
        clearance=clearance.value,
        key_sha256=key_hash(api_key),
        created_at=datetime.now(UTC),
        created_by=normalize(created_by),
    )
    with storage_faults(f"adding user {name}"), archive.session() as session, session.begin():
        if session.scalar(select(User.id).where(User.name == name)) is not None:
            raise UsageError(f"there is already a user {name!r}")
        session.add(user)
    return user, api_key


def users(archive: Archive) -> list[User]:
    with archive.faults(), archive.session() as session:
        return list(session.scalars(select(User).order_by(User.name)))


class KeyHolder(NamedTuple):
    """The active user an API key is of, as far as reading over the API needs them."""

    name: str
    role: str
    clearance: str
    key_sha256: str


# Prepared once: every API request with a key asks it, and building costs more than running.
_KEY_HOLDER = select(User.name, User.role, User.clearance, User.key_sha256).where(
    User.key_sha256 == bindparam("key_sha256"), User.disabled_at.is_(None)
)


def user_by_key(archive: Archive, api_key: str) -> KeyHolder | None:
    """The active user whose key this is (the API's Bearer token), else None."""
    return user_by_key_hash(archive, key_hash(api_key))


def user_by_key_hash(archive: Archive, wanted: str) -> KeyHolder | None:
    """The active user whose key hashes to ``wanted`` (a web session holds only that). Every
    keyed request over the API asks this: one row, by a statement prepared once."""
    with driver_cursor(archive.engine) as cursor:
        row = archive.prepared("key holder", _KEY_HOLDER).first(cursor, key_sha256=wanted)
    if row is None or not hmac.compare_digest(row.key_sha256, wanted):
        return None
    return KeyHolder(row.name, row.role, row.clearance, row.key_sha256)


def authenticate(archive: Archive, name: str, api_key: str | None, action: str) -> User:
    """The user ``name``, proven by ``api_key``, whose role may do ``action``."""
    if not api_key:
        raise NotPermitted(
            f"acting as {name!r} takes that user's API key: set LUUTRU_API_KEY, or run on a "
            "terminal to be asked for it"
        )
    with archive.faults(), archive.session() as session:
        user = session.scalar(select(User).where(User.name == normalize(name).strip()))
    # One message for an unknown user and a wrong key: which names exist is not told.
    if (
        user is None
        or user.disabled_at is not None
        or not hmac.compare_digest(user.key_sha256, key_hash(api_key))
    ):
        raise NotPermitted(f"the API key given (LUUTRU_API_KEY) is not that of user {name!r}")
    allowed = ALLOWED[action]
    if Role(user.role) not in allowed:
        roles = ", ".join(sorted(r.value for r in allowed))
        raise NotPermitted(f"{name} is {user.role}; to {action} takes the role {roles}")
    return user


def disable_user(archive: Archive, name: str) -> None:
    with storage_faults(f"disabling user {name}"), archive.session() as session, session.begin():
        user = session.scalar(select(User).where(User.name == name))
        if user is None:
            raise UsageError(f"no user {name!r}")
        user.disabled_at = user.disabled_at or datetime.now(UTC)
