-- The AI companion in rooms (issue 15): a room's owner or admins may let the companion answer
-- messages that mention it by name (`@Violet`), with the room's recent messages as context.
-- Off unless switched on: the companion reads what it is asked about.
ALTER TABLE rooms ADD COLUMN ai_mentions BIGINT NOT NULL DEFAULT 0;
