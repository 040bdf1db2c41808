-- Identities: registered accounts, guests, and the sessions that stand for either.
CREATE TABLE users (
    id            BIGSERIAL PRIMARY KEY,
    name          TEXT    NOT NULL,
    name_key      TEXT    NOT NULL UNIQUE,
    email         TEXT,
    email_key     TEXT    UNIQUE,
    password_hash TEXT,
    key_hash      TEXT    UNIQUE,
    role          TEXT    NOT NULL DEFAULT 'user',
    created_at    BIGINT  NOT NULL
);

CREATE TABLE guests (
    id           BIGSERIAL PRIMARY KEY,
    public_id    TEXT    NOT NULL UNIQUE,
    nick         TEXT    NOT NULL,
    ip           TEXT    NOT NULL,
    created_at   BIGINT  NOT NULL,
    last_seen_at BIGINT  NOT NULL
);
CREATE INDEX guests_by_ip ON guests (ip, last_seen_at);

CREATE TABLE sessions (
    token_hash TEXT    PRIMARY KEY,
    user_id    BIGINT  REFERENCES users (id) ON DELETE CASCADE,
    guest_id   BIGINT  REFERENCES guests (id) ON DELETE CASCADE,
    ip         TEXT    NOT NULL,
    created_at BIGINT  NOT NULL,
    expires_at BIGINT  NOT NULL,
    CHECK ((user_id IS NULL) <> (guest_id IS NULL))
);
CREATE INDEX sessions_by_user ON sessions (user_id);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);
