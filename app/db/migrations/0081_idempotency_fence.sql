-- Idempotency takeover fencing: every claim of a key (the first, and each takeover of a stale running
-- record) gets the next fence; the answer is stored, in the effect's transaction, only by the request that
-- holds the current fence. A slow first request whose key was taken over fails at commit: one effect.
ALTER TABLE idempotency_keys ADD COLUMN fence bigint NOT NULL DEFAULT 1;
