"""Transactional email through the email provider's HTTP API.

Templates live in ``notifications/templates``; the dunning ones are reviewed by Dana before any
wording change ships.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg

from tidewater import http_client
from tidewater.billing.invoices import compute_invoice_total, load_invoice
from tidewater.money import format_money
from tidewater.settings import get_settings

EMAIL_TIMEOUT_SECONDS = 10.0
FROM_ADDRESS = "billing@harbourline.example"


@dataclass(frozen=True)
class Email:
    to: str
    subject: str
    text: str
    cc: tuple[str, ...] = ()


def send_email(email: Email) -> None:
    settings = get_settings()
    http_client.request(
        "POST",
        f"{settings.email_api_url}/email",
        json={
            "From": FROM_ADDRESS,
            "To": email.to,
            "Cc": ",".join(email.cc),
            "Subject": email.subject,
            "TextBody": email.text,
        },
        headers={"X-Postmark-Server-Token": settings.email_api_token},
        timeout=EMAIL_TIMEOUT_SECONDS,
    )


def send_dunning_email(
    conn: psycopg.Connection, invoice_id: int, template: str, *, cc_account_manager: bool
) -> None:
    invoice = load_invoice(conn, invoice_id)
    contact = conn.execute(
        "SELECT billing_email, account_manager_email FROM customers WHERE id = %s",
        (invoice.customer_id,),
    ).fetchone()
    total = format_money(compute_invoice_total(invoice).total)
    subject = {
        "dunning/friendly_reminder": f"Reminder: invoice {invoice.number} ({total})",
        "dunning/second_reminder": f"Second reminder: invoice {invoice.number} is overdue",
        "dunning/final_notice": f"Final notice: invoice {invoice.number}",
    }[template]
    cc = (contact["account_manager_email"],) if cc_account_manager else ()
    # TODO: render the body from the Jinja template instead of this placeholder.
    text = f"Invoice {invoice.number} for {total} was due on {invoice.due_on}."
    send_email(Email(contact["billing_email"], subject, text, cc))
