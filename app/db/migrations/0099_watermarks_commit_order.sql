-- Watermarks follow the outbox in (txid, id) order, not id order (app/watermarks.py). An id is drawn at
-- INSERT, so a transaction that took its xid early can insert and commit a higher id than a younger
-- transaction whose row is still hidden behind a third one running: a watermark by id passed that row
-- for good (the fault run's live watchers kept five bookings' old status that way). Every transaction
-- below the snapshot's xmin is over, so the rows below a (txid, id) position never change once read.
-- A watermark that was kept by id starts again at the outbox's end, as a new one does.
ALTER TABLE watermarks ADD COLUMN txid bigint NOT NULL DEFAULT 0 CHECK (txid >= 0);
UPDATE watermarks SET txid = pg_snapshot_xmin(pg_current_snapshot())::text::bigint, position = 0;
CREATE INDEX outbox_commit_order ON outbox (txid, id);
