-- Holds: short claims on per-night inventory while a guest or partner pays.
-- The inventory row is the guarantee (CHECK held + sold <= capacity, guarded updates); `fence` is the
-- highest fencing token PostgreSQL has accepted for the row: a writer carrying an older token (its Redis
-- lock expired while it was paused and someone else took it) is refused.
ALTER TABLE inventory ADD COLUMN fence bigint NOT NULL DEFAULT 0;

CREATE TYPE hold_status AS ENUM ('held', 'released', 'expired', 'converted');

CREATE TABLE holds (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    owner_kind    text NOT NULL CHECK (owner_kind IN ('user', 'partner')),
    owner_id      text NOT NULL,
    product_id    uuid NOT NULL REFERENCES products (id),
    property_id   text NOT NULL REFERENCES properties (id),
    check_in      date NOT NULL,
    check_out     date NOT NULL,
    quantity      int NOT NULL CHECK (quantity > 0),
    guests        int NOT NULL CHECK (guests > 0),
    rate_plan     text NOT NULL,
    total_amount  bigint NOT NULL CHECK (total_amount >= 0),
    nights        jsonb NOT NULL DEFAULT '[]',  -- the quote: [{"night", "amount"}]
    currency      char(3) NOT NULL,
    status        hold_status NOT NULL DEFAULT 'held',
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL,
    ended_at      timestamptz,
    booking_id    uuid,
    version       bigint NOT NULL DEFAULT 1,
    CHECK (check_out > check_in),
    CHECK (expires_at > created_at),
    CHECK ((status = 'held') = (ended_at IS NULL))
);
-- The sweeper's work list, and each caller's active holds.
CREATE INDEX holds_due ON holds (expires_at) WHERE status = 'held';
CREATE INDEX holds_owner_active ON holds (owner_kind, owner_id) WHERE status = 'held';
CREATE INDEX holds_property ON holds (property_id, check_in);

-- What a hold took from inventory: one line per (product, night); a package's lines are its components'.
CREATE TABLE hold_lines (
    hold_id    uuid NOT NULL REFERENCES holds (id) ON DELETE CASCADE,
    product_id uuid NOT NULL,
    night      date NOT NULL,
    units      int NOT NULL CHECK (units > 0),
    PRIMARY KEY (hold_id, product_id, night),
    FOREIGN KEY (product_id, night) REFERENCES inventory (product_id, night)
);

-- Idempotency keys (IETF draft-ietf-httpapi-idempotency-key-header), scoped to the caller. The final
-- answer is written in the same transaction as the effect, so a crash between commit and response
-- still replays the committed result. `locked_until`: a running request that crashed is taken over.
CREATE TABLE idempotency_keys (
    scope            text NOT NULL,
    key              text NOT NULL,
    operation        text NOT NULL,
    fingerprint      bytea NOT NULL,
    status           text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'done')),
    response_status  int,
    response_body    bytea,
    response_headers jsonb NOT NULL DEFAULT '{}',
    created_at       timestamptz NOT NULL DEFAULT now(),
    locked_until     timestamptz NOT NULL,
    expires_at       timestamptz NOT NULL,
    PRIMARY KEY (scope, key)
);
CREATE INDEX idempotency_keys_expiry ON idempotency_keys (expires_at);

-- The outbox under booking churn: one NOTIFY per row made every writing transaction queue on the
-- notification lock at commit. The relay polls its partial index instead (cheap, and it was the safety
-- net anyway); published rows are pruned after a retention period.
DROP TRIGGER IF EXISTS outbox_notify ON outbox;
DROP FUNCTION IF EXISTS outbox_notify();
CREATE INDEX outbox_published ON outbox (published_at) WHERE published_at IS NOT NULL;
