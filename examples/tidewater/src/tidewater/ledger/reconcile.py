"""Reconciliation of a settlement run against the ledger.

After the PSP pays out, the payout lines must match the ``assets:psp_clearing`` entries we
posted when payments succeeded. Anything that does not match becomes a Discrepancy for
Priya's morning review; nothing is auto-corrected.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import psycopg

from tidewater.ledger.entries import Account
from tidewater.money import Money


@dataclass(frozen=True)
class PayoutLine:
    psp_payment_id: str
    gross: Money
    fee: Money


@dataclass(frozen=True)
class Discrepancy:
    psp_payment_id: str
    expected: Money | None
    actual: Money | None
    reason: str


def match_payout_lines(lines: Iterable[PayoutLine], cleared: dict[str, Money]) -> list[Discrepancy]:
    """Compare payout lines with the cleared amounts we recorded. Pure."""
    discrepancies: list[Discrepancy] = []
    seen: set[str] = set()
    for line in lines:
        seen.add(line.psp_payment_id)
        expected = cleared.get(line.psp_payment_id)
        if expected is None:
            discrepancies.append(
                Discrepancy(line.psp_payment_id, None, line.gross, "paid out but never cleared")
            )
        elif expected != line.gross:
            discrepancies.append(
                Discrepancy(line.psp_payment_id, expected, line.gross, "amount mismatch")
            )
    for payment_id, amount in cleared.items():
        if payment_id not in seen:
            discrepancies.append(Discrepancy(payment_id, amount, None, "cleared but not paid out"))
    return discrepancies


def cleared_amounts(conn: psycopg.Connection, payment_ids: list[str]) -> dict[str, Money]:
    rows = conn.execute(
        "SELECT reference, amount_cents, currency FROM ledger_entries "
        "WHERE account = %s AND direction = 'debit' AND reference = ANY(%s)",
        (Account.PSP_CLEARING.value, [f"payment:{p}" for p in payment_ids]),
    ).fetchall()
    return {
        r["reference"].removeprefix("payment:"): Money(r["amount_cents"], r["currency"])
        for r in rows
    }


def reconcile_settlement(conn: psycopg.Connection, lines: list[PayoutLine]) -> list[Discrepancy]:
    """Reconcile one payout against the ledger and store the discrepancies found."""
    cleared = cleared_amounts(conn, [line.psp_payment_id for line in lines])
    discrepancies = match_payout_lines(lines, cleared)
    for d in discrepancies:
        conn.execute(
            "INSERT INTO reconciliation_discrepancies (psp_payment_id, expected_cents, "
            "actual_cents, reason) VALUES (%s, %s, %s, %s)",
            (
                d.psp_payment_id,
                d.expected.cents if d.expected else None,
                d.actual.cents if d.actual else None,
                d.reason,
            ),
        )
    return discrepancies
