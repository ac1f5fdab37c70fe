"""Gate (APIv4, spot) constants as data: endpoints, paths, channels, limits, labels.

Read by the gate feed, the gate order gateway and the simulated Gate venue so that all three
agree on one spelling of every URL, channel and limit (EXCHANGES.md §3). Nothing here does I/O.
"""
from __future__ import annotations

from dataclasses import dataclass

VENUE = "gate"

# -- endpoints (§3.1) --------------------------------------------------------------------------
REST_URL = "https://api.gateio.ws/api/v4"
REST_TESTNET_URL = "https://api-testnet.gateapi.io/api/v4"
WS_URL = "wss://api.gateio.ws/ws/v4/"  # market data, private channels and the WS trading API
API_PREFIX = "/api/v4"  # part of the signed URL path

# REST paths, relative to REST_URL (sign with API_PREFIX + path)
PATH_CURRENCY_PAIRS = "/spot/currency_pairs"
PATH_ORDER_BOOK = "/spot/order_book"
PATH_ORDERS = "/spot/orders"
PATH_BATCH_ORDERS = "/spot/batch_orders"
PATH_CANCEL_BATCH_ORDERS = "/spot/cancel_batch_orders"
PATH_OPEN_ORDERS = "/spot/open_orders"
PATH_MY_TRADES = "/spot/my_trades"
PATH_COUNTDOWN_CANCEL_ALL = "/spot/countdown_cancel_all"
PATH_TIME = "/spot/time"
PATH_ACCOUNTS = "/spot/accounts"
PATH_CURRENCIES = "/spot/currencies"
PATH_MARGIN_CURRENCY_PAIRS = "/margin/currency_pairs"  # ccxt reads it while loading spot markets
PATH_ACCOUNT_DETAIL = "/account/detail"

# -- WS channels (§3.2, §3.6.3, §3.7) ------------------------------------------------------------
CH_BOOK_TICKER = "spot.book_ticker"
CH_ORDER_BOOK_UPDATE = "spot.order_book_update"
CH_ORDER_BOOK = "spot.order_book"
CH_TRADES = "spot.trades"
CH_TRADES_V2 = "spot.trades_v2"
CH_TICKERS = "spot.tickers"
CH_PING = "spot.ping"
CH_PONG = "spot.pong"

CH_ORDERS = "spot.orders"
CH_ORDERS_V2 = "spot.orders_v2"
CH_USERTRADES = "spot.usertrades"
CH_USERTRADES_V2 = "spot.usertrades_v2"
CH_BALANCES = "spot.balances"
PRIVATE_CHANNELS = (CH_ORDERS, CH_ORDERS_V2, CH_USERTRADES, CH_USERTRADES_V2, CH_BALANCES)

CH_LOGIN = "spot.login"
CH_ORDER_PLACE = "spot.order_place"
CH_ORDER_CANCEL = "spot.order_cancel"
CH_ORDER_CANCEL_IDS = "spot.order_cancel_ids"
CH_ORDER_CANCEL_CP = "spot.order_cancel_cp"
CH_ORDER_AMEND = "spot.order_amend"
CH_ORDER_STATUS = "spot.order_status"
CH_ORDER_LIST = "spot.order_list"
API_CHANNELS = (CH_LOGIN, CH_ORDER_PLACE, CH_ORDER_CANCEL, CH_ORDER_CANCEL_IDS,
                CH_ORDER_CANCEL_CP, CH_ORDER_AMEND, CH_ORDER_STATUS, CH_ORDER_LIST)

EV_SUBSCRIBE = "subscribe"
EV_UNSUBSCRIBE = "unsubscribe"
EV_UPDATE = "update"
EV_API = "api"

ALL_PAIRS = "!all"  # private-channel payload meaning every pair

# spot.order_book_update: "100ms" is the only interval since 2024-11-28
ORDER_BOOK_UPDATE_INTERVAL = "100ms"
ORDER_BOOK_LEVELS = (5, 10, 20, 50, 100)
ORDER_BOOK_INTERVALS = ("100ms", "1000ms")
REST_SNAPSHOT_LIMIT = 100  # the local-book recipe's snapshot depth (§3.3)

