"""tidewater: invoicing, payments and a double-entry ledger for Harbourline Freight."""

from __future__ import annotations

__version__ = "0.7.2"
