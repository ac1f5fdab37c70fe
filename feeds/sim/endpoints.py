"""Where the simulated venues listen, and the endpoints every client uses in `sim` mode.

One loopback port per venue (`[sim] base_port` + 0/1/2 for binance/okx/gate); each venue's
paths mirror the live ones (Gate's REST base includes `/api/v4` exactly as live does), so the
same adapter code builds the same request paths against either. An endpoint set explicitly in
`[exchanges.<venue>.sim]` wins over the derived one.
"""
from __future__ import annotations

from pipeline.config import Config, Endpoints

VENUE_PORT_OFFSET = {"binance": 0, "okx": 1, "gate": 2}


def _derived(venue: str, host: str, port: int) -> Endpoints:
    http, ws = f"http://{host}:{port}", f"ws://{host}:{port}"
    if venue == "binance":
        return Endpoints(rest=http, ws_public=ws, ws_private=f"{ws}/ws-api/v3")
    if venue == "okx":
        return Endpoints(rest=http, ws_public=f"{ws}/ws/v5/public",
                         ws_private=f"{ws}/ws/v5/private")
    if venue == "gate":
        return Endpoints(rest=f"{http}/api/v4", ws_public=f"{ws}/ws/v4/",
                         ws_private=f"{ws}/ws/v4/")
    raise ValueError(f"unknown venue {venue!r}")


def sim_port(config: Config, venue: str) -> int:
    return config.sim.base_port + VENUE_PORT_OFFSET[venue]


def sim_endpoints(config: Config, venue: str) -> Endpoints:
    derived = _derived(venue, config.sim.host, sim_port(config, venue))
    own = getattr(config.exchanges, venue).sim
    return Endpoints(rest=own.rest or derived.rest, ws_public=own.ws_public or derived.ws_public,
                     ws_private=own.ws_private or derived.ws_private)


def endpoints_for(config: Config, venue: str) -> Endpoints:
    """The endpoints a feed or gateway connects to in the configured mode."""
    if config.pipeline.mode == "live":
        return getattr(config.exchanges, venue).live
    return sim_endpoints(config, venue)


# Keys the simulated venues accept in `sim` mode when the config leaves them empty. They are
# public on purpose: they open nothing but a loopback simulator.
SIM_CREDENTIALS = {
    "binance": ("simBinanceApiKey0000000000000000", "simBinanceSecret000000000000000", ""),
    "okx": ("sim-okx-api-key-0000", "SIMOKXSECRET0000000000000000000", "SimPass#1"),
    "gate": ("simgateapikey00000000000000000000", "simgatesecret0000000000000000000000", ""),
}


def credentials_for(config: Config, venue: str) -> tuple[str, str, str]:
    """(api_key, secret, passphrase) for the configured mode; sim falls back to SIM_CREDENTIALS."""
    ex = getattr(config.exchanges, venue)
    key, secret, pp = (ex.api_key.get_secret_value(), ex.secret_key.get_secret_value(),
                       ex.passphrase.get_secret_value())
    if config.pipeline.mode != "live" and not key:
        return SIM_CREDENTIALS[venue]
    return key, secret, pp
