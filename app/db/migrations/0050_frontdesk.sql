-- Front desk: physical rooms, and who occupies which room when. One table of occupancy rows, each a
-- booking's stay or an out-of-service period, under ONE exclusion constraint: PostgreSQL refuses any
-- two rows of the same room whose date ranges overlap, whatever two clerks (or the automatic
-- assignment) commit at the same moment. Ranges are [first night, day after the last night).
CREATE TABLE rooms (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    property_id  text NOT NULL REFERENCES properties (id),
    number       text NOT NULL CHECK (number ~ '^[A-Za-z0-9][A-Za-z0-9-]{0,15}$'),
    floor        int NOT NULL CHECK (floor BETWEEN -10 AND 300),
    room_type_id uuid NOT NULL REFERENCES products (id),
    created_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (property_id, number)
);
CREATE INDEX rooms_type ON rooms (room_type_id, number);

CREATE TABLE room_assignments (
    id         bigserial PRIMARY KEY,
    room_id    uuid NOT NULL REFERENCES rooms (id),
    kind       text NOT NULL CHECK (kind IN ('booking', 'out_of_service')),
    booking_id uuid REFERENCES bookings (id),
    stay       daterange NOT NULL CHECK (NOT isempty(stay) AND NOT lower_inf(stay) AND NOT upper_inf(stay)),
    reason     text CHECK (reason IS NULL OR length(reason) <= 200),
    created_by text,
    created_at timestamptz NOT NULL DEFAULT now(),
    CHECK ((kind = 'booking') = (booking_id IS NOT NULL)),
    CONSTRAINT room_assignments_no_overlap EXCLUDE USING gist (room_id WITH =, stay WITH &&)
);
-- A booking is in at most one room (reassignment moves the row).
CREATE UNIQUE INDEX room_assignments_booking ON room_assignments (booking_id) WHERE kind = 'booking';

-- The stay lifecycle after the saga: checked in, checked out, no-show. A guest's cancellation of a
-- checked-in (or checked-out, no-show) stay is refused by whoever cancels: status is the contract.
ALTER TABLE bookings DROP CONSTRAINT bookings_status_check,
    ADD CONSTRAINT bookings_status_check CHECK (status IN ('pending', 'confirmed', 'failed', 'cancelling', 'cancelled',
                                                           'checked_in', 'checked_out', 'no_show'));
ALTER TABLE bookings ADD COLUMN checked_in_at timestamptz, ADD COLUMN checked_out_at timestamptz;
CREATE INDEX bookings_property_departures ON bookings (property_id, check_out);

-- A booking that ends without a stay (cancelled by its saga, failed) gives its room back in the same
-- transaction, whoever moved it: the saga need not know about rooms.
CREATE FUNCTION room_assignments_release() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM room_assignments WHERE booking_id = NEW.id AND kind = 'booking';
    RETURN NULL;
END $$;
CREATE TRIGGER bookings_release_room AFTER UPDATE OF status ON bookings
    FOR EACH ROW WHEN (NEW.status IN ('cancelled', 'failed') AND OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION room_assignments_release();
