"""Configuration: frozen pydantic v2 models, TOML loading with `${VAR}` substitution.

Every process loads the same file (the supervisor passes its path). A bad config must stop the
system before anything starts, naming the key and the bad value: `load_config` raises
`ConfigError` whose `errors` list holds `(key.path, message, bad value)` for every mistake at
once, and `hft config check FILE` prints them.

Secrets (`api_key`, `secret_key`, `passphrase`) are `SecretStr`: their repr and str are
masked, so a config dump, log line or traceback never shows them.
"""
from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import (BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator,
                      model_validator)

from pipeline.model import VENUES, split_symbol

Mode = Literal["sim", "live", "replay"]
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]

_VAR_RE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(:-([^}]*))?\}")


class ConfigError(Exception):
    """A config that cannot be used; `errors` lists (key path, message, bad value)."""

    def __init__(self, errors: list[tuple[str, str, Any]]) -> None:
        self.errors = errors
        super().__init__("\n".join(format_error(e) for e in errors))


def format_error(err: tuple[str, str, Any]) -> str:
    key, msg, value = err
    return f"{key}: {msg} (got {value!r})" if value is not _MISSING else f"{key}: {msg}"


_MISSING: Any = object()


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SystemConfig(_Model):
    log_level: LogLevel = "INFO"
    max_orders_per_second: float = Field(default=50.0, gt=0)
    enforce_venue_order_limits: bool = Field(
        default=True, description="false only for benchmarks against the simulator: gateways "
                                  "then pace by max_orders_per_second alone")
    data_dir: str = "data"
    run_duration_s: float = Field(default=0.0, ge=0, description="0 = run until stopped")


class DatabaseConfig(_Model):
    url: str = "embedded"
    max_connections: int = Field(default=4, ge=1, le=64)

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        if v != "embedded" and not v.startswith(("postgresql://", "postgres://")):
            raise ValueError('must be "embedded" or a postgresql:// URL')
        return v


class RedisConfig(_Model):
    url: str = "embedded"

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        if v not in ("", "embedded") and not v.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError('must be "embedded", "" (off) or a redis:// URL')
        return v


class Endpoints(_Model):
    rest: str = ""
    ws_public: str = ""
    ws_private: str = ""


