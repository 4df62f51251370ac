-- The inventory aggregate (app/inventory): rooms out of order or out of service lower what can be sold.
-- The database states the aggregate's invariant too, so no writer can break it: held + sold + out of
-- service never exceed capacity, and no count is negative.
ALTER TABLE inventory ADD COLUMN out_of_service int NOT NULL DEFAULT 0 CHECK (out_of_service >= 0);
ALTER TABLE inventory DROP CONSTRAINT inventory_within_capacity;
ALTER TABLE inventory ADD CONSTRAINT inventory_within_capacity CHECK (held + sold + out_of_service <= capacity);
