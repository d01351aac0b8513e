"""Server-side sessions for the dashboard, stored in PostgreSQL.

Decision ``sessions-in-postgres-not-redis-0b6d``: one less moving part; the session table is
small and the dashboard has a few dozen users. The cookie carries only an opaque id; the id is
stored hashed so a database leak does not leak live sessions. Never log session ids.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import psycopg

from tidewater.settings import get_settings

COOKIE_NAME = "tw_session"


@dataclass(frozen=True)
class Session:
    user_id: int
    role: str
    expires_at: datetime
    csrf_token: str

    def is_expired(self, now: datetime | None = None) -> bool:
        return (now or datetime.now(UTC)) >= self.expires_at


def _hash_id(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


class SessionStore:
    """Create, look up, extend and revoke sessions."""

    def __init__(self, conn: psycopg.Connection, ttl: timedelta | None = None) -> None:
        self.conn = conn
        self.ttl = ttl or timedelta(seconds=get_settings().session_ttl_seconds)

    def create(self, user_id: int, role: str) -> tuple[str, Session]:
        """Start a session; returns the opaque id for the cookie and the Session."""
        session_id = secrets.token_urlsafe(32)
        session = Session(user_id, role, datetime.now(UTC) + self.ttl, secrets.token_urlsafe(16))
        self.conn.execute(
            "INSERT INTO sessions (id_hash, user_id, role, expires_at, csrf_token) "
            "VALUES (%s, %s, %s, %s, %s)",
            (_hash_id(session_id), user_id, role, session.expires_at, session.csrf_token),
        )
        return session_id, session

    def get(self, session_id: str) -> Session | None:
        row = self.conn.execute(
            "SELECT user_id, role, expires_at, csrf_token FROM sessions "
            "WHERE id_hash = %s AND revoked_at IS NULL",
            (_hash_id(session_id),),
        ).fetchone()
        if row is None:
            return None
        session = Session(row["user_id"], row["role"], row["expires_at"], row["csrf_token"])
        return None if session.is_expired() else session

    def touch(self, session_id: str) -> None:
        """Slide the expiry forward (called at most once a minute per session)."""
        self.conn.execute(
            "UPDATE sessions SET expires_at = %s WHERE id_hash = %s AND revoked_at IS NULL",
            (datetime.now(UTC) + self.ttl, _hash_id(session_id)),
        )

    def revoke(self, session_id: str) -> None:
        self.conn.execute(
            "UPDATE sessions SET revoked_at = now() WHERE id_hash = %s", (_hash_id(session_id),)
        )

    def revoke_all_for_user(self, user_id: int) -> int:
        return self.conn.execute(
            "UPDATE sessions SET revoked_at = now() WHERE user_id = %s AND revoked_at IS NULL",
            (user_id,),
        ).rowcount

    def purge_expired(self) -> int:
        """Delete sessions that expired more than a day ago (nightly job)."""
        return self.conn.execute(
            "DELETE FROM sessions WHERE expires_at < now() - interval '1 day'"
        ).rowcount
