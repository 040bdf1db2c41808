-- The AI companion (issue 15): the bot account, what it remembers of each user, and how many
-- of their free messages each user has spent.
--
-- `bot` marks the companion's account: it has no password or key (nobody signs in as it) and
-- is shown with a bot badge.
ALTER TABLE users ADD COLUMN bot BIGINT NOT NULL DEFAULT 0;

-- The companion's memory of one user: their turns and its replies, oldest first by `seq`.
-- `body` is sealed with the data key of the user's conversation with the bot (the associated
-- data names the user and the turn), so the database never holds the text in the clear.
-- Deleting the account forgets it.
CREATE TABLE ai_memory (
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    seq        BIGINT NOT NULL,
    speaker    TEXT   NOT NULL,
    body       BYTEA  NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, seq)
);

-- Free messages spent, per user, so the trial survives restarts.
CREATE TABLE ai_usage (
    user_id BIGINT NOT NULL PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    used    BIGINT NOT NULL DEFAULT 0
);
