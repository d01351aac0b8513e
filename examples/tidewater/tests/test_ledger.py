from __future__ import annotations

import psycopg
import pytest

from tidewater.ledger.balances import trial_balance
from tidewater.ledger.entries import (
    Account,
    LedgerEntry,
    UnbalancedEntriesError,
    check_balanced,
    entries_for_reference,
    post_entries,
    reverse_entries,
)
from tidewater.ledger.reconcile import PayoutLine, match_payout_lines
from tidewater.money import Money


def test_balanced_entries_pass():
    check_balanced(
        [
            LedgerEntry.debit(Account.RECEIVABLES, Money(12100), "invoice:HL-2026-00001"),
            LedgerEntry.credit(Account.REVENUE, Money(10000), "invoice:HL-2026-00001"),
            LedgerEntry.credit(Account.VAT_PAYABLE, Money(2100), "invoice:HL-2026-00001"),
        ]
    )


def test_unbalanced_entries_are_refused():
    with pytest.raises(UnbalancedEntriesError):
        check_balanced(
            [
                LedgerEntry.debit(Account.RECEIVABLES, Money(100), "x"),
                LedgerEntry.credit(Account.REVENUE, Money(99), "x"),
            ]
        )


def test_match_payout_lines_reports_each_kind_of_mismatch():
    cleared = {"pi_1": Money(5000), "pi_2": Money(7000), "pi_3": Money(100)}
    lines = [
        PayoutLine("pi_1", Money(5000), Money(90)),
        PayoutLine("pi_2", Money(6999), Money(110)),
        PayoutLine("pi_9", Money(300), Money(5)),
    ]
    reasons = {d.psp_payment_id: d.reason for d in match_payout_lines(lines, cleared)}
    assert reasons == {
        "pi_2": "amount mismatch",
        "pi_9": "paid out but never cleared",
        "pi_3": "cleared but not paid out",
    }


@pytest.mark.db
def test_reversal_restores_the_trial_balance(conn):
    posted = post_entries(
        conn,
        [
            LedgerEntry.debit(Account.PSP_CLEARING, Money(5000), "payment:pi_1"),
            LedgerEntry.credit(Account.RECEIVABLES, Money(5000), "payment:pi_1"),
        ],
    )
    reverse_entries(conn, posted, "duplicate webhook")
    assert all(m.is_zero() for m in trial_balance(conn, "EUR").values())
    assert len(entries_for_reference(conn, "payment:pi_1")) == 2


@pytest.mark.db
def test_ledger_rows_cannot_be_updated(conn):
    # FIXME: flaky on CI when the pytest-postgresql template is reused between workers; the
    # REVOKE in 0002 does not apply to the superuser the fixture connects as. See the
    # known-flaky note in .kenning/memories/note/.
    conn.execute("SET ROLE tidewater_app")
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("UPDATE ledger_entries SET amount_cents = 1")
