-- Ticks are keyed by the writer-assigned (batch_id, row_no): batch ids are monotonic (spool
-- file names survive restarts) and claimed once in tick_batches in the same transaction as the
-- COPY, so a spool replay never duplicates a tick and ORDER BY batch_id, row_no is arrival
-- order. No unique index on ticks (that would halve COPY speed). Not partitioned by day: a
-- BRIN index on ts_recv keeps time-range scans cheap; old days go with a DELETE by ts range
-- (a later migration can switch to declarative daily partitions without changing the writer).
CREATE TABLE IF NOT EXISTS instruments (
    venue smallint NOT NULL, symbol_id bigint NOT NULL, symbol text NOT NULL,
    tick_size double precision, lot_size double precision,
    PRIMARY KEY (venue, symbol_id));
CREATE TABLE IF NOT EXISTS ticks (
    kind smallint NOT NULL, venue smallint NOT NULL, side smallint NOT NULL,
    flags smallint NOT NULL, symbol_id bigint NOT NULL,
    ts_event bigint NOT NULL, ts_recv bigint NOT NULL, ts_pub bigint NOT NULL,
    bid_px double precision, bid_sz double precision, ask_px double precision,
    ask_sz double precision, price double precision, size double precision,
    update_id bigint NOT NULL, batch_id bigint NOT NULL, row_no integer NOT NULL);
CREATE TABLE IF NOT EXISTS tick_batches (
    batch_id bigint PRIMARY KEY, n integer NOT NULL,
    committed_at timestamptz NOT NULL DEFAULT now());
CREATE INDEX IF NOT EXISTS ticks_ts_brin ON ticks USING brin (ts_recv);
CREATE TABLE IF NOT EXISTS orders (
    client_id text PRIMARY KEY, venue text NOT NULL, symbol text NOT NULL, side smallint,
    price_ticks bigint, lots bigint, order_type smallint, tif smallint,
    ts_tick_recv bigint, ts_decision bigint);
CREATE TABLE IF NOT EXISTS order_events (
    venue text NOT NULL, client_id text NOT NULL, venue_order_id text, exec_type smallint NOT NULL,
    status smallint, side smallint, price_ticks bigint, lots bigint, filled_lots bigint NOT NULL,
    reason smallint, reason_text text, ts_event bigint NOT NULL, ts_recv bigint NOT NULL,
    PRIMARY KEY (venue, client_id, exec_type, filled_lots, ts_event, ts_recv));
CREATE TABLE IF NOT EXISTS fills (
    venue text NOT NULL, trade_id text NOT NULL, client_id text NOT NULL, symbol text NOT NULL,
    side smallint, last_lots bigint, last_price_ticks bigint, fee numeric, fee_asset text,
    is_maker boolean, ts_event bigint, ts_recv bigint,
    PRIMARY KEY (venue, trade_id, client_id));
-- Snapshots/events below are dict events; their natural key is (source, seq) given by the sender.
CREATE TABLE IF NOT EXISTS positions (
    source text NOT NULL, seq bigint NOT NULL, ts bigint NOT NULL, body jsonb NOT NULL,
    PRIMARY KEY (source, seq));
CREATE TABLE IF NOT EXISTS pnl_snapshots (LIKE positions INCLUDING ALL);
CREATE TABLE IF NOT EXISTS risk_events (LIKE positions INCLUDING ALL);
CREATE TABLE IF NOT EXISTS metrics (LIKE positions INCLUDING ALL);
CREATE TABLE IF NOT EXISTS audit_events (
    seq bigint PRIMARY KEY, ts bigint NOT NULL, prev_hash text NOT NULL, hash text NOT NULL,
    body jsonb NOT NULL);
