"""Dashboard sessions and API tokens."""
