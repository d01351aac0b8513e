from __future__ import annotations

import random
from datetime import timedelta

import httpx
import pytest

from tidewater.payments.retry import RetryPolicy, should_retry
from tidewater.payments.webhooks import WebhookEndpoint, WebhookEvent, WebhookSender, sign_payload


def test_sign_payload_format_and_sensitivity():
    sig = sign_payload("whsec_merchant", b'{"a":1}', 1767225600)
    timestamp, mac = sig.split(",")
    assert timestamp == "t=1767225600"
    assert mac.startswith("v1=") and len(mac) == 3 + 64
    assert sign_payload("whsec_merchant", b'{"a":2}', 1767225600) != sig


def test_retry_delays_are_capped_and_jittered():
    policy = RetryPolicy(
        max_attempts=8, base_delay=timedelta(seconds=30), max_delay=timedelta(hours=6)
    )
    rng = random.Random(42)
    delays = [policy.next_delay(n, rng) for n in range(1, 8)]
    assert all(d is not None and d <= timedelta(hours=6) for d in delays)
    assert policy.next_delay(8, rng) is None


@pytest.mark.parametrize(
    ("status", "expected"),
    [(500, True), (503, True), (429, True), (400, False), (404, False), (410, False)],
)
def test_should_retry(status, expected):
    assert should_retry(status) is expected


@pytest.mark.db
def test_send_schedules_a_retry_on_503(conn, _no_network):
    _no_network.post("https://merchant.test/hooks").mock(return_value=httpx.Response(503))
    conn.execute(
        "INSERT INTO webhook_endpoints (id, merchant_id, url, secret) "
        "VALUES (1, 1, 'https://merchant.test/hooks', 'whsec_merchant')"
    )
    conn.execute(
        "INSERT INTO webhook_events (id, type, data) VALUES ('evt_1', 'invoice.paid', '{}')"
    )
    sender = WebhookSender(conn)
    result = sender.send(
        WebhookEvent("evt_1", "invoice.paid", {}),
        WebhookEndpoint(1, "https://merchant.test/hooks", "whsec_merchant"),
    )
    assert not result.ok and result.status_code == 503
    job = conn.execute("SELECT kind, payload FROM jobs").fetchone()
    assert job["kind"] == "webhook.deliver" and job["payload"]["attempt"] == 2