class ExchangeConfig(_Model):
    enabled: bool = True
    api_key: SecretStr = SecretStr("")
    secret_key: SecretStr = SecretStr("")
    passphrase: SecretStr = SecretStr("")
    symbols: tuple[str, ...] = ("BTC/USDT",)
    sim: Endpoints = Endpoints()
    live: Endpoints = Endpoints()
    maker_fee_bps: float = Field(default=10.0, ge=-10, le=100)
    taker_fee_bps: float = Field(default=10.0, ge=-10, le=100)

    @field_validator("symbols")
    @classmethod
    def _symbols(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        if not v:
            raise ValueError("at least one symbol is required")
        for s in v:
            split_symbol(s)
        if len(set(v)) != len(v):
            raise ValueError("duplicate symbol")
        return v


class ExchangesConfig(_Model):
    binance: ExchangeConfig = ExchangeConfig()
    okx: ExchangeConfig = ExchangeConfig()
    gate: ExchangeConfig = ExchangeConfig()

    def enabled(self) -> dict[str, ExchangeConfig]:
        return {v: getattr(self, v) for v in VENUES if getattr(self, v).enabled}


class MarketMakingConfig(_Model):
    enabled: bool = True
    spread_bps: float = Field(default=4.0, gt=0, le=10_000)
    order_size: float = Field(default=0.001, gt=0)
    max_position: float = Field(default=0.01, gt=0)
    refresh_interval_ms: int = Field(default=250, ge=1, le=600_000)
    layers: int = Field(default=2, ge=1, le=20)
    layer_spacing_bps: float = Field(default=5.0, ge=0)
    requote_tolerance_bps: float = Field(default=2.0, ge=0)
    risk_aversion: float = Field(default=0.1, gt=0)
    volatility_halflife_ms: int = Field(default=5_000, ge=1)

    @model_validator(mode="after")
    def _size(self) -> "MarketMakingConfig":
        if self.order_size > self.max_position:
            raise ValueError("order_size must not exceed max_position")
        return self


class StrategyConfig(_Model):
    market_making: MarketMakingConfig = MarketMakingConfig()


class RiskConfig(_Model):
    max_order_size: float = Field(default=0.01, gt=0)
    max_order_notional: float = Field(default=1_000.0, gt=0)
    price_collar_bps: float = Field(default=100.0, gt=0)
    max_position_per_venue: float = Field(default=0.02, gt=0)
    max_position_total: float = Field(default=0.05, gt=0)
    max_open_orders: int = Field(default=40, ge=1)
    max_orders_per_second: float = Field(default=50.0, gt=0)
    daily_loss_limit: float = Field(default=500.0, gt=0)
    trailing_drawdown_limit: float = Field(default=250.0, gt=0)
    stale_book_ms: int = Field(default=5_000, ge=1)


class CoresConfig(_Model):
    """Explicit pinning: `feed.binance = [0]`, `engine = [1]`, ... (unlisted -> all cores)."""

    feed: dict[str, tuple[int, ...]] = {}
    gateway: dict[str, tuple[int, ...]] = {}
    engine: tuple[int, ...] = ()
    writer: tuple[int, ...] = ()
    sim: tuple[int, ...] = ()
    supervisor: tuple[int, ...] = ()

    @model_validator(mode="after")
    def _venues(self) -> "CoresConfig":
        for group in ("feed", "gateway"):
            for venue in getattr(self, group):
                if venue not in VENUES:
                    raise ValueError(f"{group}.{venue}: unknown venue (expected one of {VENUES})")
        return self


class WaitConfig(_Model):
    """How the engine waits when a pass found nothing to do (`shm.multiwait.MultiWait`):
    `phased` spins `engine_spin_us`, then yields the core (`sched_yield`) until
    `engine_yield_us`, then parks on every tick ring's and the report queue's doorbell at
    once (futex_waitv, ~0 % CPU); `block` parks at once. A longer yield window keeps the
    engine awake between ticks of an active market (a parked process takes ~100-200 us to
    wake on a virtual machine), at the price of its core's idle time while the market is
    active; an idle market still parks it within the window. (Gateways wait in their event
    loop, woken by their order queue; the writer polls its rings every few milliseconds.)"""

    engine: Literal["phased", "block"] = "phased"
    engine_spin_us: float = Field(default=20.0, ge=0, le=10_000)
    engine_yield_us: float = Field(default=100.0, ge=0, le=100_000)


class RestartConfig(_Model):
    max_restarts: int = Field(default=5, ge=0)
    backoff_initial_ms: int = Field(default=200, ge=1)
    backoff_max_ms: int = Field(default=10_000, ge=1)
    heartbeat_timeout_ms: int = Field(default=5_000, ge=100)
    startup_timeout_ms: int = Field(default=30_000, ge=100,
                                    description="first beat due within this")


class PipelineConfig(_Model):
    mode: Mode = "sim"
    cores: CoresConfig | Literal["auto"] = "auto"
    wait: WaitConfig = WaitConfig()
    tick_ring_capacity: int = Field(default=1 << 16, ge=64)
    event_queue_bytes: int = Field(default=32 << 20, ge=1 << 16)
    book_depth: int = Field(default=20, ge=1, le=400)
    restart: RestartConfig = RestartConfig()
    shutdown_timeout_s: float = Field(default=10.0, gt=0)
    capture: bool = Field(default=False, description="tee raw venue frames to capture files")
    capture_queue_bytes: int = Field(default=64 << 20, ge=1 << 16)
    realtime_priority: int = Field(
        default=0, ge=0, le=99,
        description="SCHED_FIFO priority of the hot-path processes (feeds, engine, gateways) so "
        "a market-data frame or an order never waits behind the simulator, the writer or "
        "another program for its core; 0 = normal scheduling. Needs root or CAP_SYS_NICE "
        "(refused: logged once, normal scheduling). Every hot-path wait parks within "
        "[pipeline.wait] engine_yield_us, so they cannot starve their core")

    @field_validator("tick_ring_capacity")
    @classmethod
    def _pow2(cls, v: int) -> int:
        if v & (v - 1):
            raise ValueError("must be a power of two")
        return v


class SimConfig(_Model):
    seed: int = 42
    host: str = "127.0.0.1"
    base_port: int = Field(default=18_400, ge=1024, le=65_000)
    message_rate: float = Field(default=200.0, gt=0,
                                description="market-data events per second per symbol")
    order_rate_limits: bool = Field(
        default=True, description="the simulated venues throttle orders as the real ones do "
        "(Binance order counts and request weight, Gate 10 places/s); false lifts them for benchmarks "
        "of our own order path, which no real account allows")
    scenario: str = Field(default="ideal",
                          description="fault scenario (feeds.sim.faults.SCENARIOS)")
    disable_okx_ws_snapshot: bool = False

    @field_validator("scenario")
    @classmethod
    def _known_scenario(cls, v: str) -> str:
        from feeds.sim.faults import SCENARIOS  # the simulator owns the list
        if v not in SCENARIOS:
            raise ValueError(f"unknown scenario {v!r}; known: {', '.join(sorted(SCENARIOS))}")
        return v


class ControlTokenConfig(_Model):
    name: str = Field(min_length=1, max_length=64)
    role: Literal["viewer", "trader", "admin"]
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="SHA-256 of the token, never the token")


