"""Config: defaults, the example file, ${VAR} substitution and every kind of mistake."""
from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.cli import main as cli_main
from pipeline.config import ConfigError, auto_cores, available_cores, load_config, parse_config

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "config.toml.example"


def errors_of(data: dict, env: dict | None = None) -> dict[str, str]:
    with pytest.raises(ConfigError) as ei:
        parse_config(data, env or {})
    return {key: msg for key, msg, _ in ei.value.errors}


def test_defaults_are_sim_mode_on_every_venue():
    cfg = load_config(None, env={})
    assert cfg.pipeline.mode == "sim"
    assert cfg.database.url == "embedded"
    assert [v for v, _ in cfg.symbol_table()] == ["binance", "okx", "gate"]


def test_example_file_is_valid_and_covers_every_section():
    cfg = load_config(EXAMPLE, env={})
    text = EXAMPLE.read_text()
    for section in ("[system]", "[database]", "[redis]", "[exchanges.binance]", "[exchanges.okx]",
                    "[exchanges.gate]", "[strategy.market_making]", "[risk]", "[pipeline]",
                    "[sim]", "[monitoring]"):
        assert section in text
    assert cfg.exchanges.okx.symbols == ("BTC/USDT", "ETH/USDT")
    assert cfg.strategy.market_making.spread_bps == 4.0


def test_env_substitution_and_secret_masking():
    cfg = parse_config({"exchanges": {"binance": {"api_key": "${K}", "secret_key": "${S:-dflt}"}}},
                       env={"K": "abc123"})
    assert cfg.exchanges.binance.api_key.get_secret_value() == "abc123"
    assert cfg.exchanges.binance.secret_key.get_secret_value() == "dflt"
    assert "abc123" not in repr(cfg) and "abc123" not in str(cfg.exchanges.binance)


def test_missing_env_var_is_named_with_its_key():
    errs = errors_of({"exchanges": {"gate": {"api_key": "${GATE_KEY}"}}})
    assert "environment variable GATE_KEY is not set" in errs["exchanges.gate.api_key"]


def test_unknown_key_is_named():
    errs = errors_of({"system": {"log_levle": "INFO"}})
    assert errs == {"system.log_levle": "unknown key"}


def test_unknown_section_is_named():
    assert "strategies" in errors_of({"strategies": {}})


def test_wrong_type_and_range_are_named_with_value():
    with pytest.raises(ConfigError) as ei:
        parse_config({"strategy": {"market_making": {"spread_bps": -1, "refresh_interval_ms": "x"}}}, {})
    got = {k: (m, v) for k, m, v in ei.value.errors}
    assert got["strategy.market_making.spread_bps"][1] == -1
    assert got["strategy.market_making.refresh_interval_ms"][1] == "x"


def test_bad_enum_and_non_power_of_two_ring():
    errs = errors_of({"pipeline": {"mode": "paper", "tick_ring_capacity": 1000}})
    assert "pipeline.mode" in errs
    assert errs["pipeline.tick_ring_capacity"] == "must be a power of two"


def test_unknown_sim_scenario_names_the_known_ones():
    errs = errors_of({"sim": {"scenario": "wild"}})
    assert "unknown scenario 'wild'" in errs["sim.scenario"]
    assert "ideal" in errs["sim.scenario"] and "stress" in errs["sim.scenario"]
    assert parse_config({}, {}).sim.scenario == "ideal"


def test_bad_symbol_and_bad_urls():
    errs = errors_of({"exchanges": {"okx": {"symbols": ["BTCUSDT"]}},
                      "database": {"url": "mysql://x"}, "redis": {"url": "http://x"}})
    assert "BASE/QUOTE" in errs["exchanges.okx.symbols"]
    assert "database.url" in errs and "redis.url" in errs


def test_cross_field_rules():
    assert "(top level)" in errors_of({"exchanges": {v: {"enabled": False} for v in ("binance", "okx", "gate")}})
    errs = errors_of({"strategy": {"market_making": {"order_size": 1, "max_position": 0.5}}})
    assert "order_size must not exceed max_position" in errs["strategy.market_making"]


def test_live_mode_requires_keys_and_endpoints():
    errs = errors_of({"pipeline": {"mode": "live"}})
    assert any("live mode needs exchanges.binance.api_key/secret_key" in m for m in errs.values())


def test_cores_must_exist_on_this_machine():
    bad = max(available_cores()) + 1
    errs = errors_of({"pipeline": {"cores": {"engine": [bad]}}})
    assert any(f"core(s) [{bad}] not on this machine" in m for m in errs.values())
    errs = errors_of({"pipeline": {"cores": {"feed": {"kraken": [0]}}}})
    assert any("unknown venue" in m for m in errs.values())


def test_explicit_and_auto_cores():
    cfg = parse_config({"pipeline": {"cores": {"feed": {"binance": [0]}, "engine": [0]}}}, {})
    assert cfg.cores_for("feed", "binance") == (0,)
    assert cfg.cores_for("engine") == (0,)
    assert cfg.cores_for("writer") == tuple(sorted(available_cores()))
    engine = auto_cores("engine")
    if len(available_cores()) > 1:
        assert engine == (max(available_cores()),)
        assert engine[0] not in auto_cores("feed", "okx")


def test_toml_syntax_error_and_missing_file(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[system\nlog_level=1")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(bad)
    with pytest.raises(ConfigError, match="cannot read config file"):
        load_config(tmp_path / "nope.toml")


def test_cli_config_check(tmp_path, capsys):
    assert cli_main(["config", "check", str(EXAMPLE)]) == 0
    assert capsys.readouterr().out.strip() == "ok"
    bad = tmp_path / "c.toml"
    bad.write_text('[system]\nlog_level = "LOUD"\nextra = 1\n[pipeline]\ntick_ring_capacity = 1000\n')
    assert cli_main(["config", "check", str(bad)]) == 2
    out = capsys.readouterr().out
    assert "system.log_level" in out and "'LOUD'" in out
    assert "system.extra: unknown key" in out
    assert "pipeline.tick_ring_capacity: must be a power of two (got 1000)" in out
