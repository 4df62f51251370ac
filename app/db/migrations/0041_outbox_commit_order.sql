-- Outbox ids come from a sequence at INSERT time, but transactions commit in their own order: a row
-- with a higher id can become visible before a lower one. Each row records the transaction that wrote
-- it; the relay publishes only rows of transactions older than every transaction still running, so a
-- lower id can never appear after a higher one has been published (per-aggregate order in Kafka).
ALTER TABLE outbox ADD COLUMN txid xid8 NOT NULL DEFAULT pg_current_xact_id();
