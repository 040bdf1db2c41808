-- Guests in rooms (issue 16). A public room may admit guests (`allow_guests`), and a guest may
-- host an ephemeral room: a room's owner is then a guest (`host_guest_id`) rather than an
-- account (`owner_id`), exactly one of the two (the room service writes one or the other).
ALTER TABLE rooms ADD COLUMN host_guest_id BIGINT REFERENCES guests (id) ON DELETE CASCADE;
ALTER TABLE rooms ADD COLUMN allow_guests BIGINT NOT NULL DEFAULT 1;
-- `owner_id` may now be NULL. SQLite cannot alter a column, and rebuilding `rooms` inside the
-- migration's transaction (where foreign keys cannot be switched off) would cascade into every
-- table that references it. Dropping a NOT NULL constraint changes nothing stored, so it is
-- done the way SQLite documents for such changes: the table's definition is edited in place,
-- then the schema is reloaded (RESET) so every later statement reads the new definition; the
-- index after it moves the schema version, so the pool's other connections reload it too.
PRAGMA writable_schema = ON;
UPDATE sqlite_master
   SET sql = replace(sql,
                     'owner_id        BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE',
                     'owner_id        BIGINT  REFERENCES users (id) ON DELETE CASCADE')
 WHERE type = 'table' AND name = 'rooms';
PRAGMA writable_schema = RESET;
-- Had the definition not read as expected, stop here (the transaction rolls back) rather than
-- carry on with a column that still refuses NULL.
CREATE TEMP TABLE owner_may_be_null (edited INTEGER CHECK (edited = 1));
INSERT INTO owner_may_be_null
    SELECT COUNT(*) FROM sqlite_master
     WHERE type = 'table' AND name = 'rooms'
       AND sql LIKE '%owner_id        BIGINT  REFERENCES users (id) ON DELETE CASCADE%';
DROP TABLE owner_may_be_null;
CREATE INDEX rooms_by_owner ON rooms (owner_id);
CREATE INDEX rooms_by_guest_host ON rooms (host_guest_id);
