"""Shared fixtures.

Tests never reach the network: the PSP is the in-process FakePsp below, and outbound HTTP is
intercepted with respx. Tests marked ``db`` get a throwaway PostgreSQL database from
pytest-postgresql with all migrations applied.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import psycopg
import pytest
import respx
from psycopg.rows import dict_row

from tidewater.ledger.reconcile import PayoutLine
from tidewater.money import Money
from tidewater.payments.psp import PaymentIntent
from tidewater.settings import get_settings

MIGRATIONS = Path(__file__).parent.parent / "migrations"


@pytest.fixture(autouse=True)
def _settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TIDEWATER_DATABASE_URL", "postgresql://localhost/tidewater_test")
    monkeypatch.setenv("TIDEWATER_PSP_BASE_URL", "https://psp.test")
    monkeypatch.setenv("TIDEWATER_WEBHOOK_SIGNING_SECRET", "whsec_test_only")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture(autouse=True)
def _no_network() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as router:
        yield router


@pytest.fixture
def conn(postgresql: psycopg.Connection) -> Iterator[psycopg.Connection]:
    postgresql.row_factory = dict_row
    postgresql.execute("CREATE ROLE tidewater_app")
    for path in sorted(MIGRATIONS.glob("*.sql")):
        postgresql.execute(path.read_text())
    yield postgresql


class FakePsp:
    """An in-memory PSP with the same methods as PspClient."""

    def __init__(self) -> None:
        self.intents: dict[str, PaymentIntent] = {}
        self.refunds: list[tuple[str, Money, str]] = []
        self.payouts: dict[date, list[PayoutLine]] = {}

    def create_payment_intent(self, amount: Money, invoice_number: str) -> PaymentIntent:
        intent = PaymentIntent(
            f"pi_{len(self.intents) + 1}",
            amount,
            "requires_payment_method",
            invoice_number,
            "secret_fake",
        )
        self.intents[intent.id] = intent
        return intent

    def refund(self, payment_intent_id: str, amount: Money, reason: str) -> str:
        self.refunds.append((payment_intent_id, amount, reason))
        return f"re_{len(self.refunds)}"

    def list_payout_lines(self, payout_date: date, currency: str) -> list[PayoutLine]:
        return self.payouts.get(payout_date, [])


@pytest.fixture
def fake_psp() -> FakePsp:
    return FakePsp()
