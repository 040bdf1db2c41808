-- Premium accounts and the payments that grant them (issue 15).
--
-- `premium_until` is when an account's premium ends, in UTC milliseconds; NULL means it has
-- none (never had it, or it was revoked). Premium granted "forever" is stored as the last
-- millisecond of the year 9999 (253402300799999), so "active" is one comparison everywhere
-- (`premium_until > now`) and the value still reads as a date in every client.
ALTER TABLE users ADD COLUMN premium_until BIGINT;

-- Every payment event the webhook (or the simple form) accepted as authentic, once per
-- provider event id: a replayed or retried event finds its row and grants nothing twice.
-- `user_id` is the account it named (NULL when no account had that name or id; the name as
-- sent stays in `account`), `outcome` what became of it (`granted`, `unknown_account`,
-- `ignored`).
CREATE TABLE payment_events (
    event_id    TEXT    PRIMARY KEY,
    user_id     BIGINT  REFERENCES users (id) ON DELETE SET NULL,
    account     TEXT    NOT NULL,
    outcome     TEXT    NOT NULL,
    received_at BIGINT  NOT NULL
);
CREATE INDEX payment_events_by_user ON payment_events (user_id);
