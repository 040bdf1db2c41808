-- End-to-end rooms (issue 18, see docs/e2ee.md). A room chooses at creation whether its
-- messages are end-to-end (`e2e`, never changed afterwards); such a room has a current epoch
-- that grows whenever a member leaves, is removed or banned. Each epoch's room key is made in a
-- member's browser and kept here only sealed to each member's agreement key, with the signature
-- of the member who sealed it: the server cannot open any of them.
ALTER TABLE rooms ADD COLUMN e2e BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rooms ADD COLUMN e2e_epoch BIGINT NOT NULL DEFAULT 0;

CREATE TABLE room_epoch_keys (
    room_id      BIGINT NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    epoch        BIGINT NOT NULL,
    user_id      BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    sealed       TEXT   NOT NULL,
    sealed_by_id BIGINT REFERENCES users (id) ON DELETE SET NULL,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (room_id, epoch, user_id)
);
CREATE INDEX room_epoch_keys_user ON room_epoch_keys (user_id);
