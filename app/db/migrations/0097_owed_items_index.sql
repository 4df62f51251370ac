-- The items owed back on their own (a room of a party, a no-show's balance: app/payments/owed.py) are read
-- every owed round (the due ones, and their count for the metric). This partial index holds only those rows,
-- so a round reads what is owed, never the whole payments table (which grows with every booking).
CREATE INDEX payments_owed_items ON payments (updated_at)
    WHERE status = 'failed' AND (operation = 'no_show' OR (operation = 'refund' AND slot IS NOT NULL));
