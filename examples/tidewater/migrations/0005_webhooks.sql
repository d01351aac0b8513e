-- 0005: outbound merchant webhooks, their delivery log and the dead-letter table.
CREATE TABLE webhook_endpoints (
    id          bigserial PRIMARY KEY,
    merchant_id bigint NOT NULL,
    url         text NOT NULL,
    secret      text NOT NULL,
    active      boolean NOT NULL DEFAULT true
);

CREATE TABLE webhook_events (
    id         text PRIMARY KEY DEFAULT 'evt_' || replace(gen_random_uuid()::text, '-', ''),
    type       text NOT NULL,
    data       jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE webhook_deliveries (
    id          bigserial PRIMARY KEY,
    event_id    text NOT NULL REFERENCES webhook_events (id),
    endpoint_id bigint NOT NULL REFERENCES webhook_endpoints (id),
    attempt     int NOT NULL,
    ok          boolean NOT NULL,
    status_code int,
    error       text,
    at          timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE webhook_dead_letters (
    event_id    text NOT NULL REFERENCES webhook_events (id),
    endpoint_id bigint NOT NULL REFERENCES webhook_endpoints (id),
    attempts    int NOT NULL,
    reason      text NOT NULL,
    at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (event_id, endpoint_id)
);
