-- 0001: customers, invoices and their lines. Amounts are integer cents, never numeric/float.
CREATE TABLE customers (
    id                    bigserial PRIMARY KEY,
    name                  text NOT NULL,
    country               char(2) NOT NULL,
    vat_id                text,
    billing_email         text NOT NULL,
    account_manager_email text,
    merchant_id           bigint NOT NULL
);

CREATE TABLE invoice_sequences (
    year       int PRIMARY KEY,
    last_value int NOT NULL
);

CREATE TABLE invoices (
    id                 bigserial PRIMARY KEY,
    customer_id        bigint NOT NULL REFERENCES customers (id),
    merchant_id        bigint NOT NULL,
    number             text UNIQUE,
    status             text NOT NULL DEFAULT 'draft'
                       CHECK (status IN ('draft', 'issued', 'paid', 'void', 'written_off')),
    currency           char(3) NOT NULL,
    tax_country        char(2) NOT NULL,
    tax_basis_points   int NOT NULL,
    reverse_charge     boolean NOT NULL DEFAULT false,
    total_cents        bigint,
    issued_on          date,
    payment_terms_days int NOT NULL DEFAULT 30,
    payment_reference  text,
    reminders_sent     int NOT NULL DEFAULT 0,
    dunning_paused     boolean NOT NULL DEFAULT false
);

CREATE TABLE invoice_lines (
    invoice_id       bigint NOT NULL REFERENCES invoices (id) ON DELETE CASCADE,
    position         int NOT NULL,
    description      text NOT NULL,
    unit_price_cents bigint NOT NULL,
    quantity         numeric(12, 3) NOT NULL DEFAULT 1,
    PRIMARY KEY (invoice_id, position)
);
