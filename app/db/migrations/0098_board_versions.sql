-- The room board's version (app/frontdesk/board.py): one number per property that every change the board
-- shows raises, in the same transaction as the change. An api process keeps the encoded board of a version
-- and answers from it until the version moves, so a board read costs one row instead of a grid rebuild,
-- and can never be staler than the last committed change.
--
-- What the board shows: the property's rooms (number, floor, type), every occupancy row of its rooms, and
-- whether each booking of those rows is in the house (checked_in / checked_out) or not. Each of those
-- raises the version here, by trigger, whichever code made the change.
--
-- The raise is a deferred constraint trigger: it runs at commit, after the transaction's own row locks,
-- so it holds the property's version row only for the end of the commit (a transaction that changes many
-- bookings never waits on the version row while holding another booking's lock).
CREATE TABLE board_versions (
    property_id text PRIMARY KEY REFERENCES properties (id),
    version bigint NOT NULL
);

CREATE FUNCTION board_version_raise(property text) RETURNS void LANGUAGE sql AS $$
    INSERT INTO board_versions (property_id, version) VALUES (property, 1)
    ON CONFLICT (property_id) DO UPDATE SET version = board_versions.version + 1
$$;

CREATE FUNCTION board_changed_by_assignment() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    row_changed room_assignments;
BEGIN
    row_changed := CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
    PERFORM board_version_raise(r.property_id) FROM rooms r WHERE r.id = row_changed.room_id;
    IF TG_OP = 'UPDATE' AND OLD.room_id <> NEW.room_id THEN
        PERFORM board_version_raise(r.property_id) FROM rooms r WHERE r.id = OLD.room_id;
    END IF;
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER board_assignments AFTER INSERT OR UPDATE OR DELETE ON room_assignments
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION board_changed_by_assignment();

CREATE FUNCTION board_changed_by_room() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        PERFORM board_version_raise(OLD.property_id);
    END IF;
    IF TG_OP <> 'DELETE' THEN
        PERFORM board_version_raise(NEW.property_id);
    END IF;
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER board_rooms AFTER INSERT OR DELETE OR UPDATE OF number, floor, room_type_id,
    property_id ON rooms DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION board_changed_by_room();

-- A booking's status shows on the board only as "in the house or not", and only in its rooms' cells: a
-- booking made, confirmed or cancelled (its rows go: the trigger above) does not pass this WHEN.
CREATE FUNCTION board_changed_by_booking() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM board_version_raise(NEW.property_id)
        WHERE EXISTS (SELECT 1 FROM room_assignments a WHERE a.booking_id = NEW.id AND a.kind = 'booking');
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER board_bookings AFTER UPDATE OF status ON bookings DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW WHEN ((OLD.status IN ('checked_in', 'checked_out')) IS DISTINCT FROM
                       (NEW.status IN ('checked_in', 'checked_out')))
    EXECUTE FUNCTION board_changed_by_booking();
