"""API tokens for machine clients (the merchant integrations).

A token is shown once at creation: ``tw_live_<prefix>_<secret>``. We store the prefix in clear
(to find the row) and an scrypt hash of the secret.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

import psycopg

TOKEN_PREFIX = "tw_live_"


@dataclass(frozen=True)
class ApiToken:
    id: int
    merchant_id: int
    prefix: str
    scopes: tuple[str, ...]


def _hash_secret(secret: str, salt: bytes) -> bytes:
    return hashlib.scrypt(secret.encode(), salt=salt, n=2**14, r=8, p=1)


def issue_api_token(
    conn: psycopg.Connection, merchant_id: int, scopes: tuple[str, ...]
) -> tuple[str, ApiToken]:
    """Create a token; returns the plaintext (show it once) and the stored record."""
    prefix = secrets.token_hex(4)
    secret = secrets.token_urlsafe(24)
    salt = secrets.token_bytes(16)
    row = conn.execute(
        "INSERT INTO api_tokens (merchant_id, prefix, salt, secret_hash, scopes) "
        "VALUES (%s, %s, %s, %s, %s) RETURNING id",
        (merchant_id, prefix, salt, _hash_secret(secret, salt), list(scopes)),
    ).fetchone()
    return f"{TOKEN_PREFIX}{prefix}_{secret}", ApiToken(row["id"], merchant_id, prefix, scopes)


def verify_api_token(conn: psycopg.Connection, presented: str) -> ApiToken | None:
    """The token record if ``presented`` is valid and not revoked, else None."""
    if not presented.startswith(TOKEN_PREFIX):
        return None
    try:
        prefix, secret = presented[len(TOKEN_PREFIX) :].split("_", 1)
    except ValueError:
        return None
    row = conn.execute(
        "SELECT id, merchant_id, salt, secret_hash, scopes FROM api_tokens "
        "WHERE prefix = %s AND revoked_at IS NULL",
        (prefix,),
    ).fetchone()
    if row is None:
        return None
    if not hmac.compare_digest(_hash_secret(secret, bytes(row["salt"])), bytes(row["secret_hash"])):
        return None
    return ApiToken(row["id"], row["merchant_id"], prefix, tuple(row["scopes"]))
