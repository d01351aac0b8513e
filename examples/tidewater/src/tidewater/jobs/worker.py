"""The worker process: claims jobs and dispatches them to handlers."""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import psycopg

from tidewater import db
from tidewater.billing.dunning import run_dunning
from tidewater.jobs.queue import Job, claim_next, complete, fail, release_stale_locks
from tidewater.notifications.email import send_dunning_email
from tidewater.payments.psp import PspClient
from tidewater.payments.settlement import run_settlement
from tidewater.payments.webhooks import WebhookSender, load_endpoints

log = logging.getLogger(__name__)

Handler = Callable[[psycopg.Connection, dict[str, Any]], None]


def _deliver_webhook(conn: psycopg.Connection, payload: dict[str, Any]) -> None:
    from tidewater.payments.webhooks import WebhookEndpoint, WebhookEvent

    event_row = conn.execute(
        "SELECT id, type, data, created_at FROM webhook_events WHERE id = %s",
        (payload["event_id"],),
    ).fetchone()
    endpoint_row = conn.execute(
        "SELECT id, url, secret, active FROM webhook_endpoints WHERE id = %s",
        (payload["endpoint_id"],),
    ).fetchone()
    event = WebhookEvent(
        event_row["id"], event_row["type"], event_row["data"], event_row["created_at"]
    )
    endpoint = WebhookEndpoint(
        endpoint_row["id"], endpoint_row["url"], endpoint_row["secret"], endpoint_row["active"]
    )
    WebhookSender(conn).send(event, endpoint, attempt=payload.get("attempt", 1))


def _fanout_webhook(conn: psycopg.Connection, payload: dict[str, Any]) -> None:
    from tidewater.jobs.queue import enqueue

    event_id = conn.execute(
        "INSERT INTO webhook_events (type, data) VALUES (%s, %s) RETURNING id",
        (payload["type"], payload["data"]),
    ).fetchone()["id"]
    for endpoint in load_endpoints(conn, payload["merchant_id"]):
        enqueue(conn, "webhook.deliver", {"event_id": event_id, "endpoint_id": endpoint.id})


def _send_dunning_email(conn: psycopg.Connection, payload: dict[str, Any]) -> None:
    send_dunning_email(
        conn,
        payload["invoice_id"],
        payload["template"],
        cc_account_manager=payload["cc_account_manager"],
    )


def _run_dunning(conn: psycopg.Connection, payload: dict[str, Any]) -> None:
    run_dunning(conn, date.fromisoformat(payload["today"]))


def _run_settlement(conn: psycopg.Connection, payload: dict[str, Any]) -> None:
    run_settlement(conn, PspClient(), date.fromisoformat(payload["payout_date"]))


HANDLERS: dict[str, Handler] = {
    "webhook.deliver": _deliver_webhook,
    "webhook.fanout": _fanout_webhook,
    "dunning.email": _send_dunning_email,
    "dunning.run": _run_dunning,
    "settlement.run": _run_settlement,
}


class Worker:
    def __init__(self, kinds: list[str] | None = None, poll_interval: float = 1.0) -> None:
        self.kinds = kinds or sorted(HANDLERS)
        self.poll_interval = poll_interval
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}"
        self._stopping = False

    def stop(self) -> None:
        self._stopping = True

    def run_once(self, conn: psycopg.Connection) -> bool:
        """Claim and run one job; False when there was nothing to do."""
        with conn.transaction():
            job = claim_next(conn, self.kinds, self.worker_id)
        if job is None:
            return False
        self._run(conn, job)
        return True

    def _run(self, conn: psycopg.Connection, job: Job) -> None:
        try:
            with conn.transaction():
                HANDLERS[job.kind](conn, job.payload)
                complete(conn, job)
        except Exception as exc:  # noqa: BLE001 - a job failure must not kill the worker
            log.exception("job %s (%s) failed", job.id, job.kind)
            with conn.transaction():
                fail(conn, job, repr(exc))

    def run_forever(self) -> None:
        with db.connection() as conn:
            release_stale_locks(conn, timedelta(minutes=10))
            while not self._stopping:
                if not self.run_once(conn):
                    time.sleep(self.poll_interval)
