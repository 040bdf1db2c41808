-- Messages people expect (issue 16): edits, deletes, replies, reactions and mentions.
-- An edit reseals the body in place (no edit history is kept) and stamps `edited_at`; a
-- delete wipes the body to nothing and stamps `deleted_at`, leaving a tombstone that keeps
-- the room's order and what replies point at. `reply_to` is the sequence number of the
-- message answered, in the same room.
ALTER TABLE messages ADD COLUMN edited_at BIGINT;
ALTER TABLE messages ADD COLUMN deleted_at BIGINT;
ALTER TABLE messages ADD COLUMN reply_to BIGINT;
CREATE INDEX messages_by_edit ON messages (room_id, edited_at);

-- Reactions are metadata like the author: who reacted with which emoji to which message.
CREATE TABLE message_reactions (
    message_id BIGINT NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    emoji      TEXT   NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (message_id, user_id, emoji)
);

-- Who a message mentions (`user_id` 0: everyone in the room, `@here`/`@room`), so that unread
-- mentions can be counted above each member's read pointer without opening any body.
CREATE TABLE message_mentions (
    message_id BIGINT NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    room_id    BIGINT NOT NULL,
    seq        BIGINT NOT NULL,
    user_id    BIGINT NOT NULL,
    PRIMARY KEY (message_id, user_id)
);
CREATE INDEX message_mentions_by_user ON message_mentions (user_id, room_id, seq);
