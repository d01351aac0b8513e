-- 0003: the PostgreSQL-backed job queue that replaced Celery (ADR 0003).
CREATE TABLE jobs (
    id         bigserial PRIMARY KEY,
    kind       text NOT NULL,
    payload    jsonb NOT NULL,
    run_at     timestamptz NOT NULL DEFAULT now(),
    attempts   int NOT NULL DEFAULT 0,
    locked_by  text,
    locked_at  timestamptz,
    done_at    timestamptz,
    failed     boolean NOT NULL DEFAULT false,
    last_error text,
    dedupe_key text UNIQUE
);
-- The claim query scans runnable jobs by kind and run_at.
CREATE INDEX jobs_runnable_idx ON jobs (kind, run_at) WHERE done_at IS NULL;
