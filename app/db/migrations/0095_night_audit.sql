-- Night audit (app/frontdesk/night_audit.py): the daily close of a property's business day. One row per
-- (property, business date): 'running' until every no-show of the day is marked and settled, then 'done'
-- with its report (occupancy, ADR, RevPAR, no-shows, cancellations). A second run of a done day changes
-- nothing; a run after a crash picks up where the first stopped.
CREATE TABLE night_audits (
    property_id   text NOT NULL REFERENCES properties (id),
    business_date date NOT NULL,
    state         text NOT NULL DEFAULT 'running' CHECK (state IN ('running', 'done')),
    runs          int NOT NULL DEFAULT 1,
    started_at    timestamptz NOT NULL DEFAULT now(),
    finished_at   timestamptz,
    report        jsonb,
    PRIMARY KEY (property_id, business_date)
);
CREATE INDEX night_audits_latest ON night_audits (property_id, business_date DESC) WHERE state = 'done';

-- A no-show keeps the rate plan's no-show fee (percent of the stay; a non-refundable plan keeps all of it)
-- and the balance of the prepaid stay goes back through the payment provider, once: one payments row
-- 'no_show' per booking (its provider reference: the refund, or the payment when nothing went back).
ALTER TABLE rate_plans ADD COLUMN no_show_fee_pct int NOT NULL DEFAULT 100 CHECK (no_show_fee_pct BETWEEN 0 AND 100);
ALTER TABLE payments DROP CONSTRAINT payments_operation_check,
    ADD CONSTRAINT payments_operation_check CHECK (operation IN ('authorize', 'capture', 'void', 'refund', 'no_show'));
