"""Binance spot wire constants as data: endpoints, paths, channels, limits and error codes.

Everything the feed, the gateway and the simulator must agree on about Binance lives here
(EXCHANGES.md §1), so a change on the venue side is a one-line change. Limits are the
documented values; the `ORDERS` limiter numbers are the docs' examples only — the live values
come from `exchangeInfo.rateLimits` at start-up (§1.8, open point 1).
"""
from __future__ import annotations

import re

from ._wire import VENUE  # noqa: F401  (re-exported: "binance")

# -- endpoints (§1.1) --------------------------------------------------------------------------
REST_URL = "https://api.binance.com"
REST_URLS_ALT = ("https://api-gcp.binance.com", "https://api1.binance.com",
                 "https://api2.binance.com", "https://api3.binance.com",
                 "https://api4.binance.com")
REST_DATA_URL = "https://data-api.binance.vision"
WS_STREAM_URL = "wss://stream.binance.com:9443"
WS_STREAM_URL_443 = "wss://stream.binance.com:443"
WS_STREAM_DATA_URL = "wss://data-stream.binance.vision"
WS_API_URL = "wss://ws-api.binance.com:443/ws-api/v3"
TESTNET_REST_URL = "https://testnet.binance.vision"
TESTNET_WS_STREAM_URL = "wss://stream.testnet.binance.vision"
TESTNET_WS_API_URL = "wss://ws-api.testnet.binance.vision/ws-api/v3"

# -- paths -----------------------------------------------------------------------------------
PATH_WS_RAW = "/ws"                 # /ws/<streamName>
PATH_WS_COMBINED = "/stream"        # /stream?streams=<s1>/<s2>
PATH_WS_API = "/ws-api/v3"
QUERY_TIME_UNIT_US = "timeUnit=MICROSECOND"
PATH_EXCHANGE_INFO = "/api/v3/exchangeInfo"
PATH_DEPTH = "/api/v3/depth"
PATH_ORDER = "/api/v3/order"
PATH_ORDER_TEST = "/api/v3/order/test"
PATH_OPEN_ORDERS = "/api/v3/openOrders"
PATH_CANCEL_REPLACE = "/api/v3/order/cancelReplace"
PATH_PING = "/api/v3/ping"
PATH_TIME = "/api/v3/time"
PATH_ACCOUNT = "/api/v3/account"
PATH_MY_TRADES = "/api/v3/myTrades"
HEADER_API_KEY = "X-MBX-APIKEY"

# -- public stream channels (§1.2): stream name = "<lowercase symbol>@<channel>" ----------------
CH_BOOK_TICKER = "bookTicker"
CH_DEPTH = "depth"                  # diffs every 1000 ms
CH_DEPTH_100MS = "depth@100ms"      # diffs every 100 ms
CH_TRADE = "trade"
CH_AGG_TRADE = "aggTrade"
PARTIAL_DEPTH_LEVELS = (5, 10, 20)  # "<sym>@depth<N>" and "<sym>@depth<N>@100ms"
STREAM_SERVER_SHUTDOWN = "!serverShutdown"

# stream control methods
M_SUBSCRIBE = "SUBSCRIBE"
M_UNSUBSCRIBE = "UNSUBSCRIBE"
M_LIST_SUBSCRIPTIONS = "LIST_SUBSCRIPTIONS"
M_SET_PROPERTY = "SET_PROPERTY"
M_GET_PROPERTY = "GET_PROPERTY"
STREAM_METHODS = (M_SUBSCRIBE, M_UNSUBSCRIBE, M_LIST_SUBSCRIPTIONS, M_SET_PROPERTY,
                  M_GET_PROPERTY)

# stream control-message error codes (web-socket-streams.md error table)
STREAM_ERR_UNKNOWN_PROPERTY = 0
STREAM_ERR_INVALID_VALUE_TYPE = 1
STREAM_ERR_INVALID_REQUEST = 2
STREAM_ERR_INVALID_JSON = 3

