"""Inbound PSP events (Stripe webhooks) turned into invoice updates and ledger entries."""

from __future__ import annotations

import hashlib
import hmac
import logging
from typing import Any

import psycopg

from tidewater.billing.invoices import mark_paid
from tidewater.jobs.queue import enqueue
from tidewater.ledger.entries import Account, LedgerEntry, post_entries
from tidewater.money import Money

log = logging.getLogger(__name__)

SIGNATURE_TOLERANCE_SECONDS = 300


class InvalidSignature(Exception):
    pass


def verify_psp_signature(secret: str, payload: bytes, header: str, now: int) -> None:
    """Check a ``Stripe-Signature`` header (``t=..,v1=..``); raise InvalidSignature."""
    parts = dict(item.split("=", 1) for item in header.split(",") if "=" in item)
    try:
        timestamp = int(parts["t"])
        expected = parts["v1"]
    except (KeyError, ValueError) as exc:
        raise InvalidSignature("malformed signature header") from exc
    if abs(now - timestamp) > SIGNATURE_TOLERANCE_SECONDS:
        raise InvalidSignature("signature timestamp outside tolerance")
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256)
    if not hmac.compare_digest(mac.hexdigest(), expected):
        raise InvalidSignature("signature mismatch")


def handle_psp_event(conn: psycopg.Connection, event: dict[str, Any]) -> None:
    """Apply one PSP event. Idempotent: events already seen are ignored."""
    inserted = conn.execute(
        "INSERT INTO psp_events (id, type) VALUES (%s, %s) ON CONFLICT DO NOTHING",
        (event["id"], event["type"]),
    ).rowcount
    if not inserted:
        log.info("psp event %s already handled", event["id"])
        return
    obj = event["data"]["object"]
    if event["type"] == "payment_intent.succeeded":
        _payment_succeeded(conn, obj)
    elif event["type"] == "charge.refunded":
        log.info("refund %s confirmed by PSP", obj["id"])
    else:
        log.debug("ignoring psp event type %s", event["type"])


def _payment_succeeded(conn: psycopg.Connection, obj: dict[str, Any]) -> None:
    amount = Money(obj["amount_received"], obj["currency"].upper())
    invoice_number = obj["metadata"]["invoice_number"]
    row = conn.execute(
        "SELECT id, merchant_id FROM invoices WHERE number = %s", (invoice_number,)
    ).fetchone()
    with conn.transaction():
        mark_paid(conn, row["id"], obj["id"])
        post_entries(
            conn,
            [
                LedgerEntry.debit(Account.PSP_CLEARING, amount, f"payment:{obj['id']}"),
                LedgerEntry.credit(Account.RECEIVABLES, amount, f"payment:{obj['id']}"),
            ],
        )
        enqueue(
            conn,
            "webhook.fanout",
            {
                "merchant_id": row["merchant_id"],
                "type": "invoice.paid",
                "data": {"invoice_number": invoice_number, "amount_cents": amount.cents},
            },
        )
