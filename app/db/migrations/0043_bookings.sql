-- Bookings and their orchestrated saga (sagas/). The booking row IS the saga's state: its step, how many
-- times the step's command was sent, and the step's deadline; every transition and the command it sends
-- are written in one transaction (the outbox).
CREATE TABLE bookings (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    owner_kind        text NOT NULL CHECK (owner_kind IN ('user', 'partner')),
    owner_id          text NOT NULL,
    property_id       text NOT NULL REFERENCES properties (id),
    status            text NOT NULL DEFAULT 'pending'
                      CHECK (status IN ('pending', 'confirmed', 'failed', 'cancelling', 'cancelled')),
    step              text NOT NULL,
    attempt           int NOT NULL DEFAULT 0,
    reason            text,
    guest             jsonb NOT NULL,
    card_token        text NOT NULL,
    total_amount      bigint NOT NULL CHECK (total_amount >= 0),
    currency          char(3) NOT NULL,
    check_in          date NOT NULL,
    check_out         date NOT NULL,
    confirmation_code text UNIQUE,
    step_deadline     timestamptz NOT NULL,
    deadline          timestamptz NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    version           bigint NOT NULL DEFAULT 1
);
CREATE INDEX bookings_owner ON bookings (owner_kind, owner_id, created_at DESC);
CREATE INDEX bookings_due ON bookings (step_deadline) WHERE status IN ('pending', 'cancelling');
CREATE INDEX bookings_property_dates ON bookings (property_id, check_in);

-- A hold belongs to at most one booking: the second booking of the same hold loses.
CREATE TABLE booking_holds (
    booking_id uuid NOT NULL REFERENCES bookings (id),
    hold_id    uuid NOT NULL UNIQUE REFERENCES holds (id),
    PRIMARY KEY (booking_id, hold_id)
);

CREATE TABLE booking_timeline (
    id         bigserial PRIMARY KEY,
    booking_id uuid NOT NULL REFERENCES bookings (id),
    at         timestamptz NOT NULL DEFAULT clock_timestamp(),
    step       text NOT NULL,
    outcome    text NOT NULL,
    detail     jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX booking_timeline_booking ON booking_timeline (booking_id, id);

-- Every call to the payment provider, with its reference. One row per (booking, operation): the
-- participant applies each operation once.
CREATE TABLE payments (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    booking_id   uuid NOT NULL REFERENCES bookings (id),
    operation    text NOT NULL CHECK (operation IN ('authorize', 'capture', 'void', 'refund')),
    status       text NOT NULL CHECK (status IN ('approved', 'declined', 'failed')),
    amount       bigint NOT NULL,
    currency     char(3) NOT NULL,
    provider_ref text,
    attempts     int NOT NULL DEFAULT 1,
    created_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (booking_id, operation)
);
