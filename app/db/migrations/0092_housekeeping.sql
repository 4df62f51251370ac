-- Housekeeping: each room's state (dirty, clean, inspected, out_of_order), set to dirty by a check-out and
-- changed by housekeeping staff; a property may refuse check-in to a room that is not clean or inspected
-- (otherwise the desk is warned).
ALTER TABLE rooms ADD COLUMN housekeeping text NOT NULL DEFAULT 'clean'
        CHECK (housekeeping IN ('dirty', 'clean', 'inspected', 'out_of_order')),
    ADD COLUMN housekeeping_at timestamptz, ADD COLUMN housekeeping_by text;
ALTER TABLE properties ADD COLUMN checkin_requires_clean boolean NOT NULL DEFAULT false;
