-- The partner feed: every event of a partner's bookings, in one order per partner, read by cursor
-- (GET /partner/events?after=). Written in the transaction of the change. Like the outbox, a reader only
-- sees rows of transactions older than every running one, so a row can never appear behind a cursor.
CREATE TABLE partner_events (
    id          bigserial PRIMARY KEY,
    client_id   text NOT NULL,
    booking_id  uuid NOT NULL REFERENCES bookings (id),
    event_type  text NOT NULL,
    payload     jsonb NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    txid        xid8 NOT NULL DEFAULT pg_current_xact_id()
);
CREATE INDEX partner_events_client ON partner_events (client_id, id);
