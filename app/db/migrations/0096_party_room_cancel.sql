-- Cancelling one room of a party (app/frontdesk/room_cancel.py): the room's nights go back, its refund by
-- the rate plan's policy goes through the provider, and the rest of the party stays. One refund per
-- (booking, room): payments rows of one room carry its `slot` (NULL: the whole booking, as before).
ALTER TABLE payments ADD COLUMN slot int CHECK (slot IS NULL OR slot >= 1);
ALTER TABLE payments DROP CONSTRAINT payments_booking_id_operation_key;
CREATE UNIQUE INDEX payments_booking_operation ON payments (booking_id, operation) WHERE slot IS NULL;
CREATE UNIQUE INDEX payments_booking_room_operation ON payments (booking_id, slot, operation) WHERE slot IS NOT NULL;

-- The rooms of a party cancelled on their own, with what the policy gave back and kept, fixed when asked.
CREATE TABLE cancelled_rooms (
    booking_id    uuid NOT NULL REFERENCES bookings (id),
    slot          int NOT NULL CHECK (slot >= 1),
    room_type_id  uuid NOT NULL REFERENCES products (id),
    refund_amount bigint NOT NULL CHECK (refund_amount >= 0),
    cancel_fee    bigint NOT NULL CHECK (cancel_fee >= 0),
    rule          text NOT NULL,
    cancelled_by  text NOT NULL,
    cancelled_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (booking_id, slot)
);
