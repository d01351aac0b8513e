"""Ledger entries and posting.

Every money movement is a balanced set of ledger entries written in one transaction. Entries
are never updated or deleted: a mistake is corrected with reversing entries
(:func:`reverse_entries`). The ``ledger_entries`` table has no UPDATE/DELETE grant for the
application role.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import psycopg

from tidewater.money import Money


class Account(enum.StrEnum):
    RECEIVABLES = "assets:receivables"
    PSP_CLEARING = "assets:psp_clearing"
    BANK = "assets:bank"
    REVENUE = "income:freight"
    VAT_PAYABLE = "liabilities:vat_payable"
    REFUNDS = "expenses:refunds"
    PSP_FEES = "expenses:psp_fees"
    BAD_DEBT = "expenses:bad_debt"


class Direction(enum.StrEnum):
    DEBIT = "debit"
    CREDIT = "credit"


class UnbalancedEntriesError(ValueError):
    """Debits and credits of a posting do not sum to the same amount."""


@dataclass(frozen=True)
class LedgerEntry:
    account: Account
    direction: Direction
    amount: Money
    reference: str
    id: int | None = None
    posted_at: datetime | None = None
    reverses: int | None = None

    @classmethod
    def debit(cls, account: Account, amount: Money, reference: str) -> LedgerEntry:
        return cls(account, Direction.DEBIT, amount, reference)

    @classmethod
    def credit(cls, account: Account, amount: Money, reference: str) -> LedgerEntry:
        return cls(account, Direction.CREDIT, amount, reference)

    @property
    def signed_cents(self) -> int:
        return self.amount.cents if self.direction is Direction.DEBIT else -self.amount.cents


def check_balanced(entries: Sequence[LedgerEntry]) -> None:
    """Raise UnbalancedEntriesError unless debits equal credits per currency."""
    totals: dict[str, int] = {}
    for entry in entries:
        if entry.amount.cents < 0:
            raise UnbalancedEntriesError("ledger amounts are positive; use the direction")
        totals[entry.amount.currency] = totals.get(entry.amount.currency, 0) + entry.signed_cents
    unbalanced = {cur: cents for cur, cents in totals.items() if cents != 0}
    if unbalanced:
        raise UnbalancedEntriesError(f"entries do not balance: {unbalanced}")


def post_entries(conn: psycopg.Connection, entries: Sequence[LedgerEntry]) -> list[LedgerEntry]:
    """Insert a balanced set of entries in the caller's transaction; return them with ids."""
    check_balanced(entries)
    now = datetime.now(UTC)
    posted: list[LedgerEntry] = []
    for entry in entries:
        if entry.amount.is_zero():
            continue
        row = conn.execute(
            "INSERT INTO ledger_entries (account, direction, amount_cents, currency, reference, "
            "posted_at, reverses) VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING id",
            (
                entry.account.value,
                entry.direction.value,
                entry.amount.cents,
                entry.amount.currency,
                entry.reference,
                now,
                entry.reverses,
            ),
        ).fetchone()
        posted.append(replace(entry, id=row["id"], posted_at=now))
    return posted


def reverse_entries(
    conn: psycopg.Connection, entries: Sequence[LedgerEntry], reason: str
) -> list[LedgerEntry]:
    """Post the mirror image of ``entries`` (debits become credits) with a reason."""
    mirrored = [
        LedgerEntry(
            account=e.account,
            direction=Direction.CREDIT if e.direction is Direction.DEBIT else Direction.DEBIT,
            amount=e.amount,
            reference=f"reversal:{reason}:{e.reference}",
            reverses=e.id,
        )
        for e in entries
    ]
    return post_entries(conn, mirrored)


def entries_for_reference(conn: psycopg.Connection, reference: str) -> list[LedgerEntry]:
    rows = conn.execute(
        "SELECT * FROM ledger_entries WHERE reference = %s ORDER BY id", (reference,)
    ).fetchall()
    return [
        LedgerEntry(
            account=Account(r["account"]),
            direction=Direction(r["direction"]),
            amount=Money(r["amount_cents"], r["currency"]),
            reference=r["reference"],
            id=r["id"],
            posted_at=r["posted_at"],
            reverses=r["reverses"],
        )
        for r in rows
    ]
