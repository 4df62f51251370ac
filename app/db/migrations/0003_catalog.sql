-- The catalogue's transactional core. Every catalogue row carries a version, bumped on each change.

CREATE TABLE properties (
    id          text PRIMARY KEY CHECK (id ~ '^[a-z0-9][a-z0-9-]{1,62}$'),
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    name_ko     text,
    time_zone   text NOT NULL DEFAULT 'Asia/Seoul',
    latitude    double precision NOT NULL CHECK (latitude BETWEEN -90 AND 90),
    longitude   double precision NOT NULL CHECK (longitude BETWEEN -180 AND 180),
    address     text,
    version     bigint NOT NULL DEFAULT 1,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TYPE product_kind AS ENUM ('room_type', 'facility_slot', 'ticket', 'package');

CREATE TABLE products (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    property_id   text NOT NULL REFERENCES properties (id),
    kind          product_kind NOT NULL,
    code          text NOT NULL CHECK (code ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
    name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    name_ko       text,
    max_occupancy int NOT NULL DEFAULT 2 CHECK (max_occupancy > 0),
    -- facility time slots: the slot's local start time and length; null for other kinds
    slot_start    time,
    slot_minutes  int CHECK (slot_minutes IS NULL OR slot_minutes > 0),
    currency      char(3) NOT NULL DEFAULT 'KRW',
    active        boolean NOT NULL DEFAULT true,
    version       bigint NOT NULL DEFAULT 1,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (property_id, code)
);
CREATE INDEX products_property_kind ON products (property_id, kind);

-- A package is made of other products (a room night plus a spa slot plus a ticket, ...).
CREATE TABLE package_components (
    package_id   uuid NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    component_id uuid NOT NULL REFERENCES products (id),
    quantity     int NOT NULL DEFAULT 1 CHECK (quantity > 0),
    PRIMARY KEY (package_id, component_id),
    CHECK (package_id <> component_id)
);

CREATE TABLE rate_plans (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    product_id  uuid NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    code        text NOT NULL,
    name        text NOT NULL,
    refundable  boolean NOT NULL DEFAULT true,
    version     bigint NOT NULL DEFAULT 1,
    UNIQUE (product_id, code)
);

-- Price and restrictions per night (per slot date for facility slots, per visit date for tickets).
-- Amounts are in the currency's minor unit (KRW has none): integer arithmetic, no rounding.
CREATE TABLE nightly_rates (
    rate_plan_id        uuid NOT NULL REFERENCES rate_plans (id) ON DELETE CASCADE,
    night               date NOT NULL,
    amount              bigint NOT NULL CHECK (amount >= 0),
    extra_guest_amount  bigint NOT NULL DEFAULT 0 CHECK (extra_guest_amount >= 0),
    included_guests     int NOT NULL DEFAULT 2 CHECK (included_guests > 0),
    min_stay            int NOT NULL DEFAULT 1 CHECK (min_stay >= 1),
    closed              boolean NOT NULL DEFAULT false,
    closed_to_arrival   boolean NOT NULL DEFAULT false,
    closed_to_departure boolean NOT NULL DEFAULT false,
    version             bigint NOT NULL DEFAULT 1,
    PRIMARY KEY (rate_plan_id, night)
);

-- Per-night inventory. The database, not Redis, guarantees nothing is held or sold beyond capacity.
CREATE TABLE inventory (
    product_id  uuid NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    night       date NOT NULL,
    capacity    int NOT NULL CHECK (capacity >= 0),
    held        int NOT NULL DEFAULT 0 CHECK (held >= 0),
    sold        int NOT NULL DEFAULT 0 CHECK (sold >= 0),
    version     bigint NOT NULL DEFAULT 1,
    PRIMARY KEY (product_id, night),
    CONSTRAINT inventory_within_capacity CHECK (held + sold <= capacity)
);
