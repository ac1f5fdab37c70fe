-- Ticks stored by kind, partitioned by UTC day of ts_recv (writer.tick_copy, writer.partitions).
-- Why: a binary COPY costs the server per column and per index entry. The 17-column wide row
-- with a BRIN index was what limited a COPY stream; on PostgreSQL 15/16 BRIN upkeep alone
-- reads the index's meta and revmap pages for every row (~30 % of a row's COPY cost).
--   ticks_bbo    a BBO's 13 columns          ticks_trade  a trade's 12 columns
--   ticks_other  all 17 columns, for any row that does not fit its kind's table exactly
-- All three are PARTITION BY RANGE (ts_recv), one partition per UTC day, made by the writer
-- (a day ahead, or on first use) and written directly (no per-row routing); queries prune to the
-- days they touch, old days go by dropping their partitions. No per-row index: a closed day
-- can be given one (e.g. BRIN on ts_recv) without slowing ingest.
-- Still keyed by the writer's (batch_id, row_no), claimed per batch in tick_batches; row_no is
-- a row's place in its whole batch across tables and days, so ORDER BY batch_id, row_no over
-- the `ticks` view is still arrival order.
-- The former wide table is kept as ticks_legacy (rows stored before this migration stay as
-- they were, read through the view; the writer no longer adds to it).
-- `ticks` is now a view with the wide table's columns and values: kind, side and the other
-- kind's prices/sizes, which the narrow tables leave out, are the zeros the writer required
-- before routing a row there. Safe to run again (each step checks what is already there).
DO $$
BEGIN
    IF (SELECT relkind FROM pg_class WHERE oid = to_regclass('ticks')) = 'r' THEN
        ALTER TABLE ticks RENAME TO ticks_legacy;
        ALTER INDEX IF EXISTS ticks_ts_brin RENAME TO ticks_legacy_ts_brin;
    END IF;
END $$;
-- (row_no sits beside the two smallints: 8 bytes a row with no alignment padding)
CREATE TABLE IF NOT EXISTS ticks_bbo (
    venue smallint NOT NULL, flags smallint NOT NULL, row_no integer NOT NULL,
    symbol_id bigint NOT NULL, ts_event bigint NOT NULL, ts_recv bigint NOT NULL,
    ts_pub bigint NOT NULL, bid_px double precision NOT NULL, bid_sz double precision NOT NULL,
    ask_px double precision NOT NULL, ask_sz double precision NOT NULL,
    update_id bigint NOT NULL, batch_id bigint NOT NULL)
    PARTITION BY RANGE (ts_recv);
CREATE TABLE IF NOT EXISTS ticks_trade (
    venue smallint NOT NULL, side smallint NOT NULL, flags smallint NOT NULL,
    symbol_id bigint NOT NULL, ts_event bigint NOT NULL, ts_recv bigint NOT NULL,
    ts_pub bigint NOT NULL, price double precision NOT NULL, size double precision NOT NULL,
    update_id bigint NOT NULL, batch_id bigint NOT NULL, row_no integer NOT NULL)
    PARTITION BY RANGE (ts_recv);
CREATE TABLE IF NOT EXISTS ticks_other (
    kind smallint NOT NULL, venue smallint NOT NULL, side smallint NOT NULL,
    flags smallint NOT NULL, symbol_id bigint NOT NULL,
    ts_event bigint NOT NULL, ts_recv bigint NOT NULL, ts_pub bigint NOT NULL,
    bid_px double precision NOT NULL, bid_sz double precision NOT NULL,
    ask_px double precision NOT NULL, ask_sz double precision NOT NULL,
    price double precision NOT NULL, size double precision NOT NULL,
    update_id bigint NOT NULL, batch_id bigint NOT NULL, row_no integer NOT NULL)
    PARTITION BY RANGE (ts_recv);
CREATE OR REPLACE VIEW ticks AS
    SELECT 1::smallint AS kind, venue, 0::smallint AS side, flags, symbol_id,
           ts_event, ts_recv, ts_pub, bid_px, bid_sz, ask_px, ask_sz,
           0::double precision AS price, 0::double precision AS size,
           update_id, batch_id, row_no
      FROM ticks_bbo
    UNION ALL
    SELECT 2::smallint, venue, side, flags, symbol_id, ts_event, ts_recv, ts_pub,
           0::double precision, 0::double precision, 0::double precision, 0::double precision,
           price, size, update_id, batch_id, row_no
      FROM ticks_trade
    UNION ALL
    SELECT kind, venue, side, flags, symbol_id, ts_event, ts_recv, ts_pub,
           bid_px, bid_sz, ask_px, ask_sz, price, size, update_id, batch_id, row_no
      FROM ticks_other
    UNION ALL
    SELECT kind, venue, side, flags, symbol_id, ts_event, ts_recv, ts_pub,
           bid_px, bid_sz, ask_px, ask_sz, price, size, update_id, batch_id, row_no
      FROM ticks_legacy;
