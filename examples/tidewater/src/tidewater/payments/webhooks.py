"""Outbound webhooks: tell merchants' systems when an invoice is paid or refunded.

:class:`WebhookSender` signs each event (HMAC-SHA256 over ``timestamp.body``) and POSTs it to
the endpoint through :mod:`tidewater.http_client`. A failed delivery is rescheduled on the job
queue according to :mod:`tidewater.payments.retry`; it never sleeps in the request path.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import psycopg

from tidewater import http_client
from tidewater.jobs.queue import enqueue
from tidewater.payments.retry import DEFAULT_POLICY, RetryPolicy, should_retry

log = logging.getLogger(__name__)

WEBHOOK_TIMEOUT_SECONDS = 5.0
SIGNATURE_HEADER = "Tidewater-Signature"


@dataclass(frozen=True)
class WebhookEndpoint:
    id: int
    url: str
    secret: str
    active: bool = True


@dataclass(frozen=True)
class WebhookEvent:
    id: str
    type: str  # "invoice.paid", "invoice.refunded", "invoice.voided"
    data: dict[str, Any]
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def body(self) -> bytes:
        payload = {
            "id": self.id,
            "type": self.type,
            "created": int(self.created_at.timestamp()),
            "data": self.data,
        }
        return json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()


@dataclass(frozen=True)
class DeliveryResult:
    ok: bool
    status_code: int | None
    attempt: int
    error: str | None = None


def sign_payload(secret: str, body: bytes, timestamp: int) -> str:
    """``t=<ts>,v1=<hex hmac>`` over ``b"<ts>." + body``."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


class WebhookSender:
    """Delivers webhook events to merchant endpoints, with retries via the job queue."""

    def __init__(self, conn: psycopg.Connection, policy: RetryPolicy = DEFAULT_POLICY) -> None:
        self.conn = conn
        self.policy = policy

    def send(
        self, event: WebhookEvent, endpoint: WebhookEndpoint, attempt: int = 1
    ) -> DeliveryResult:
        """Try one delivery now; on a retryable failure schedule the next attempt.

        Returns the result of this attempt. Does not raise for HTTP failures.
        """
        if not endpoint.active:
            return DeliveryResult(ok=False, status_code=None, attempt=attempt, error="inactive")
        body = event.body()
        timestamp = int(time.time())
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign_payload(endpoint.secret, body, timestamp),
        }
        try:
            response = http_client.request(
                "POST",
                endpoint.url,
                content=body,
                headers=headers,
                timeout=WEBHOOK_TIMEOUT_SECONDS,
                idempotency_key=event.id,
            )
            result = DeliveryResult(ok=True, status_code=response.status_code, attempt=attempt)
        except http_client.HttpError as exc:
            result = DeliveryResult(
                ok=False, status_code=exc.status_code, attempt=attempt, error=str(exc)
            )
            if should_retry(exc.status_code, transport_error=exc.status_code is None):
                self._schedule_retry(event, endpoint, attempt)
            else:
                self._dead_letter(event, endpoint, attempt, str(exc))
        self._record(event, endpoint, result)
        return result

    def _schedule_retry(self, event: WebhookEvent, endpoint: WebhookEndpoint, attempt: int) -> None:
        delay = self.policy.next_delay(attempt)
        if delay is None:
            self._dead_letter(event, endpoint, attempt, "max attempts reached")
            return
        enqueue(
            self.conn,
            "webhook.deliver",
            {"event_id": event.id, "endpoint_id": endpoint.id, "attempt": attempt + 1},
            delay=delay,
        )

    def _dead_letter(
        self, event: WebhookEvent, endpoint: WebhookEndpoint, attempt: int, reason: str
    ) -> None:
        log.error(
            "webhook %s to endpoint %s dead-lettered after %d attempts: %s",
            event.id,
            endpoint.id,
            attempt,
            reason,
        )
        self.conn.execute(
            "INSERT INTO webhook_dead_letters (event_id, endpoint_id, attempts, reason) "
            "VALUES (%s, %s, %s, %s)",
            (event.id, endpoint.id, attempt, reason),
        )

    def _record(
        self, event: WebhookEvent, endpoint: WebhookEndpoint, result: DeliveryResult
    ) -> None:
        self.conn.execute(
            "INSERT INTO webhook_deliveries "
            "(event_id, endpoint_id, attempt, ok, status_code, error) "
            "VALUES (%s, %s, %s, %s, %s, %s)",
            (event.id, endpoint.id, result.attempt, result.ok, result.status_code, result.error),
        )


def load_endpoints(conn: psycopg.Connection, merchant_id: int) -> list[WebhookEndpoint]:
    rows = conn.execute(
        "SELECT id, url, secret, active FROM webhook_endpoints WHERE merchant_id = %s",
        (merchant_id,),
    ).fetchall()
    return [WebhookEndpoint(r["id"], r["url"], r["secret"], r["active"]) for r in rows]
