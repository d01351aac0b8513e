from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from tidewater.billing.invoices import (
    Invoice,
    InvoiceError,
    InvoiceStatus,
    LineItem,
    compute_invoice_total,
    issue_invoice,
)
from tidewater.billing.tax import TaxRate, compute_tax, vat_for
from tidewater.money import Money

NL_VAT = TaxRate("NL", 2100)


def make_invoice(*lines: LineItem, discount: Money | None = None) -> Invoice:
    return Invoice(
        id=1, customer_id=7, currency="EUR", tax_rate=NL_VAT, lines=list(lines), discount=discount
    )


def test_compute_invoice_total_single_line():
    invoice = make_invoice(LineItem("Container haulage Rotterdam-Venlo", Money(85000)))
    totals = compute_invoice_total(invoice)
    assert totals.subtotal == Money(85000)
    assert totals.tax == Money(17850)
    assert totals.total == Money(102850)


def test_tax_is_rounded_once_per_invoice_not_per_line():
    # Three lines of 0.05 at 21 %: per-line rounding would give 3 cents of tax, not 3.15 -> 3.
    invoice = make_invoice(*(LineItem("Pallet label", Money(5)) for _ in range(3)))
    assert compute_invoice_total(invoice).tax == Money(3)


def test_discount_is_applied_before_tax():
    invoice = make_invoice(LineItem("Storage, 10 days", Money(10000)), discount=Money(1000))
    totals = compute_invoice_total(invoice)
    assert totals.tax == compute_tax(Money(9000), NL_VAT)
    assert totals.total == Money(10890)


def test_fractional_quantity():
    invoice = make_invoice(LineItem("Driver waiting time (hours)", Money(4500), Decimal("1.5")))
    assert compute_invoice_total(invoice).subtotal == Money(6750)


def test_reverse_charge_for_eu_b2b():
    rate = vat_for("DE", customer_vat_id="DE123456789")
    assert rate.reverse_charge and rate.basis_points == 0


def test_cannot_add_lines_to_issued_invoice():
    invoice = make_invoice(LineItem("Customs clearance", Money(12000)))
    invoice.status = InvoiceStatus.ISSUED
    with pytest.raises(InvoiceError):
        invoice.add_line(LineItem("Late fee", Money(4000)))


@pytest.mark.db
def test_issue_invoice_numbers_are_gap_free(conn):
    conn.execute(
        "INSERT INTO customers (id, name, country, billing_email, merchant_id) "
        "VALUES (7, 'Veldhoven Logistics', 'NL', 'ap@veldhoven.example', 1)"
    )
    numbers = []
    for invoice_id in (1, 2):
        conn.execute(
            "INSERT INTO invoices (id, customer_id, merchant_id, currency, tax_country, "
            "tax_basis_points) VALUES (%s, 7, 1, 'EUR', 'NL', 2100)",
            (invoice_id,),
        )
        invoice = make_invoice(LineItem("Haulage", Money(50000)))
        invoice.id = invoice_id
        numbers.append(issue_invoice(conn, invoice, date(2026, 1, 5)).number)
    assert numbers == ["HL-2026-00001", "HL-2026-00002"]
