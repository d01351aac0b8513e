from __future__ import annotations

from datetime import date

import pytest

from tidewater.ledger.reconcile import PayoutLine
from tidewater.money import Money
from tidewater.payments.settlement import run_settlement


@pytest.mark.db
def test_settlement_run_books_net_and_fees(conn, fake_psp):
    fake_psp.payouts[date(2026, 4, 2)] = [
        PayoutLine("pi_1", Money(10000), Money(175)),
        PayoutLine("pi_2", Money(2500), Money(63)),
    ]
    run = run_settlement(conn, fake_psp, date(2026, 4, 2))
    assert run is not None
    assert run.net == Money(12262)
    # Nothing was cleared for these payments in this test, so both are discrepancies.
    assert len(run.discrepancies) == 2


@pytest.mark.db
def test_settlement_run_is_idempotent(conn, fake_psp):
    assert run_settlement(conn, fake_psp, date(2026, 4, 3)) is not None
    assert run_settlement(conn, fake_psp, date(2026, 4, 3)) is None
