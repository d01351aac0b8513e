"""Background jobs on a PostgreSQL-backed queue (ADR 0003). No Celery, no Redis."""
