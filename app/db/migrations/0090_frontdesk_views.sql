-- The front desk's stay lists are a read model (app/frontdesk/views.py) whose entries are ordered by a
-- stamp: version (bumped by the saga and every status move) + desk_version (bumped by every front-desk
-- change, room moves included). Each change raises the sum, so an older write never replaces a newer one.
ALTER TABLE bookings ADD COLUMN desk_version bigint NOT NULL DEFAULT 0;
-- The business date of the check-out (app/clock.py, the property's today): the day the guest is in the
-- desk's "departed" list, whatever the server's clock says.
ALTER TABLE bookings ADD COLUMN checked_out_on date;
