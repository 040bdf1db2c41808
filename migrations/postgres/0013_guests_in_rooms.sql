-- Guests in rooms (issue 16). A public room may admit guests (`allow_guests`), and a guest may
-- host an ephemeral room: a room's owner is then a guest (`host_guest_id`) rather than an
-- account (`owner_id`), exactly one of the two.
ALTER TABLE rooms ALTER COLUMN owner_id DROP NOT NULL;
ALTER TABLE rooms ADD COLUMN host_guest_id BIGINT REFERENCES guests (id) ON DELETE CASCADE;
ALTER TABLE rooms ADD COLUMN allow_guests BIGINT NOT NULL DEFAULT 1;
ALTER TABLE rooms ADD CONSTRAINT rooms_one_owner CHECK ((owner_id IS NULL) <> (host_guest_id IS NULL));
CREATE INDEX rooms_by_owner ON rooms (owner_id);
CREATE INDEX rooms_by_guest_host ON rooms (host_guest_id);
