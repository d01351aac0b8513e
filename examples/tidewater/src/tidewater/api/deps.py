"""FastAPI dependencies: a database connection and the current session."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
from fastapi import Cookie, Depends, Header, HTTPException, status

from tidewater import db
from tidewater.auth.sessions import COOKIE_NAME, Session, SessionStore


def get_conn() -> Iterator[psycopg.Connection]:
    with db.connection() as conn:
        yield conn


def current_session(
    conn: psycopg.Connection = Depends(get_conn),
    session_id: str | None = Cookie(default=None, alias=COOKIE_NAME),
) -> Session:
    if not session_id:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "not logged in")
    session = SessionStore(conn).get(session_id)
    if session is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "session expired")
    return session


def require_csrf(
    session: Session = Depends(current_session),
    csrf: str | None = Header(default=None, alias="X-CSRF-Token"),
) -> Session:
    if csrf != session.csrf_token:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "bad CSRF token")
    return session


def require_role(role: str):  # type: ignore[no-untyped-def]
    def check(session: Session = Depends(current_session)) -> Session:
        if session.role not in (role, "admin"):
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"needs role {role}")
        return session

    return check
