"""Login and logout for the dashboard."""

from __future__ import annotations

import psycopg
from fastapi import APIRouter, Cookie, Depends, HTTPException, Response, status
from pydantic import BaseModel

from tidewater.api.deps import get_conn
from tidewater.auth.sessions import COOKIE_NAME, SessionStore

router = APIRouter()


class LoginRequest(BaseModel):
    email: str
    password: str


@router.post("/login")
def login(
    body: LoginRequest, response: Response, conn: psycopg.Connection = Depends(get_conn)
) -> dict[str, str]:
    row = conn.execute(
        "SELECT id, role FROM users WHERE email = %s AND password_hash = crypt(%s, password_hash)",
        (body.email.lower(), body.password),
    ).fetchone()
    if row is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "wrong email or password")
    session_id, session = SessionStore(conn).create(row["id"], row["role"])
    conn.commit()
    response.set_cookie(COOKIE_NAME, session_id, httponly=True, secure=True, samesite="lax")
    return {"csrf_token": session.csrf_token, "role": session.role}


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
def logout(
    response: Response,
    conn: psycopg.Connection = Depends(get_conn),
    session_id: str | None = Cookie(default=None, alias=COOKIE_NAME),
) -> None:
    if session_id:
        SessionStore(conn).revoke(session_id)
        conn.commit()
    response.delete_cookie(COOKIE_NAME)
