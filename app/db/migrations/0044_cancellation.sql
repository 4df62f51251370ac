-- Cancellation policy per rate plan: free until `free_cancel_hours` before the check-in date starts in the
-- property's time zone, then a fee of `late_cancel_fee_pct` percent; a non-refundable plan refunds nothing.
ALTER TABLE rate_plans ADD COLUMN free_cancel_hours int NOT NULL DEFAULT 72 CHECK (free_cancel_hours >= 0);
ALTER TABLE rate_plans ADD COLUMN late_cancel_fee_pct int NOT NULL DEFAULT 50
    CHECK (late_cancel_fee_pct BETWEEN 0 AND 100);
-- What a cancellation refunds and keeps, fixed when it is asked for.
ALTER TABLE bookings ADD COLUMN refund_amount bigint;
ALTER TABLE bookings ADD COLUMN cancel_fee bigint;
