-- One row that `/health` rewrites: a real write, so a store that can no longer write (a full
-- disk, a read-only file) is reported instead of answering `SELECT 1` happily.
CREATE TABLE store_probe (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    checked_at BIGINT NOT NULL,
    -- Rewritten by each probe, so a probe writes more than a message does.
    ballast BYTEA
);