# -- WebSocket API methods (§1.5.2, §1.6.3, §1.7) ----------------------------------------------
WS_ORDER_PLACE = "order.place"
WS_ORDER_TEST = "order.test"
WS_ORDER_CANCEL = "order.cancel"
WS_ORDER_CANCEL_REPLACE = "order.cancelReplace"
WS_ORDER_STATUS = "order.status"
WS_OPEN_ORDERS_STATUS = "openOrders.status"
WS_OPEN_ORDERS_CANCEL_ALL = "openOrders.cancelAll"
WS_SESSION_LOGON = "session.logon"
WS_SESSION_STATUS = "session.status"
WS_SESSION_LOGOUT = "session.logout"
WS_USER_DATA_SUBSCRIBE = "userDataStream.subscribe"
WS_USER_DATA_SUBSCRIBE_SIGNATURE = "userDataStream.subscribe.signature"
WS_USER_DATA_UNSUBSCRIBE = "userDataStream.unsubscribe"
WS_SESSION_SUBSCRIPTIONS = "session.subscriptions"
WS_PING = "ping"                    # connectivity test, weight 1, result {}
WS_TIME = "time"                    # {"serverTime": ms}
WS_ACCOUNT_STATUS = "account.status"
WS_MY_TRADES = "myTrades"
WS_SIGNED_METHODS = frozenset({
    WS_ORDER_PLACE, WS_ORDER_TEST, WS_ORDER_CANCEL, WS_ORDER_CANCEL_REPLACE, WS_ORDER_STATUS,
    WS_OPEN_ORDERS_STATUS, WS_OPEN_ORDERS_CANCEL_ALL, WS_SESSION_LOGON,
    WS_USER_DATA_SUBSCRIBE_SIGNATURE, WS_ACCOUNT_STATUS, WS_MY_TRADES})
# REST endpoint -> the WS API method with the same parameters and semantics (the simulator
# decodes both through one path)
REST_METHODS: dict[tuple[str, str], str] = {
    ("POST", PATH_ORDER): WS_ORDER_PLACE,
    ("POST", PATH_ORDER_TEST): WS_ORDER_TEST,
    ("DELETE", PATH_ORDER): WS_ORDER_CANCEL,
    ("GET", PATH_ORDER): WS_ORDER_STATUS,
    ("GET", PATH_OPEN_ORDERS): WS_OPEN_ORDERS_STATUS,
    ("DELETE", PATH_OPEN_ORDERS): WS_OPEN_ORDERS_CANCEL_ALL,
    ("GET", PATH_ACCOUNT): WS_ACCOUNT_STATUS,
    ("GET", PATH_MY_TRADES): WS_MY_TRADES,
}

# -- order enums (§1.6.1) --------------------------------------------------------------------
ORDER_TYPES = ("LIMIT", "MARKET", "STOP_LOSS", "STOP_LOSS_LIMIT", "TAKE_PROFIT",
               "TAKE_PROFIT_LIMIT", "LIMIT_MAKER")
TIME_IN_FORCE = ("GTC", "IOC", "FOK")
RESP_TYPES = ("ACK", "RESULT", "FULL")
ORDER_STATUSES = ("NEW", "PENDING_NEW", "PARTIALLY_FILLED", "FILLED", "CANCELED",
                  "PENDING_CANCEL", "REJECTED", "EXPIRED", "EXPIRED_IN_MATCH")
EXEC_TYPES = ("NEW", "CANCELED", "REPLACED", "REJECTED", "TRADE", "EXPIRED", "TRADE_PREVENTION")
STP_MODES = ("NONE", "EXPIRE_MAKER", "EXPIRE_TAKER", "EXPIRE_BOTH", "DECREMENT", "TRANSFER")
ER_REJECT_REASONS = ("NONE", "INSUFFICIENT_BALANCES", "STOP_PRICE_WOULD_TRIGGER_IMMEDIATELY",
                     "WOULD_MATCH_IMMEDIATELY", "OCO_BAD_PRICES")
SYMBOL_STATUSES = ("TRADING", "END_OF_DAY", "HALT", "BREAK", "CANCEL_ONLY")

# client order id rule (fix-api.md; assumed for REST/WS too — EXCHANGES.md open point 2)
CLIENT_ID_MAX = 36
CLIENT_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,36}$")
# a WS request id: signed 64-bit int, alphanumeric string of up to 36 chars, or null
REQUEST_ID_STR_RE = re.compile(r"^[A-Za-z0-9-]{1,36}$")

# -- keepalive and connection limits (§1.4) ---------------------------------------------------
SERVER_PING_INTERVAL_S = 20.0
PONG_TIMEOUT_S = 60.0
CONNECTION_LIFETIME_S = 24 * 3600.0
MAX_INCOMING_MSGS_PER_S = 5            # per stream connection, pings/pongs/control included
MAX_STREAMS_PER_CONNECTION = 1024
CONNECT_ATTEMPTS_LIMIT = 300           # per IP ...
CONNECT_ATTEMPTS_WINDOW_S = 300.0      # ... per 5 minutes (streams and WS API alike)
WS_API_CONNECT_WEIGHT = 2

