-- 0004: dashboard sessions and merchant API tokens (decision sessions-in-postgres-not-redis).
CREATE TABLE users (
    id            bigserial PRIMARY KEY,
    email         text NOT NULL UNIQUE,
    password_hash text NOT NULL,
    role          text NOT NULL DEFAULT 'billing'
);

CREATE TABLE sessions (
    id_hash    text PRIMARY KEY,
    user_id    bigint NOT NULL REFERENCES users (id),
    role       text NOT NULL,
    csrf_token text NOT NULL,
    expires_at timestamptz NOT NULL,
    revoked_at timestamptz
);
CREATE INDEX sessions_expires_idx ON sessions (expires_at);

CREATE TABLE api_tokens (
    id          bigserial PRIMARY KEY,
    merchant_id bigint NOT NULL,
    prefix      text NOT NULL UNIQUE,
    salt        bytea NOT NULL,
    secret_hash bytea NOT NULL,
    scopes      text[] NOT NULL,
    revoked_at  timestamptz
);
