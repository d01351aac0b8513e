from __future__ import annotations

from datetime import date

from tidewater.billing.dunning import DEFAULT_SCHEDULE, OverdueInvoice, next_step


def overdue(reminders_sent: int, due_on: date = date(2026, 3, 1)) -> OverdueInvoice:
    return OverdueInvoice(1, "HL-2026-00017", due_on, reminders_sent)


def test_no_reminder_before_three_days():
    assert next_step(overdue(0), date(2026, 3, 3)) is None


def test_first_reminder_is_friendly():
    assert next_step(overdue(0), date(2026, 3, 4)) == DEFAULT_SCHEDULE[0]


def test_final_notice_copies_account_manager():
    step = next_step(overdue(2), date(2026, 3, 31))
    assert step is not None and step.cc_account_manager


def test_schedule_exhausted():
    assert next_step(overdue(3), date(2026, 6, 1)) is None
