"""Billing: invoices, tax, dunning and invoice PDFs."""

from __future__ import annotations

from tidewater.billing.invoices import Invoice, InvoiceStatus, LineItem, compute_invoice_total

__all__ = ["Invoice", "InvoiceStatus", "LineItem", "compute_invoice_total"]
