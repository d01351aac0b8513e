from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tidewater.auth.sessions import Session, SessionStore


def test_session_expiry():
    now = datetime(2026, 2, 1, 12, tzinfo=UTC)
    session = Session(1, "billing", now + timedelta(minutes=5), "csrf")
    assert not session.is_expired(now)
    assert session.is_expired(now + timedelta(minutes=5))


@pytest.mark.db
def test_revoked_session_is_gone(conn):
    conn.execute("INSERT INTO users (id, email, password_hash) VALUES (1, 'a@b.example', 'x')")
    store = SessionStore(conn, ttl=timedelta(hours=1))
    session_id, _ = store.create(1, "billing")
    assert store.get(session_id) is not None
    store.revoke(session_id)
    assert store.get(session_id) is None


@pytest.mark.db
def test_session_id_is_not_stored_in_clear(conn):
    conn.execute("INSERT INTO users (id, email, password_hash) VALUES (1, 'a@b.example', 'x')")
    session_id, _ = SessionStore(conn).create(1, "billing")
    stored = conn.execute("SELECT id_hash FROM sessions").fetchone()["id_hash"]
    assert stored != session_id
