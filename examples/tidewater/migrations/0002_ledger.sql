-- 0002: the append-only ledger (ADR 0001). The app role may only INSERT and SELECT.
CREATE TABLE ledger_entries (
    id           bigserial PRIMARY KEY,
    account      text NOT NULL,
    direction    text NOT NULL CHECK (direction IN ('debit', 'credit')),
    amount_cents bigint NOT NULL CHECK (amount_cents > 0),
    currency     char(3) NOT NULL,
    reference    text NOT NULL,
    posted_at    timestamptz NOT NULL DEFAULT now(),
    reverses     bigint REFERENCES ledger_entries (id)
);
CREATE INDEX ledger_entries_reference_idx ON ledger_entries (reference);
CREATE INDEX ledger_entries_account_posted_idx ON ledger_entries (account, posted_at);

REVOKE UPDATE, DELETE, TRUNCATE ON ledger_entries FROM tidewater_app;

CREATE TABLE payments (
    psp_id         text PRIMARY KEY,
    invoice_id     bigint NOT NULL REFERENCES invoices (id),
    amount_cents   bigint NOT NULL,
    refunded_cents bigint NOT NULL DEFAULT 0,
    currency       char(3) NOT NULL
);

CREATE TABLE psp_events (
    id          text PRIMARY KEY,
    type        text NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE settlement_runs (
    payout_date       date NOT NULL,
    currency          char(3) NOT NULL,
    gross_cents       bigint NOT NULL,
    fee_cents         bigint NOT NULL,
    discrepancy_count int NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (payout_date, currency)
);

CREATE TABLE reconciliation_discrepancies (
    id             bigserial PRIMARY KEY,
    psp_payment_id text NOT NULL,
    expected_cents bigint,
    actual_cents   bigint,
    reason         text NOT NULL,
    resolved_at    timestamptz
);
