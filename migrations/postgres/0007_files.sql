-- Uploaded files: metadata only (the bytes are sealed in the object store under the id).
-- A file is uploaded for one room (NULL: the lobby), sealed with data_key_id (the room's key;
-- a lobby file has a key of its own, destroyed with it), and pending (message_id NULL,
-- attached 0) until a message takes it. No foreign keys: when a room, a message or an
-- account goes, the rows stay until the sweep has deleted their objects, then go too.
CREATE TABLE files (
    id            TEXT    PRIMARY KEY,
    room_id       BIGINT,
    data_key_id   BIGINT  NOT NULL,
    uploader_id   BIGINT  NOT NULL,
    uploader_name TEXT    NOT NULL,
    uploader_ip   TEXT    NOT NULL,
    name          TEXT    NOT NULL,
    size          BIGINT  NOT NULL,
    mime          TEXT    NOT NULL,
    kind          TEXT    NOT NULL,
    width         BIGINT,
    height        BIGINT,
    duration_ms   BIGINT,
    digest        TEXT    NOT NULL,
    thumbnail     TEXT,
    attached      BIGINT  NOT NULL DEFAULT 0,
    -- Set when its uploader's account is deleted: the sweep removes it whatever holds it.
    doomed        BIGINT  NOT NULL DEFAULT 0,
    message_id    BIGINT,
    -- Its place among the message's attachments, as the sender listed them.
    position      BIGINT  NOT NULL DEFAULT 0,
    created_at    BIGINT  NOT NULL
);
CREATE INDEX files_by_message ON files (message_id);
CREATE INDEX files_by_room ON files (room_id, created_at);
CREATE INDEX files_by_uploader ON files (uploader_id, created_at);

-- Room media policy: beside images and videos, audio and any other file.
ALTER TABLE rooms ADD COLUMN allow_audio BIGINT NOT NULL DEFAULT 1;
ALTER TABLE rooms ADD COLUMN allow_files BIGINT NOT NULL DEFAULT 1;
