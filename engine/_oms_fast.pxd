# cython: language_level=3
# Declarations of the compiled OMS records (engine/_oms_fast.pyx), cimported by the compiled
# RMS check (engine/_rms_fast.pyx) so it reads the OMS's indexes as struct fields.

cdef class Order:
    cdef public object book, client_id, filled_lots, filled_notional, layer, lots, lots_key
    cdef public object order_type, price_ticks, prices, queries, reject_reason, side, status
    cdef public object symbol, tif, ts_acked, ts_cancel_requested, ts_created, ts_pending
    cdef public object ts_sent, ts_tick_recv, ts_updated, venue, venue_order_id


cdef class Market:
    cdef public dict book, buy_prices, sell_prices
    cdef public object buy_key, sell_key
    cdef Py_hash_t buy_hash, sell_hash


cdef class OmsCore:
    cdef public dict orders, open_by_vs, open_prices, _markets, _next_id, _counters
    cdef public object open_lots, open_count, _terminal, _retain_terminal, _trades_gen
    cdef public set _trades_young, _trades_old
    cdef public long long n_created, n_reports, n_fills
    cdef list _fill(self, Order o, object r, object st)
    cdef list _ack(self, Order o, object r)