class ControlConfig(_Model):
    host: str = "127.0.0.1"
    port: int = Field(default=0, ge=0, le=65_535, description="0 = control API off")
    tokens: tuple[ControlTokenConfig, ...] = ()
    audit_file: str = "audit/audit.jsonl"  # under system.data_dir


class MonitoringConfig(_Model):
    prometheus_port: int = Field(default=0, ge=0, le=65_535, description="0 = off")


class Config(_Model):
    system: SystemConfig = SystemConfig()
    database: DatabaseConfig = DatabaseConfig()
    redis: RedisConfig = RedisConfig()
    exchanges: ExchangesConfig = ExchangesConfig()
    strategy: StrategyConfig = StrategyConfig()
    risk: RiskConfig = RiskConfig()
    pipeline: PipelineConfig = PipelineConfig()
    sim: SimConfig = SimConfig()
    monitoring: MonitoringConfig = MonitoringConfig()
    control: ControlConfig = ControlConfig()

    @model_validator(mode="after")
    def _cross_checks(self) -> "Config":
        if not self.exchanges.enabled():
            raise ValueError("no exchange is enabled")
        if self.pipeline.mode == "live":
            for venue, ex in self.exchanges.enabled().items():
                missing = [k for k in ("api_key", "secret_key") if not getattr(ex, k).get_secret_value()]
                if venue == "okx" and not ex.passphrase.get_secret_value():
                    missing.append("passphrase")
                if missing:
                    raise ValueError(f"live mode needs exchanges.{venue}.{'/'.join(missing)}")
                if not (ex.live.rest and ex.live.ws_public and ex.live.ws_private):
                    raise ValueError(f"live mode needs exchanges.{venue}.live endpoints")
        if isinstance(self.pipeline.cores, CoresConfig):
            available = available_cores()
            c = self.pipeline.cores
            groups: list[tuple[str, tuple[int, ...]]] = [
                ("engine", c.engine), ("writer", c.writer), ("sim", c.sim),
                ("supervisor", c.supervisor)]
            groups += [(f"feed.{k}", v) for k, v in c.feed.items()]
            groups += [(f"gateway.{k}", v) for k, v in c.gateway.items()]
            for key, cores in groups:
                bad = [x for x in cores if x not in available]
                if bad:
                    raise ValueError(f"pipeline.cores.{key}: core(s) {bad} not on this machine "
                                     f"(available {sorted(available)})")
        return self

    # -- derived -----------------------------------------------------------------------------
    def symbol_table(self) -> list[tuple[str, str]]:
        """Every enabled (venue, symbol), in a fixed order: the index is the ring symbol_id."""
        return [(v, s) for v, ex in self.exchanges.enabled().items() for s in ex.symbols]

    def cores_for(self, role: str, venue: str = "") -> tuple[int, ...]:
        """Cores a process is pinned to (explicit config, or the `auto` spread)."""
        if self.pipeline.cores == "auto":
            return auto_cores(role, venue)
        c = self.pipeline.cores
        if role in ("feed", "gateway"):
            cores = getattr(c, role).get(venue, ())
        else:
            cores = getattr(c, role, ())
        return cores or tuple(sorted(available_cores()))