# -- request weights and rate limits (§1.3, §1.6.2, §1.8, §1.9) -------------------------------
REQUEST_WEIGHT_PER_MINUTE = 6000       # per IP, shared by REST and WS API
ORDERS_PER_10S = 50                    # doc example; live value from exchangeInfo
ORDERS_PER_DAY = 160_000               # doc example; live value from exchangeInfo
WEIGHT_EXCHANGE_INFO = 20
WEIGHT_ORDER = 1
WEIGHT_CANCEL = 1
WEIGHT_CANCEL_ALL = 1
WEIGHT_OPEN_ORDERS_SYMBOL = 6
WEIGHT_OPEN_ORDERS_ALL = 80
WEIGHT_PING = 1
WEIGHT_TIME = 1
WEIGHT_ORDER_STATUS = 4
WEIGHT_ACCOUNT = 20
WEIGHT_MY_TRADES = 20
WEIGHT_USER_DATA_SUBSCRIBE = 2
# request weight per WS API method (and its REST twin, C.REST_METHODS); others weigh 1.
# openOrders.status without a symbol weighs WEIGHT_OPEN_ORDERS_ALL.
METHOD_WEIGHTS: dict[str, int] = {
    WS_OPEN_ORDERS_STATUS: WEIGHT_OPEN_ORDERS_SYMBOL, WS_ORDER_STATUS: WEIGHT_ORDER_STATUS,
    WS_ACCOUNT_STATUS: WEIGHT_ACCOUNT, WS_MY_TRADES: WEIGHT_MY_TRADES,
    WS_USER_DATA_SUBSCRIBE_SIGNATURE: WEIGHT_USER_DATA_SUBSCRIBE,
}
# response headers carrying usage (§1.8): X-MBX-USED-WEIGHT-1M, X-MBX-ORDER-COUNT-10S / -1D
HEADER_USED_WEIGHT_1M = "X-MBX-USED-WEIGHT-1M"
HEADER_ORDER_COUNT_10S = "X-MBX-ORDER-COUNT-10S"
HEADER_ORDER_COUNT_1D = "X-MBX-ORDER-COUNT-1D"
HEADER_RETRY_AFTER = "Retry-After"
DEPTH_LIMIT_DEFAULT = 100
DEPTH_LIMIT_MAX = 5000
# (max limit, weight) steps of GET /api/v3/depth
DEPTH_WEIGHTS: tuple[tuple[int, int], ...] = ((100, 5), (500, 25), (1000, 50), (5000, 250))
RECV_WINDOW_DEFAULT_MS = 5000
RECV_WINDOW_MAX_MS = 60_000
TIMESTAMP_AHEAD_MS = 1000              # timestamp must be < serverTime + 1000
USER_STREAM_MAX_ACTIVE = 1000
USER_STREAM_MAX_LIFETIME = 65535

# -- HTTP / WS API status codes (§1.6.3) ------------------------------------------------------
HTTP_BAD_REQUEST = 400
HTTP_WAF = 403
HTTP_PARTIAL = 409
HTTP_IP_BANNED = 418
HTTP_RATE_LIMITED = 429

# -- error codes (§1.6.4) ----------------------------------------------------------------------
E_UNKNOWN = -1000
E_DISCONNECTED = -1001
E_UNAUTHORIZED = -1002
E_TOO_MANY_REQUESTS = -1003
E_UNEXPECTED_RESP = -1006
E_TIMEOUT = -1007
E_SERVER_BUSY = -1008
E_INVALID_MESSAGE = -1013
E_TOO_MANY_NEW_ORDERS = -1015
E_INVALID_TIMESTAMP = -1021
E_INVALID_SIGNATURE = -1022
E_ILLEGAL_CHARS = -1100
E_MANDATORY_PARAM = -1102
E_UNKNOWN_PARAM = -1104
E_PARAM_EMPTY = -1105
E_PARAM_NOT_REQUIRED = -1106
E_BAD_PRECISION = -1111
E_INVALID_TIF = -1115
E_INVALID_ORDER_TYPE = -1116
E_INVALID_SIDE = -1117
E_BAD_SYMBOL = -1121
E_NEW_ORDER_REJECTED = -2010
E_CANCEL_REJECTED = -2011
E_NO_SUCH_ORDER = -2013
E_BAD_API_KEY_FMT = -2014
E_REJECTED_MBX_KEY = -2015

