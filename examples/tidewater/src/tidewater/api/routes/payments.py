"""Payment endpoints: start a card payment for an invoice, refund a payment."""

from __future__ import annotations

import psycopg
from fastapi import APIRouter, Depends, HTTPException
from pydantic import BaseModel, Field

from tidewater.api.deps import get_conn, require_csrf, require_role
from tidewater.auth.sessions import Session
from tidewater.billing.invoices import compute_invoice_total, load_invoice
from tidewater.money import Money
from tidewater.payments.psp import PspClient, PspError
from tidewater.payments.refunds import RefundError, refund_payment

router = APIRouter()


class RefundRequest(BaseModel):
    amount_cents: int = Field(gt=0)
    currency: str = "EUR"
    reason: str


@router.post("/invoices/{invoice_id}/intent")
def create_intent(
    invoice_id: int,
    conn: psycopg.Connection = Depends(get_conn),
    _: Session = Depends(require_csrf),
) -> dict[str, str | None]:
    invoice = load_invoice(conn, invoice_id)
    if invoice.number is None:
        raise HTTPException(409, "invoice is not issued yet")
    try:
        intent = PspClient().create_payment_intent(
            compute_invoice_total(invoice).total, invoice.number
        )
    except PspError as exc:
        raise HTTPException(502, f"payment provider error: {exc}") from exc
    return {"id": intent.id, "client_secret": intent.client_secret}


@router.post("/{payment_intent_id}/refund")
def refund(
    payment_intent_id: str,
    body: RefundRequest,
    conn: psycopg.Connection = Depends(get_conn),
    _: Session = Depends(require_role("finance")),
) -> dict[str, str]:
    try:
        refund_id = refund_payment(
            conn,
            PspClient(),
            payment_intent_id,
            Money(body.amount_cents, body.currency),
            body.reason,
        )
    except RefundError as exc:
        raise HTTPException(409, str(exc)) from exc
    except PspError as exc:
        raise HTTPException(502, f"payment provider error: {exc}") from exc
    return {"refund_id": refund_id}
