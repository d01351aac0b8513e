"""Payments: the PSP client, inbound PSP events, outbound merchant webhooks, settlement."""

from __future__ import annotations

from tidewater.payments.psp import PaymentIntent, PspClient
from tidewater.payments.webhooks import WebhookEvent, WebhookSender

__all__ = ["PaymentIntent", "PspClient", "WebhookEvent", "WebhookSender"]
