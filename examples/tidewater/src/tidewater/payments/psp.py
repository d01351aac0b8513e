"""The PSP (payment service provider) client.

We use Stripe as our only PSP (decision ``stripe-is-the-only-psp-6b0e``). This module is the
only place that knows Stripe's URLs and field names; the rest of tidewater sees
:class:`PaymentIntent` and :class:`Payout`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from tidewater import http_client
from tidewater.ledger.reconcile import PayoutLine
from tidewater.money import Money
from tidewater.settings import get_settings

# Capture and refund calls are cheap for Stripe; keep the timeout tight so a stuck call does
# not hold a worker. Payout listing can be slow on settlement days.
PSP_TIMEOUT_SECONDS = 8.0
PAYOUT_TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True)
class PaymentIntent:
    id: str
    amount: Money
    status: str
    invoice_number: str
    client_secret: str | None = None


class PspError(Exception):
    """The PSP refused or failed a call."""


class PspClient:
    """A thin, typed wrapper over the PSP's REST API."""

    def __init__(self, base_url: str | None = None, api_key: str | None = None) -> None:
        settings = get_settings()
        self.base_url = (base_url or settings.psp_base_url).rstrip("/")
        self._api_key = api_key if api_key is not None else settings.psp_api_key

    def _call(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        idempotency_key: str | None = None,
        timeout: float = PSP_TIMEOUT_SECONDS,
    ) -> dict[str, Any]:
        try:
            response = http_client.request(
                method,
                f"{self.base_url}{path}",
                json=json,
                headers={"Authorization": f"Bearer {self._api_key}"},
                idempotency_key=idempotency_key,
                timeout=timeout,
            )
        except http_client.HttpError as exc:
            raise PspError(str(exc)) from exc
        data: dict[str, Any] = response.json()
        return data

    def create_payment_intent(self, amount: Money, invoice_number: str) -> PaymentIntent:
        """Create a payment intent for an invoice. Idempotent per invoice number."""
        data = self._call(
            "POST",
            "/v1/payment_intents",
            json={
                "amount": amount.cents,
                "currency": amount.currency.lower(),
                "metadata": {"invoice_number": invoice_number},
            },
            idempotency_key=f"pi:{invoice_number}",
        )
        return PaymentIntent(
            data["id"], amount, data["status"], invoice_number, data.get("client_secret")
        )

    def capture(self, payment_intent_id: str) -> str:
        data = self._call(
            "POST",
            f"/v1/payment_intents/{payment_intent_id}/capture",
            idempotency_key=f"capture:{payment_intent_id}",
        )
        return str(data["status"])

    def refund(self, payment_intent_id: str, amount: Money, reason: str) -> str:
        """Refund (part of) a payment. Returns the PSP's refund id."""
        data = self._call(
            "POST",
            "/v1/refunds",
            json={
                "payment_intent": payment_intent_id,
                "amount": amount.cents,
                "metadata": {"reason": reason},
            },
            idempotency_key=f"refund:{payment_intent_id}:{amount.cents}",
        )
        return str(data["id"])

    def list_payout_lines(self, payout_date: date, currency: str) -> list[PayoutLine]:
        """The payment lines of the payout that arrived on ``payout_date``."""
        data = self._call(
            "GET",
            f"/v1/balance_transactions?payout_date={payout_date.isoformat()}",
            timeout=PAYOUT_TIMEOUT_SECONDS,
        )
        # TODO: paginate; fine below 100 lines a day, which is most days for now.
        return [
            PayoutLine(
                psp_payment_id=item["source"],
                gross=Money(item["amount"], currency),
                fee=Money(item["fee"], currency),
            )
            for item in data["data"]
            if item["type"] == "charge"
        ]
