"""Invoices and their totals.

An invoice is drafted, issued (gets its number and becomes immutable), then paid, voided or
written off. Corrections to an issued invoice are credit notes, never edits.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

import psycopg

from tidewater.billing.tax import TaxRate, compute_tax
from tidewater.ledger.entries import Account, LedgerEntry, post_entries
from tidewater.money import Money, multiply


class InvoiceStatus(enum.StrEnum):
    DRAFT = "draft"
    ISSUED = "issued"
    PAID = "paid"
    VOID = "void"
    WRITTEN_OFF = "written_off"


class InvoiceError(Exception):
    """An invoice operation is not allowed in the invoice's current state."""


@dataclass(frozen=True)
class LineItem:
    description: str
    unit_price: Money
    quantity: Decimal = Decimal(1)

    @property
    def amount(self) -> Money:
        return multiply(self.unit_price, self.quantity)


@dataclass
class Invoice:
    id: int | None
    customer_id: int
    currency: str
    tax_rate: TaxRate
    lines: list[LineItem] = field(default_factory=list)
    number: str | None = None
    status: InvoiceStatus = InvoiceStatus.DRAFT
    issued_on: date | None = None
    payment_terms_days: int = 30
    discount: Money | None = None

    @property
    def due_on(self) -> date | None:
        if self.issued_on is None:
            return None
        return self.issued_on + timedelta(days=self.payment_terms_days)

    def add_line(self, line: LineItem) -> None:
        if self.status is not InvoiceStatus.DRAFT:
            raise InvoiceError(f"invoice {self.number} is {self.status}; lines are frozen")
        if line.unit_price.currency != self.currency:
            raise InvoiceError("line currency does not match the invoice currency")
        self.lines.append(line)


@dataclass(frozen=True)
class InvoiceTotals:
    subtotal: Money
    discount: Money
    tax: Money
    total: Money


def compute_invoice_total(invoice: Invoice) -> InvoiceTotals:
    """Subtotal, discount, tax and total of an invoice, all in integer cents.

    Tax is computed once on the discounted subtotal (not per line), rounded half-even.
    """
    subtotal = Money.zero(invoice.currency)
    for line in invoice.lines:
        subtotal = subtotal + line.amount
    discount = invoice.discount or Money.zero(invoice.currency)
    if discount.cents > subtotal.cents:
        raise InvoiceError("discount is larger than the subtotal")
    taxable = subtotal - discount
    tax = compute_tax(taxable, invoice.tax_rate)
    return InvoiceTotals(subtotal=subtotal, discount=discount, tax=tax, total=taxable + tax)


def next_invoice_number(conn: psycopg.Connection, year: int) -> str:
    """The next gap-free invoice number for ``year``, e.g. ``HL-2026-00042``.

    Numbers restart every year (a legal requirement in NL). The row lock on
    ``invoice_sequences`` keeps them gap-free under concurrency.
    """
    row = conn.execute(
        "UPDATE invoice_sequences SET last_value = last_value + 1 WHERE year = %s "
        "RETURNING last_value",
        (year,),
    ).fetchone()
    if row is None:
        conn.execute("INSERT INTO invoice_sequences (year, last_value) VALUES (%s, 1)", (year,))
        value = 1
    else:
        value = row["last_value"]
    return f"HL-{year}-{value:05d}"


def issue_invoice(conn: psycopg.Connection, invoice: Invoice, today: date) -> Invoice:
    """Give a draft its number, freeze it and post the receivable to the ledger."""
    if invoice.status is not InvoiceStatus.DRAFT:
        raise InvoiceError(f"only drafts can be issued (invoice is {invoice.status})")
    if not invoice.lines:
        raise InvoiceError("cannot issue an invoice without lines")
    totals = compute_invoice_total(invoice)
    with conn.transaction():
        invoice.number = next_invoice_number(conn, today.year)
        invoice.issued_on = today
        invoice.status = InvoiceStatus.ISSUED
        conn.execute(
            "UPDATE invoices SET number = %s, issued_on = %s, status = %s, total_cents = %s "
            "WHERE id = %s",
            (invoice.number, today, invoice.status.value, totals.total.cents, invoice.id),
        )
        post_entries(
            conn,
            [
                LedgerEntry.debit(Account.RECEIVABLES, totals.total, f"invoice:{invoice.number}"),
                LedgerEntry.credit(
                    Account.REVENUE, totals.subtotal - totals.discount, f"invoice:{invoice.number}"
                ),
                LedgerEntry.credit(Account.VAT_PAYABLE, totals.tax, f"invoice:{invoice.number}"),
            ],
        )
    return invoice


def mark_paid(conn: psycopg.Connection, invoice_id: int, payment_reference: str) -> None:
    """Mark an issued invoice as paid. The ledger side is posted by payments.events."""
    updated = conn.execute(
        "UPDATE invoices SET status = 'paid', payment_reference = %s "
        "WHERE id = %s AND status = 'issued'",
        (payment_reference, invoice_id),
    ).rowcount
    if updated != 1:
        raise InvoiceError(f"invoice {invoice_id} is not open; cannot mark it paid")


def load_invoice(conn: psycopg.Connection, invoice_id: int) -> Invoice:
    """Load one invoice with its lines. Raises InvoiceError if it does not exist."""
    # TODO(priya): this is two queries; fold the lines into a json_agg once the dashboard
    # detail page is the only caller.
    row = conn.execute("SELECT * FROM invoices WHERE id = %s", (invoice_id,)).fetchone()
    if row is None:
        raise InvoiceError(f"no invoice {invoice_id}")
    lines = conn.execute(
        "SELECT description, unit_price_cents, quantity FROM invoice_lines "
        "WHERE invoice_id = %s ORDER BY position",
        (invoice_id,),
    ).fetchall()
    currency = row["currency"]
    return Invoice(
        id=row["id"],
        customer_id=row["customer_id"],
        currency=currency,
        tax_rate=TaxRate(row["tax_country"], row["tax_basis_points"], row["reverse_charge"]),
        lines=[
            LineItem(r["description"], Money(r["unit_price_cents"], currency), r["quantity"])
            for r in lines
        ],
        number=row["number"],
        status=InvoiceStatus(row["status"]),
        issued_on=row["issued_on"],
        payment_terms_days=row["payment_terms_days"],
    )
