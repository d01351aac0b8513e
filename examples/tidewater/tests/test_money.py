from __future__ import annotations

from decimal import Decimal

import pytest

from tidewater.money import Money, MoneyError, allocate, format_money, multiply, parse_amount


def test_parse_amount_exact():
    assert parse_amount("1234.50") == Money(123450, "EUR")
    assert parse_amount("1,000") == Money(100000, "EUR")
    assert parse_amount("500", "JPY") == Money(500, "JPY")


def test_parse_amount_rejects_sub_cent_precision():
    with pytest.raises(MoneyError):
        parse_amount("1.005")


def test_money_refuses_float_cents():
    with pytest.raises(MoneyError):
        Money(10.5, "EUR")  # type: ignore[arg-type]


def test_cannot_mix_currencies():
    with pytest.raises(MoneyError):
        Money(100, "EUR") + Money(100, "GBP")


def test_allocate_sums_exactly():
    parts = allocate(Money(1000, "EUR"), [1, 1, 1])
    assert [p.cents for p in parts] == [334, 333, 333]
    assert sum(p.cents for p in parts) == 1000


def test_multiply_rounds_half_even():
    assert multiply(Money(250, "EUR"), Decimal("0.5")) == Money(125, "EUR")
    assert multiply(Money(5, "EUR"), Decimal("0.5")) == Money(2, "EUR")


def test_format_money():
    assert format_money(Money(123450, "EUR")) == "EUR 1,234.50"
