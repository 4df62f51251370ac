-- Parties: one booking can take several rooms (its holds' units of room types). Each room of the party is a
-- numbered slot with its own assignment row, checked in and out on its own; the booking is checked in with
-- its first room and checked out with its last.
ALTER TABLE room_assignments ADD COLUMN slot int NOT NULL DEFAULT 1 CHECK (slot >= 1),
    ADD COLUMN checked_in_at timestamptz, ADD COLUMN checked_out_at timestamptz;
DROP INDEX room_assignments_booking;
CREATE UNIQUE INDEX room_assignments_booking_slot ON room_assignments (booking_id, slot) WHERE kind = 'booking';
-- Stays already in the house (or gone) before parties: their one room moved with the booking.
UPDATE room_assignments a SET checked_in_at = b.checked_in_at, checked_out_at = b.checked_out_at
    FROM bookings b WHERE a.booking_id = b.id AND a.kind = 'booking';
