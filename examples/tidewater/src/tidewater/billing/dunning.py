"""Dunning: the reminder schedule for overdue invoices.

Each day the worker runs :func:`run_dunning`, which finds issued invoices past their due
date and enqueues the next reminder email in the schedule. Reminders are polite for the first
two steps; the final notice mentions the late-payment fee and is copied to the account
manager. Dana (the client) reviews the wording of every template before it changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import psycopg

from tidewater.jobs.queue import enqueue


@dataclass(frozen=True)
class DunningStep:
    days_overdue: int
    template: str
    cc_account_manager: bool = False


DEFAULT_SCHEDULE: tuple[DunningStep, ...] = (
    DunningStep(3, "dunning/friendly_reminder"),
    DunningStep(14, "dunning/second_reminder"),
    DunningStep(30, "dunning/final_notice", cc_account_manager=True),
)


@dataclass(frozen=True)
class OverdueInvoice:
    invoice_id: int
    number: str
    due_on: date
    reminders_sent: int


def next_step(
    invoice: OverdueInvoice, today: date, schedule: tuple[DunningStep, ...] = DEFAULT_SCHEDULE
) -> DunningStep | None:
    """The reminder due today for ``invoice``, or None. Pure: no I/O."""
    if invoice.reminders_sent >= len(schedule):
        return None
    step = schedule[invoice.reminders_sent]
    if (today - invoice.due_on).days >= step.days_overdue:
        return step
    return None


def find_overdue(conn: psycopg.Connection, today: date) -> list[OverdueInvoice]:
    rows = conn.execute(
        "SELECT id, number, issued_on + payment_terms_days AS due_on, reminders_sent "
        "FROM invoices WHERE status = 'issued' AND issued_on + payment_terms_days < %s "
        "AND NOT dunning_paused",
        (today,),
    ).fetchall()
    return [OverdueInvoice(r["id"], r["number"], r["due_on"], r["reminders_sent"]) for r in rows]


def run_dunning(conn: psycopg.Connection, today: date) -> int:
    """Enqueue today's reminder emails; returns how many were enqueued."""
    count = 0
    for invoice in find_overdue(conn, today):
        step = next_step(invoice, today)
        if step is None:
            continue
        with conn.transaction():
            enqueue(
                conn,
                "dunning.email",
                {
                    "invoice_id": invoice.invoice_id,
                    "template": step.template,
                    "cc_account_manager": step.cc_account_manager,
                },
                dedupe_key=f"dunning:{invoice.invoice_id}:{invoice.reminders_sent}",
            )
            conn.execute(
                "UPDATE invoices SET reminders_sent = reminders_sent + 1 WHERE id = %s",
                (invoice.invoice_id,),
            )
        count += 1
    return count
