"""OKX v5 spot wire protocol, sans-I/O, for the feed, the gateway and the simulated venue.

constants (endpoints, channels, limits, codes) · symbols (instId, instruments) · market
(public frames, both sides) · checksum (legacy book CRC32) · book_sync (seqId/prevSeqId local
book) · signing (REST and WS login HMAC) · orders (client requests/parsers; re-exports the
server side from order_server) · reports (pushes -> ExecReport) · ops (op results) · rest
(requests as data) · errors (code -> RejectReason, error frames). No I/O, clocks or secrets
of its own: all are arguments.
"""
