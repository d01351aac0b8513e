"""Refunds: call the PSP, then post the reversing ledger entries."""

from __future__ import annotations

import psycopg

from tidewater.ledger.entries import Account, LedgerEntry, post_entries
from tidewater.money import Money
from tidewater.payments.psp import PspClient


class RefundError(Exception):
    pass


def refund_payment(
    conn: psycopg.Connection, psp: PspClient, payment_intent_id: str, amount: Money, reason: str
) -> str:
    """Refund ``amount`` of a captured payment; returns the PSP refund id.

    The PSP call happens first; if it fails nothing is posted. Partial refunds are allowed up
    to the amount captured minus earlier refunds.
    """
    row = conn.execute(
        "SELECT amount_cents, refunded_cents, currency FROM payments WHERE psp_id = %s",
        (payment_intent_id,),
    ).fetchone()
    if row is None:
        raise RefundError(f"unknown payment {payment_intent_id}")
    if amount.currency != row["currency"]:
        raise RefundError("refund currency differs from the payment currency")
    refundable = row["amount_cents"] - row["refunded_cents"]
    if amount.cents <= 0 or amount.cents > refundable:
        raise RefundError(f"can refund at most {refundable} cents")
    refund_id = psp.refund(payment_intent_id, amount, reason)
    with conn.transaction():
        conn.execute(
            "UPDATE payments SET refunded_cents = refunded_cents + %s WHERE psp_id = %s",
            (amount.cents, payment_intent_id),
        )
        post_entries(
            conn,
            [
                LedgerEntry.debit(Account.REFUNDS, amount, f"refund:{refund_id}"),
                LedgerEntry.credit(Account.PSP_CLEARING, amount, f"refund:{refund_id}"),
            ],
        )
    return refund_id
