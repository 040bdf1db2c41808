-- Accounts people manage themselves (issue 17).
-- Preferences: one small JSON document per account (see `domain::Preferences`); NULL: defaults.
ALTER TABLE users ADD COLUMN preferences TEXT;

-- Sessions the owner can tell apart and revoke: the browser that opened it and when it was
-- last used (refreshed at most every few minutes, not on every request).
ALTER TABLE sessions ADD COLUMN user_agent TEXT;
ALTER TABLE sessions ADD COLUMN last_seen_at BIGINT;

-- A name given up by a rename stays reserved for its former holder until `until`, so nobody
-- else can take it and pass for them; the holder may take it back meanwhile.
CREATE TABLE released_names (
    name_key   TEXT   PRIMARY KEY,
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    released_at BIGINT NOT NULL,
    until      BIGINT NOT NULL
);
CREATE INDEX released_names_by_user ON released_names (user_id);

-- The one preference others' requests are filtered by (`GET /api/online`), kept as a column
-- so that filtering reads no JSON: 1 when the account chose not to show as online.
ALTER TABLE users ADD COLUMN appear_offline BIGINT NOT NULL DEFAULT 0;
