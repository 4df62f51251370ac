-- Payments at a real provider (app/payments): card data never reaches this database. A booking keeps the
-- provider's reference of its payment (a PaymentIntent, ``pi_...``), opened when the booking is reserved;
-- the card token the client sent goes to the provider only, and the tokens kept so far are dropped.
ALTER TABLE bookings ADD COLUMN payment_ref text;
ALTER TABLE bookings DROP COLUMN card_token;
-- Money owed back: a void or refund the provider kept refusing. NULL when nothing is owed; 'refund_pending'
-- (retried by the services role), 'needs_attention' (still retried, past payment_owed_attention_after
-- tries: an operator must look), 'refunded' (what was owed was given back later).
ALTER TABLE bookings ADD COLUMN refund_state text
    CHECK (refund_state IN ('refund_pending', 'needs_attention', 'refunded'));
CREATE INDEX bookings_refund_owed ON bookings (updated_at) WHERE refund_state IN ('refund_pending', 'needs_attention');
-- What the provider answered, per call: a capture that failed is recorded as such.
ALTER TABLE payments ADD COLUMN detail text;
ALTER TABLE payments ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();
