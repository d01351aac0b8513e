"""The HTTP API (FastAPI): the dashboard's JSON API and the PSP webhook endpoint."""