# WS subscribe error codes (§3.2)
WS_ERR_INVALID_BODY = 1
WS_ERR_INVALID_ARGUMENT = 2
WS_ERR_SERVER = 3
WS_ERR_AUTH = 4

# -- orders (§3.6.1) -----------------------------------------------------------------------------
TEXT_PREFIX = "t-"
TEXT_MAX_BYTES = 28  # after the prefix
TEXT_DEFAULT_REST = "apiv4"
TEXT_DEFAULT_WS = "apiv4-ws"
TIF_GTC, TIF_IOC, TIF_POC, TIF_FOK = "gtc", "ioc", "poc", "fok"
ORDER_STATUSES = ("open", "closed", "cancelled")
FINISH_AS = ("open", "filled", "cancelled", "liquidate_cancelled", "small", "depth_not_enough",
             "trader_not_enough", "ioc", "poc", "fok", "stp", "unknown")
ORDER_PUSH_EVENTS = ("put", "update", "finish")
TRADE_STATUSES = ("untradable", "buyable", "sellable", "tradable")


@dataclass(frozen=True, slots=True)
class Limits:
    """Documented limits (§3.4, §3.8). Windows are in seconds."""

    order_place_per_s: int = 10          # place + amend, per UID and market (REST)
    cancel_per_s: int = 200              # single or batch cancel
    private_other: tuple[int, int] = (200, 10)  # requests per window, per endpoint
    public: tuple[int, int] = (200, 10)  # per endpoint per IP
    ws_order_place_per_s: int = 10       # WS trading API place/amend, total
    ws_connections_per_ip: int = 300
    request_time_skew_s: int = 60        # `time` / `Timestamp` must be this close to server time
    app_ping_interval_s: int = 5         # official SDK's spot.ping period
    countdown_min_timeout_s: int = 5     # countdown_cancel_all: 0 disables, else >= 5
    batch_max_pairs: int = 4
    batch_max_orders_per_pair: int = 10
    cancel_batch_max_orders: int = 20
    open_orders_page_max: int = 100
    # The copy of the docs read states no cap on pairs per subscription and no idle timeout;
    # None means "not documented", not "unlimited".
    max_pairs_per_subscribe: int | None = None
    idle_timeout_s: int | None = None


LIMITS = Limits()


@dataclass(frozen=True, slots=True)
class KeepAlive:
    """Our connection keep-alive policy for Gate (§3.4). The server pings at protocol level
    (any WS library answers); we also send the SDK's `spot.ping` when idle, which resets the
    server's idle timer. The docs state neither an idle timeout nor a forced disconnect, so the
    idle limit and the lifetime below are our own conservative choices, not venue numbers."""

    app_ping_after_idle_s: float = 5.0       # the official SDK's spot.ping period
    idle_timeout_s: float = 20.0             # nothing, not even a pong, for this long -> dead
    max_lifetime_s: float = 12 * 3600.0      # roll over before any undocumented forced cut


KEEPALIVE = KeepAlive()

# -- error labels (§3.6.4) -------------------------------------------------------------------------
ERROR_LABELS = (
    "BALANCE_NOT_ENOUGH", "POC_FILL_IMMEDIATELY",
    "ORDER_NOT_FOUND", "ORDER_CLOSED", "ORDER_CANCELLED", "CANCEL_FAIL",
    "INVALID_PRECISION", "INVALID_CURRENCY_PAIR",
    "AMOUNT_TOO_LITTLE", "AMOUNT_TOO_MUCH", "QUANTITY_NOT_ENOUGH",
    "TOO_MANY_ORDERS", "TOO_MANY_CURRENCY_PAIRS", "MIXED_ACCOUNT_TYPE",
    "FOK_NOT_FILL",
    "INVALID_SIGNATURE", "INVALID_KEY", "REQUEST_EXPIRED", "IP_FORBIDDEN", "READ_ONLY",
    "MISSING_REQUIRED_HEADER", "FORBIDDEN",
    "INVALID_PARAM_VALUE", "INVALID_ARGUMENT", "MISSING_REQUIRED_PARAM", "INVALID_REQUEST_BODY",
    "TOO_MANY_REQUESTS",
    "INTERNAL", "SERVER_ERROR", "TOO_BUSY",
)
