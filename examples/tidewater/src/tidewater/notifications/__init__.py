"""Outbound email (transactional, via the Postmark HTTP API)."""
