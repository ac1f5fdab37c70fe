"""Binance spot wire protocol, sans-I/O: one codec for the feed, the gateway and the simulator.

Modules: `constants` (endpoints, channels, limits, codes), `symbols` (names, exchangeInfo),
`market` (stream parse/encode, REST depth), `book_sync` (snapshot + diff recipe), `signing`
(HMAC REST and WS API), `orders` (WS API / REST requests, responses, user-data events; the
server half lives in `order_server`), `errors` (code -> RejectReason). No I/O, clocks or
secrets of its own: all are arguments.
"""
