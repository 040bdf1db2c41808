-- A guest's first step into a persistent room (joining or posting) costs its address one
-- registration from the registration budget, once per guest: otherwise a script could make
-- guests without limit and write into stored rooms with each one's own message rate.
-- NULL: the guest never entered a room.
ALTER TABLE guests ADD COLUMN in_rooms_since BIGINT;
