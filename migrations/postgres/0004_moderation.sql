-- Moderation: the verified badge, bans and mutes that outlive restarts, the audit log, and
-- ignore lists.
ALTER TABLE users ADD COLUMN verified BIGINT NOT NULL DEFAULT 0;

-- A ban (by name, by address, or both) or a mute (by name). Lifting one deletes its row; the
-- audit log keeps the history.
CREATE TABLE sanctions (
    id         BIGSERIAL PRIMARY KEY,
    kind       TEXT   NOT NULL,
    name_key   TEXT,
    ip         TEXT,
    reason     TEXT,
    created_by TEXT   NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT
);
CREATE INDEX sanctions_by_name ON sanctions (name_key);
CREATE INDEX sanctions_by_ip ON sanctions (ip);

-- Every message's metadata and every moderation and admin action. `identity` is who acted:
-- `user:<id>` or `guest:<public id>`.
CREATE TABLE audit_log (
    id       BIGSERIAL PRIMARY KEY,
    ts       BIGINT NOT NULL,
    actor    TEXT   NOT NULL,
    identity TEXT,
    actor_ip TEXT,
    action   TEXT   NOT NULL,
    target   TEXT,
    room     TEXT,
    detail   TEXT
);
CREATE INDEX audit_log_by_ts ON audit_log (ts);
CREATE INDEX audit_log_by_ip ON audit_log (actor_ip);
CREATE INDEX audit_log_by_identity ON audit_log (identity);

-- Whom each account ignores (by case-folded name), stealthily.
CREATE TABLE ignores (
    user_id     BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    ignored_key TEXT   NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (user_id, ignored_key)
);
