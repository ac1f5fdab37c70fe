"""OKX v5 spot facts as data: endpoints, paths, channels, limits, codes (EXCHANGES.md §2).

Read by the okx feed and gateway adapters (URLs, keep-alive, batching), by the simulated OKX
venue (paths it serves, limits it enforces) and by the rest of this package. Keeping numbers
here, not in the code that uses them, means a venue change is a one-line edit.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from ._wire import VENUE

__all__ = ["VENUE"]

# -- endpoints (§2.1) -------------------------------------------------------------------------
REST_URL = "https://www.okx.com"
WS_PUBLIC_PATH = "/ws/v5/public"
WS_PRIVATE_PATH = "/ws/v5/private"
WS_BUSINESS_PATH = "/ws/v5/business"
WS_HOST = "wss://ws.okx.com:8443"
WS_PUBLIC_URL = WS_HOST + WS_PUBLIC_PATH
WS_PRIVATE_URL = WS_HOST + WS_PRIVATE_PATH
WS_BUSINESS_URL = WS_HOST + WS_BUSINESS_PATH
DEMO_REST_URL = REST_URL  # demo trading = same host + header below
DEMO_HEADER = ("x-simulated-trading", "1")
DEMO_WS_HOST = "wss://wspap.okx.com:8443"
DEMO_WS_PUBLIC_URL = DEMO_WS_HOST + WS_PUBLIC_PATH
DEMO_WS_PRIVATE_URL = DEMO_WS_HOST + WS_PRIVATE_PATH

# -- REST paths ----------------------------------------------------------------------------------
PATH_INSTRUMENTS = "/api/v5/public/instruments"
PATH_BOOKS = "/api/v5/market/books"
PATH_ORDER = "/api/v5/trade/order"
PATH_BATCH_ORDERS = "/api/v5/trade/batch-orders"
PATH_CANCEL_ORDER = "/api/v5/trade/cancel-order"
PATH_CANCEL_BATCH_ORDERS = "/api/v5/trade/cancel-batch-orders"
PATH_ORDERS_PENDING = "/api/v5/trade/orders-pending"
PATH_FILLS = "/api/v5/trade/fills"
PATH_CANCEL_ALL_AFTER = "/api/v5/trade/cancel-all-after"
PATH_BALANCE = "/api/v5/account/balance"
WS_LOGIN_PATH = "/users/self/verify"  # signed in the WS login prehash, never requested

INST_TYPE_SPOT = "SPOT"
TD_MODE_CASH = "cash"

# -- public channels (§2.2) ------------------------------------------------------------------------
CH_BBO_TBT = "bbo-tbt"
CH_TICKERS = "tickers"
CH_BOOKS = "books"
CH_BOOKS5 = "books5"
CH_BOOKS_L2_TBT = "books-l2-tbt"
CH_BOOKS50_L2_TBT = "books50-l2-tbt"
CH_BOOKS_ELP = "books-elp"
CH_TRADES = "trades"
CH_ORDERS = "orders"
# Channels with snapshot/update actions chained by seqId/prevSeqId.
INCREMENTAL_BOOK_CHANNELS = frozenset({CH_BOOKS, CH_BOOKS_L2_TBT, CH_BOOKS50_L2_TBT, CH_BOOKS_ELP})
VIP4_CHANNELS = frozenset({CH_BOOKS_L2_TBT, CH_BOOKS50_L2_TBT})
PUBLIC_CHANNELS = frozenset({CH_BBO_TBT, CH_TICKERS, CH_BOOKS5, CH_TRADES}
                            | INCREMENTAL_BOOK_CHANNELS)
BOOK_DEPTH = MappingProxyType({CH_BBO_TBT: 1, CH_BOOKS5: 5, CH_BOOKS: 400, CH_BOOKS_L2_TBT: 400,
                               CH_BOOKS50_L2_TBT: 50})

ACTION_SNAPSHOT = "snapshot"
ACTION_UPDATE = "update"
SNAPSHOT_PREV_SEQ_ID = -1
CHECKSUM_LEVELS = 25  # per side, for the legacy CRC32 (fixed to 0 on production since 2026-06-23)


# -- limits (§2.4, §2.6, §2.8) -------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class RateLimit:
    count: int
    window_s: float

    @property
    def per_second(self) -> float:
        return self.count / self.window_s


PING = "ping"
PONG = "pong"
IDLE_CLOSE_S = 30.0           # the server closes a silent connection (code 4004)
PING_AFTER_IDLE_S = 20.0      # send text "ping" well before that
NEW_CONNECTIONS = RateLimit(3, 1.0)            # per IP
SUBSCRIBE_OPS = RateLimit(480, 3600.0)         # subscribe/unsubscribe/login per connection
MAX_ARGS_BYTES = 64 * 1024                     # total length of a request's args
MAX_BOOK_CHANNELS_PER_CONNECTION = 29          # "<30 channels each" for 400/50-level books
MAX_PRIVATE_CONNECTIONS_PER_CHANNEL = 30       # per sub-account (orders, account, ...)
MAX_ID_LEN = 32
MAX_CL_ORD_ID_LEN = 32
MAX_TAG_LEN = 16
MAX_BATCH = 20
REST_BOOK_MAX_SZ = 400
ORDERS_PENDING_MAX_LIMIT = 100
CANCEL_ALL_AFTER_MIN_S = 10
CANCEL_ALL_AFTER_MAX_S = 120
LOGIN_EXPIRY_S = 30
REST_TIMESTAMP_SKEW_S = 30
MAX_PENDING_ORDERS = 4000
MAX_PENDING_ORDERS_PER_INSTRUMENT = 500

PLACE_LIMIT = RateLimit(60, 2.0)               # per UserID+instId, REST and WS shared
CANCEL_LIMIT = RateLimit(60, 2.0)
BATCH_ORDERS_LIMIT = RateLimit(300, 2.0)       # orders, not requests
ORDERS_PENDING_LIMIT = RateLimit(60, 2.0)
CANCEL_ALL_AFTER_LIMIT = RateLimit(1, 1.0)
SUB_ACCOUNT_ORDER_LIMIT = RateLimit(1000, 2.0)  # new+amend, each batch item counts -> 50061
REST_BOOKS_LIMIT = RateLimit(40, 2.0)           # per IP
INSTRUMENTS_LIMIT = RateLimit(20, 2.0)

# -- WebSocket close codes (§2.4) ------------------------------------------------------------------
CLOSE_CODES: Mapping[int, str] = MappingProxyType({
    1009: "frame too long",
    4001: "login failed",
    4002: "invalid request",
    4003: "more than 100 API keys logged in",
    4004: "no data received in 30s",
    4005: "buffer full",
    4006: "abnormal",
    4007: "API key changed or deleted",
    4008: "too many channels",
    4009: "too many channels",
})

# -- order vocabulary (§2.6, §2.7) ----------------------------------------------------------------
ORD_TYPES = frozenset({"market", "limit", "post_only", "fok", "ioc"})
ORDER_STATES = frozenset({"live", "partially_filled", "filled", "canceled", "mmp_canceled"})
TERMINAL_STATES = frozenset({"filled", "canceled", "mmp_canceled"})
TGT_CCY_BASE = "base_ccy"
TGT_CCY_QUOTE = "quote_ccy"
EXEC_TYPE_MAKER = "M"
EXEC_TYPE_TAKER = "T"

CANCEL_SOURCE_USER = "1"
CANCEL_SOURCE_IOC = "14"
CANCEL_SOURCE_FOK = "15"
CANCEL_SOURCE_CANCEL_ALL_AFTER = "20"
CANCEL_SOURCE_POST_ONLY = "31"
CANCEL_SOURCE_STP = "32"

# -- event / op names -------------------------------------------------------------------------------
OP_LOGIN = "login"
OP_SUBSCRIBE = "subscribe"
OP_UNSUBSCRIBE = "unsubscribe"
OP_ORDER = "order"
OP_BATCH_ORDERS = "batch-orders"
OP_CANCEL_ORDER = "cancel-order"
OP_BATCH_CANCEL_ORDERS = "batch-cancel-orders"
TRADE_OPS = frozenset({OP_ORDER, OP_BATCH_ORDERS, OP_CANCEL_ORDER, OP_BATCH_CANCEL_ORDERS,
                       "amend-order", "batch-amend-orders"})
EVENT_ERROR = "error"
EVENT_NOTICE = "notice"
EVENT_CONN_COUNT = "channel-conn-count"
EVENT_CONN_COUNT_ERROR = "channel-conn-count-error"

# -- error codes (§2.6.4); classification lives in errors.py ----------------------------------------
CODE_OK = "0"
CODE_FAILED = "1"
CODE_PARTIAL = "2"
CODE_RATE_LIMIT = "50011"
CODE_BUSY = "50013"
CODE_SUB_ACCOUNT_RATE_LIMIT = "50061"
CODE_TIMESTAMP_EXPIRED = "50102"
CODE_PASSPHRASE = "50105"
CODE_INVALID_KEY = "50111"
CODE_INVALID_TIMESTAMP = "50112"
CODE_INVALID_SIGN = "50113"
CODE_PARAM_ERROR = "51000"
CODE_NO_INSTRUMENT = "51001"
CODE_PRICE_LIMIT = "51006"
CODE_INSUFFICIENT_BALANCE = "51008"
CODE_DUPLICATE_CL_ORD_ID = "51016"
CODE_BELOW_MIN_SIZE = "51020"
CODE_TAG_TIMERS = "51071"
CODE_LOT_SIZE = "51121"
CODE_ORDER_TIMEOUT = "51149"
CODE_CANCEL_FAILED = "51400"
CODE_AMEND_FAILED = "51503"
CODE_ORDER_NOT_EXIST = "51603"
CODE_LOGIN_FAILED = "60009"
CODE_INVALID_REQUEST = "60012"
CODE_INVALID_ARGS = "60013"
CODE_TOO_FREQUENT = "60014"
CODE_FEE_TIER = "64003"
CODE_CHANNEL_CONFLICT = "64004"
CODE_SERVICE_UPGRADE = "64008"
# Codes below are not in EXCHANGES.md's table; they follow OKX docs-v5 `error-code-rest-api`
# (auth header family 501xx) and `error-code-websocket-public` (600xx login/channel errors).
CODE_PARAM_EMPTY = "50014"          # "Parameter {param0} can not be empty"
CODE_KEY_EMPTY = "50103"            # "Request header OK-ACCESS-KEY can not be empty"
CODE_PASSPHRASE_EMPTY = "50104"     # "Request header OK-ACCESS-PASSPHRASE can not be empty"
CODE_SIGN_EMPTY = "50106"           # "Request header OK-ACCESS-SIGN can not be empty"
CODE_TIMESTAMP_EMPTY = "50107"      # "Request header OK-ACCESS-TIMESTAMP can not be empty"
CODE_WS_INVALID_TIMESTAMP = "60004"
CODE_WS_INVALID_KEY = "60005"
CODE_WS_TIMESTAMP_EXPIRED = "60006"
CODE_WS_INVALID_SIGN = "60007"
CODE_WS_NOT_LOGGED_IN = "60011"     # "Please log in"
CODE_WS_NO_CHANNEL = "60018"        # "Wrong URL or channel:{0},instId:{1} doesn't exist"
CODE_WS_WRONG_PASSPHRASE = "60024"
