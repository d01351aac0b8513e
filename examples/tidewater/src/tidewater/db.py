"""Database access: one psycopg connection pool, explicit transactions.

Everything durable lives in PostgreSQL: invoices, the ledger, sessions and the job queue
(see ADR 0001 and ADR 0003). There is no ORM; queries are plain SQL next to the code that
needs them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from tidewater.settings import get_settings

_pool: ConnectionPool | None = None


def pool() -> ConnectionPool:
    global _pool
    if _pool is None:
        _pool = ConnectionPool(
            get_settings().database_url,
            min_size=1,
            max_size=10,
            kwargs={"row_factory": dict_row},
        )
    return _pool


@contextmanager
def connection() -> Iterator[psycopg.Connection]:
    """Borrow a connection from the pool (autocommit off)."""
    with pool().connection() as conn:
        yield conn


@contextmanager
def transaction(conn: psycopg.Connection) -> Iterator[psycopg.Connection]:
    """Run a block in one transaction; roll back on any exception."""
    with conn.transaction():
        yield conn


def close_pool() -> None:
    global _pool
    if _pool is not None:
        _pool.close()
        _pool = None
