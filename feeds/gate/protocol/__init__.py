"""Gate spot wire protocol, sans-I/O, shared by the feed, the gateway and the simulator.

Modules: `constants` (endpoints, channels, limits, labels), `symbols` (pairs, instruments),
`market` (public channels, REST snapshot; client and server), `book_sync` (local-book
sequencing), `signing` (REST / WS HMAC-SHA512), `orders` (WS trading API, private channels and
REST order forms; client, re-exporting the server side from `order_server`), `reports`
(order/fill objects to ExecReports), `errors` (label classification), `rest` (signed requests
as data). No module here does I/O or reads a clock.
"""
