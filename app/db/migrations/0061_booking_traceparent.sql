-- Tracing (app/tracing): the trace of the request that started the booking's saga (or its cancellation), so
-- the steps the sweeper takes on a deadline (re-sends, compensations) continue that trace. NULL when off.
ALTER TABLE bookings ADD COLUMN traceparent text;
