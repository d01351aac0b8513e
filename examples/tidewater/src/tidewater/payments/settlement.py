"""The settlement run: book yesterday's PSP payout and reconcile it.

Runs once a day at 06:00 Europe/Amsterdam from the job queue (``settlement.run``), or by hand
with ``tidewater settle --date YYYY-MM-DD``. A run for a date that already settled is a no-op.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import psycopg

from tidewater.ledger.entries import Account, LedgerEntry, post_entries
from tidewater.ledger.reconcile import Discrepancy, reconcile_settlement
from tidewater.money import Money
from tidewater.payments.psp import PspClient


@dataclass(frozen=True)
class SettlementRun:
    payout_date: date
    currency: str
    gross: Money
    fees: Money
    discrepancies: tuple[Discrepancy, ...]

    @property
    def net(self) -> Money:
        return self.gross - self.fees


def run_settlement(
    conn: psycopg.Connection, psp: PspClient, payout_date: date, currency: str = "EUR"
) -> SettlementRun | None:
    """Book the payout for ``payout_date``; None if that date was already settled."""
    already = conn.execute(
        "SELECT 1 FROM settlement_runs WHERE payout_date = %s AND currency = %s",
        (payout_date, currency),
    ).fetchone()
    if already:
        return None
    lines = psp.list_payout_lines(payout_date, currency)
    gross = sum((line.gross for line in lines), Money.zero(currency))
    fees = sum((line.fee for line in lines), Money.zero(currency))
    reference = f"settlement:{payout_date.isoformat()}:{currency}"
    with conn.transaction():
        post_entries(
            conn,
            [
                LedgerEntry.debit(Account.BANK, gross - fees, reference),
                LedgerEntry.debit(Account.PSP_FEES, fees, reference),
                LedgerEntry.credit(Account.PSP_CLEARING, gross, reference),
            ],
        )
        discrepancies = reconcile_settlement(conn, lines)
        conn.execute(
            "INSERT INTO settlement_runs (payout_date, currency, gross_cents, fee_cents, "
            "discrepancy_count) VALUES (%s, %s, %s, %s, %s)",
            (payout_date, currency, gross.cents, fees.cents, len(discrepancies)),
        )
    return SettlementRun(payout_date, currency, gross, fees, tuple(discrepancies))
