"""Invoice endpoints used by the dashboard."""

from __future__ import annotations

from datetime import date

import psycopg
from fastapi import APIRouter, Depends, HTTPException, Query, Response
from pydantic import BaseModel

from tidewater.api.deps import get_conn, require_csrf, require_role
from tidewater.auth.sessions import Session
from tidewater.billing.invoices import (
    InvoiceError,
    compute_invoice_total,
    issue_invoice,
    load_invoice,
)
from tidewater.billing.pdf import render_invoice_pdf

router = APIRouter()


class InvoiceSummary(BaseModel):
    id: int
    number: str | None
    customer_name: str
    status: str
    total_cents: int
    currency: str
    due_on: date | None


class InvoiceDetail(InvoiceSummary):
    subtotal_cents: int
    tax_cents: int
    tax_label: str


@router.get("")
def list_invoices(
    status: str | None = Query(default=None),
    limit: int = Query(default=50, le=200),
    conn: psycopg.Connection = Depends(get_conn),
    _: Session = Depends(require_role("billing")),
) -> list[InvoiceSummary]:
    rows = conn.execute(
        "SELECT i.id, i.number, c.name AS customer_name, i.status, i.total_cents, i.currency, "
        "i.issued_on + i.payment_terms_days AS due_on FROM invoices i "
        "JOIN customers c ON c.id = i.customer_id "
        "WHERE (%s::text IS NULL OR i.status = %s) ORDER BY i.id DESC LIMIT %s",
        (status, status, limit),
    ).fetchall()
    return [InvoiceSummary(**r) for r in rows]


@router.get("/{invoice_id}")
def get_invoice(
    invoice_id: int,
    conn: psycopg.Connection = Depends(get_conn),
    _: Session = Depends(require_role("billing")),
) -> InvoiceDetail:
    try:
        invoice = load_invoice(conn, invoice_id)
    except InvoiceError as exc:
        raise HTTPException(404, str(exc)) from exc
    totals = compute_invoice_total(invoice)
    name = conn.execute(
        "SELECT name FROM customers WHERE id = %s", (invoice.customer_id,)
    ).fetchone()["name"]
    return InvoiceDetail(
        id=invoice_id,
        number=invoice.number,
        customer_name=name,
        status=invoice.status.value,
        total_cents=totals.total.cents,
        currency=invoice.currency,
        due_on=invoice.due_on,
        subtotal_cents=totals.subtotal.cents,
        tax_cents=totals.tax.cents,
        tax_label=invoice.tax_rate.label,
    )


@router.post("/{invoice_id}/issue")
def issue(
    invoice_id: int,
    conn: psycopg.Connection = Depends(get_conn),
    _: Session = Depends(require_csrf),
) -> dict[str, str]:
    invoice = load_invoice(conn, invoice_id)
    try:
        issued = issue_invoice(conn, invoice, date.today())
    except InvoiceError as exc:
        raise HTTPException(409, str(exc)) from exc
    return {"number": issued.number or ""}


@router.get("/{invoice_id}/pdf")
def invoice_pdf(
    invoice_id: int,
    conn: psycopg.Connection = Depends(get_conn),
    _: Session = Depends(require_role("billing")),
) -> Response:
    pdf = render_invoice_pdf(load_invoice(conn, invoice_id))
    return Response(pdf, media_type="application/pdf")
