-- Persistent rooms, their members, invites and access requests; stored messages (sealed with
-- the room's data key); the data keys themselves, wrapped by the master key.
CREATE TABLE data_keys (
    id         BIGSERIAL PRIMARY KEY,
    kek_id     TEXT    NOT NULL,
    wrapped    BYTEA   NOT NULL,
    created_at BIGINT  NOT NULL
);
CREATE INDEX data_keys_by_kek ON data_keys (kek_id);

CREATE TABLE rooms (
    id              BIGSERIAL PRIMARY KEY,
    slug            TEXT    NOT NULL UNIQUE,
    name            TEXT    NOT NULL,
    topic           TEXT,
    private         BIGINT  NOT NULL,
    owner_id        BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    data_key_id     BIGINT  NOT NULL REFERENCES data_keys (id),
    allow_images    BIGINT  NOT NULL DEFAULT 1,
    allow_videos    BIGINT  NOT NULL DEFAULT 1,
    slow_mode_secs  BIGINT  NOT NULL DEFAULT 0,
    retention_days  BIGINT,
    last_seq        BIGINT  NOT NULL DEFAULT 0,
    created_at      BIGINT  NOT NULL
);

CREATE TABLE room_members (
    room_id   BIGINT NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    user_id   BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role      TEXT   NOT NULL,
    joined_at BIGINT NOT NULL,
    PRIMARY KEY (room_id, user_id)
);
CREATE INDEX room_members_by_user ON room_members (user_id);

CREATE TABLE room_bans (
    room_id    BIGINT NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    banned_by  BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (room_id, user_id)
);

CREATE TABLE messages (
    id            BIGSERIAL PRIMARY KEY,
    room_id       BIGINT  NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    seq           BIGINT  NOT NULL,
    author_id     BIGINT  NOT NULL,
    author_name   TEXT    NOT NULL,
    author_role   TEXT    NOT NULL,
    client_msg_id TEXT,
    body          BYTEA   NOT NULL,
    created_at    BIGINT  NOT NULL,
    UNIQUE (room_id, seq),
    UNIQUE (room_id, author_id, client_msg_id)
);
CREATE INDEX messages_by_time ON messages (room_id, created_at);

CREATE TABLE invites (
    id          BIGSERIAL PRIMARY KEY,
    room_id     BIGINT  NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    token_hash  TEXT    NOT NULL UNIQUE,
    created_by  BIGINT  NOT NULL,
    email_key   TEXT,
    max_uses    BIGINT,
    uses        BIGINT  NOT NULL DEFAULT 0,
    expires_at  BIGINT  NOT NULL,
    revoked     BIGINT  NOT NULL DEFAULT 0,
    created_at  BIGINT  NOT NULL
);
CREATE INDEX invites_by_room ON invites (room_id);

CREATE TABLE access_requests (
    room_id    BIGINT NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (room_id, user_id)
);
