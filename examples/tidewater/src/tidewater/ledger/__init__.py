"""The double-entry ledger. Append-only: see docs/adr/0001-keep-the-ledger-in-postgres.md."""

from __future__ import annotations

from tidewater.ledger.entries import Account, LedgerEntry, post_entries, reverse_entries

__all__ = ["Account", "LedgerEntry", "post_entries", "reverse_entries"]