CORES_ENV = "HFT_MACHINE_CORES"


def available_cores() -> set[int]:
    """The cores this run may use. The supervisor records them in the environment before it
    pins itself, so its children (which inherit the supervisor's narrowed affinity) still
    validate the core table against the whole machine."""
    inherited = os.environ.get(CORES_ENV, "")
    if inherited:
        try:
            return {int(c) for c in inherited.split(",")}
        except ValueError:
            pass
    try:
        return set(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - non-Linux
        return set(range(os.cpu_count() or 1))


def auto_cores(role: str, venue: str = "") -> tuple[int, ...]:
    """Spread processes over the machine: the engine gets the last core to itself; feeds,
    gateways, writer and simulator share the rest (on one core, everything shares it)."""
    cores = sorted(available_cores())
    if len(cores) == 1:
        return (cores[0],)
    engine, rest = cores[-1], cores[:-1]
    if role == "engine":
        return (engine,)
    if role in ("feed", "gateway") and venue in VENUES and len(rest) > 1:
        return (rest[VENUES.index(venue) % len(rest)],)
    return tuple(rest)


# -- loading ---------------------------------------------------------------------------------
def substitute_env(obj: Any, env: dict[str, str], path: str = "",
                   errors: list[tuple[str, str, Any]] | None = None) -> Any:
    """Replace `${VAR}` / `${VAR:-default}` in every string; a missing VAR is an error naming
    both the variable and the key that uses it."""
    errs = errors if errors is not None else []
    if isinstance(obj, dict):
        return {k: substitute_env(v, env, f"{path}.{k}" if path else str(k), errs)
                for k, v in obj.items()}
    if isinstance(obj, list):
        return [substitute_env(v, env, f"{path}.{i}", errs) for i, v in enumerate(obj)]
    if isinstance(obj, str):
        def repl(m: re.Match[str]) -> str:
            name, has_default, default = m.group(1), m.group(2), m.group(3)
            if name in env:
                return env[name]
            if has_default is not None:
                return default or ""
            errs.append((path, f"environment variable {name} is not set", _MISSING))
            return ""
        return _VAR_RE.sub(repl, obj)
    return obj


def _pydantic_errors(exc: ValidationError) -> list[tuple[str, str, Any]]:
    out = []
    for e in exc.errors():
        key = ".".join(str(p) for p in e["loc"]) or "(top level)"
        value = e.get("input", _MISSING)
        if isinstance(value, dict):
            value = _MISSING  # a whole section: the message says what is wrong with it
        if e["type"] == "extra_forbidden":
            msg = "unknown key"
        else:
            msg = e["msg"].removeprefix("Value error, ")
        if any(k in key for k in ("api_key", "secret_key", "passphrase")):
            value = "***"
        out.append((key, msg, value))
    return out


def parse_config(data: dict[str, Any], env: dict[str, str] | None = None) -> Config:
    errors: list[tuple[str, str, Any]] = []
    resolved = substitute_env(data, dict(os.environ) if env is None else env, "", errors)
    try:
        cfg = Config.model_validate(resolved)
    except ValidationError as exc:
        errors.extend(_pydantic_errors(exc))
        raise ConfigError(errors) from None
    if errors:
        raise ConfigError(errors)
    return cfg


def load_config(path: str | os.PathLike[str] | None, env: dict[str, str] | None = None) -> Config:
    """Load and validate a TOML file (None -> all defaults: sim mode on every venue)."""
    if path is None:
        return parse_config({}, env)
    p = Path(path)
    try:
        text = p.read_text()
    except OSError as exc:
        raise ConfigError([(str(p), f"cannot read config file: {exc.strerror}", _MISSING)]) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([(str(p), f"not valid TOML: {exc}", _MISSING)]) from None
    return parse_config(data, env)
