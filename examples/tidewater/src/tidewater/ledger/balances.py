"""Account balances, computed from the entries (there is no balance column to drift)."""

from __future__ import annotations

from datetime import datetime

import psycopg

from tidewater.ledger.entries import Account
from tidewater.money import Money


def account_balance(
    conn: psycopg.Connection, account: Account, currency: str, as_of: datetime | None = None
) -> Money:
    """Debits minus credits for ``account`` up to ``as_of`` (inclusive)."""
    row = conn.execute(
        "SELECT COALESCE(SUM(CASE direction WHEN 'debit' THEN amount_cents "
        "ELSE -amount_cents END), 0) AS cents FROM ledger_entries "
        "WHERE account = %s AND currency = %s "
        "AND (%s::timestamptz IS NULL OR posted_at <= %s)",
        (account.value, currency, as_of, as_of),
    ).fetchone()
    return Money(int(row["cents"]), currency)


def trial_balance(conn: psycopg.Connection, currency: str) -> dict[Account, Money]:
    """Every account's balance; the values sum to zero when the ledger is healthy."""
    return {account: account_balance(conn, account, currency) for account in Account}
