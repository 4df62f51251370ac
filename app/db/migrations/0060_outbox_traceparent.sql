-- Tracing (app/tracing): the W3C trace context of the transaction that wrote the event, carried by the
-- relay into the Kafka message so the consumers continue the same trace. NULL when tracing is off.
ALTER TABLE outbox ADD COLUMN traceparent text;
