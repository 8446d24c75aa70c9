"""Who is reading: an API key (``Authorization: Bearer KEY``), a web session, or nobody.

Rules:
- a reader's clearance decides what exists for them; anonymous readers get the archive's
  ``anonymous_clearance`` (public by default);
- a Bearer key that is not a user's is refused (401), never taken as anonymous: a typo must
  not look like "there is nothing";
- web sessions are kept in the server's memory only (a restart logs everyone out): the cookie
  holds a random token, HttpOnly and SameSite=Strict, never the API key; the session holds
  the hash of the key it was opened with, and every request reads the user by it again, so a
  user disabled, or given a new key or clearance, is so in their open sessions at once;
- each key (or, anonymous, each client address) has a rate limit: a token bucket.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from archive.errors import RateLimited, Unauthenticated
from archive.models import AccessLevel, User
from archive.users import KeyHolder, user_by_key, user_by_key_hash

SESSION_COOKIE = "luutru_session"
SESSION_SECONDS = 8 * 3600
RATE_PER_SECOND = 200.0  # sustained requests per key
RATE_BURST = 400.0


@dataclass(frozen=True)
class Reader:
    name: str | None
    role: str | None
    clearance: AccessLevel

    @property
    def anonymous(self) -> bool:
        return self.name is None


@dataclass
class Sessions:
    """Web sessions: token -> (the hash of the user's key, expiry)."""

    _by_token: dict[str, tuple[str, float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def open(self, user: User | KeyHolder) -> str:
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._by_token[token] = (user.key_sha256, time.monotonic() + SESSION_SECONDS)
        return token

    def key_hash(self, token: str) -> str | None:
        with self._lock:
            found = self._by_token.get(token)
            if found is None:
                return None
            if found[1] < time.monotonic():
                del self._by_token[token]
                return None
            return found[0]

    def close(self, token: str) -> None:
        with self._lock:
            self._by_token.pop(token, None)


@dataclass
class RateLimiter:
    per_second: float = RATE_PER_SECOND
    burst: float = RATE_BURST
    _buckets: dict[str, tuple[float, float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def take(self, who: str) -> None:
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(who, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.per_second)
            if tokens < 1:
                self._buckets[who] = (tokens, now)
                raise RateLimited("too many requests; slow down and try again")
            self._buckets[who] = (tokens - 1, now)


def reader_of(request: Request) -> Reader:
    """The reader of ``request`` (the app's state holds archive, sessions, limiter)."""
    services = request.app.state.services
    anonymous = Reader(None, None, services.archive.settings.anonymous_clearance)
    header = request.headers.get("authorization", "")
    if header:
        scheme, _, key = header.partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            raise Unauthenticated("give the API key as 'Authorization: Bearer KEY'")
        request.app.state.limiter.take(f"key:{key[:12]}")
        user = user_by_key(services.archive, key.strip())
        if user is None:
            raise Unauthenticated("this API key is nobody's (or its user is disabled)")
        return _reader(user)
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        sessions: Sessions = request.app.state.sessions
        held = sessions.key_hash(token)
        user = None if held is None else user_by_key_hash(services.archive, held)
        if user is not None:
            request.app.state.limiter.take(f"user:{user.name}")
            return _reader(user)
        if held is not None:
            sessions.close(token)  # its user was disabled or given another key: it is over
    client = request.client.host if request.client else "?"
    request.app.state.limiter.take(f"addr:{client}")
    return anonymous


def _reader(user: KeyHolder) -> Reader:
    return Reader(user.name, user.role, AccessLevel(user.clearance))


def _reads_a_user(request: Request) -> bool:
    return bool(request.headers.get("authorization") or request.cookies.get(SESSION_COOKIE))


async def reader_of_request(request: Request) -> Reader:
    """``reader_of`` as the API's dependency, told on the event loop, without the hand-off to
    a thread and back that costs a request more than its work: an anonymous reader needs no
    database, and a key or a session is one row by the key's hash, looked up on the loop when
    the archive is SQLite (``Services.key_reads_on_loop``), in a worker thread on PostgreSQL."""
    services = request.app.state.services
    if _reads_a_user(request) and not services.key_reads_on_loop:
        return await run_in_threadpool(reader_of, request)
    return reader_of(request)
