-- Access requests are kept by the address the requester typed, not by room: a request for a
-- private room and one for an address no room holds are stored, listed and expire the same
-- way, so the requester's own view reveals nothing. `dismissed`: denied by the room's owner or
-- an admin; hidden from them, still pending for the requester until it expires.
CREATE TABLE access_requests_by_slug (
    slug       TEXT   NOT NULL,
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    dismissed  BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (slug, user_id)
);
-- Requests pending today keep their place, and expire 7 days after they were made.
INSERT INTO access_requests_by_slug (slug, user_id, created_at, expires_at)
    SELECT r.slug, q.user_id, q.created_at, q.created_at + 604800000
    FROM access_requests q JOIN rooms r ON r.id = q.room_id;
DROP TABLE access_requests;
ALTER TABLE access_requests_by_slug RENAME TO access_requests;
CREATE INDEX access_requests_by_user ON access_requests (user_id);
CREATE INDEX access_requests_by_expiry ON access_requests (expires_at);
