"""A small job queue in PostgreSQL.

Jobs are rows in ``jobs``; workers claim them with ``SELECT ... FOR UPDATE SKIP LOCKED`` so
several workers never take the same job. Enqueueing inside the caller's transaction means a
job exists if and only if the change that caused it committed (the reason we left Celery:
see docs/adr/0003-postgres-backed-job-queue.md).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

MAX_JOB_ATTEMPTS = 5


@dataclass(frozen=True)
class Job:
    id: int
    kind: str
    payload: dict[str, Any]
    attempts: int
    run_at: datetime


def enqueue(
    conn: psycopg.Connection,
    kind: str,
    payload: dict[str, Any],
    *,
    delay: timedelta | None = None,
    dedupe_key: str | None = None,
) -> int | None:
    """Add a job in the caller's transaction. Returns its id, or None if deduplicated."""
    run_at = datetime.now(UTC) + (delay or timedelta(0))
    row = conn.execute(
        "INSERT INTO jobs (kind, payload, run_at, dedupe_key) VALUES (%s, %s, %s, %s) "
        "ON CONFLICT (dedupe_key) DO NOTHING RETURNING id",
        (kind, json.dumps(payload), run_at, dedupe_key),
    ).fetchone()
    return row["id"] if row else None


def claim_next(conn: psycopg.Connection, kinds: list[str], worker_id: str) -> Job | None:
    """Claim the oldest runnable job of one of ``kinds``; None when the queue is empty."""
    row = conn.execute(
        """
        UPDATE jobs SET locked_by = %s, locked_at = now(), attempts = attempts + 1
        WHERE id = (
            SELECT id FROM jobs
            WHERE kind = ANY(%s) AND run_at <= now() AND done_at IS NULL AND locked_by IS NULL
            ORDER BY run_at
            FOR UPDATE SKIP LOCKED
            LIMIT 1
        )
        RETURNING id, kind, payload, attempts, run_at
        """,
        (worker_id, kinds),
    ).fetchone()
    if row is None:
        return None
    return Job(row["id"], row["kind"], row["payload"], row["attempts"], row["run_at"])


def complete(conn: psycopg.Connection, job: Job) -> None:
    conn.execute("UPDATE jobs SET done_at = now(), locked_by = NULL WHERE id = %s", (job.id,))


def fail(conn: psycopg.Connection, job: Job, error: str) -> None:
    """Release a failed job for a later retry, or bury it after MAX_JOB_ATTEMPTS."""
    if job.attempts >= MAX_JOB_ATTEMPTS:
        conn.execute(
            "UPDATE jobs SET done_at = now(), failed = true, last_error = %s, locked_by = NULL "
            "WHERE id = %s",
            (error, job.id),
        )
        return
    backoff = timedelta(seconds=15 * 2**job.attempts)
    conn.execute(
        "UPDATE jobs SET locked_by = NULL, run_at = now() + %s, last_error = %s WHERE id = %s",
        (backoff, error, job.id),
    )


def release_stale_locks(conn: psycopg.Connection, older_than: timedelta) -> int:
    """Free jobs whose worker died mid-job (called by the worker at start-up)."""
    return conn.execute(
        "UPDATE jobs SET locked_by = NULL WHERE locked_by IS NOT NULL AND done_at IS NULL "
        "AND locked_at < now() - %s",
        (older_than,),
    ).rowcount
