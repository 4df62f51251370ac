-- Where each repair path has got to in the outbox (app/watermarks.py): a round reads only the events
-- committed after its watermark, so background work follows change, never a time window.
CREATE TABLE watermarks (
    name       text PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 100),
    position   bigint NOT NULL CHECK (position >= 0),
    updated_at timestamptz NOT NULL DEFAULT now()
);
