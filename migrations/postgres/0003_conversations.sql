-- Private conversations ('pm') and ephemeral 1-on-1 rooms ('ephemeral') are rooms of another
-- kind: they share sequences, sealed history and ordering with persistent rooms.
ALTER TABLE rooms ADD COLUMN kind TEXT NOT NULL DEFAULT 'room';
-- Ephemeral rooms: when the activated room closes (none until the host activates it).
ALTER TABLE rooms ADD COLUMN expires_at BIGINT;
CREATE INDEX rooms_by_expiry ON rooms (expires_at);

-- Per member: the last message they have read, and whether they closed the conversation.
ALTER TABLE room_members ADD COLUMN last_read_seq BIGINT NOT NULL DEFAULT 0;
ALTER TABLE room_members ADD COLUMN hidden BIGINT NOT NULL DEFAULT 0;

-- A conversation someone opened with this user, waiting for them to accept it.
CREATE TABLE pm_invites (
    room_id    BIGINT NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (room_id, user_id)
);

-- The (at most two) devices an ephemeral room is locked to, and who uses each.
CREATE TABLE ephemeral_devices (
    room_id     BIGINT NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    device_hash TEXT   NOT NULL,
    principal   TEXT   NOT NULL,
    name        TEXT   NOT NULL,
    joined_at   BIGINT NOT NULL,
    PRIMARY KEY (room_id, device_hash)
);

-- Transcripts of expired ephemeral rooms, sealed with the room's data key, kept for audit.
CREATE TABLE archives (
    id          BIGSERIAL PRIMARY KEY,
    room_id     BIGINT NOT NULL UNIQUE,
    code        TEXT   NOT NULL,
    host_id     BIGINT NOT NULL,
    data_key_id BIGINT NOT NULL REFERENCES data_keys (id),
    messages    BIGINT NOT NULL,
    transcript  BYTEA  NOT NULL,
    created_at  BIGINT NOT NULL,
    expired_at  BIGINT NOT NULL
);
