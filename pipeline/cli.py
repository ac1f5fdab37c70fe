"""The `hft` command line: run, status, config check, bench, sim.

Thin: parses arguments, loads config, and hands off to the supervisor, the status table or a
benchmark module. Exit codes: 0 ok, 1 runtime failure, 2 bad config or usage.
"""
from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from pipeline.config import ConfigError, load_config

DEFAULT_CONFIG = "config.toml"


def _config_path(arg: str | None) -> str | None:
    """--config, else ./config.toml when present, else built-in defaults (sim mode)."""
    if arg:
        return arg
    return DEFAULT_CONFIG if os.path.exists(DEFAULT_CONFIG) else None


def cmd_config_check(args: argparse.Namespace) -> int:
    try:
        load_config(args.file)
    except ConfigError as exc:
        for line in str(exc).splitlines():
            print(line)
        return 2
    print("ok")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from pipeline.logging_setup import setup_logging
    from pipeline.supervisor import Supervisor

    path = _config_path(args.config)
    try:
        config = load_config(path)
    except ConfigError as exc:
        print(f"bad config {path or '(defaults)'}:", file=sys.stderr)
        print(str(exc), file=sys.stderr)
        return 2
    setup_logging(config.system.log_level, "supervisor")
    from pipeline.logging_setup import register_config_secrets

    register_config_secrets(config)
    sup = Supervisor(config, path, duration_s=args.duration, summary_path=args.summary)
    return sup.run()


def cmd_sim(args: argparse.Namespace) -> int:
    """The simulated venues alone; first output line: the endpoints as one JSON object."""
    import asyncio
    import signal

    from pipeline.logging_setup import setup_logging

    path = _config_path(args.config)
    try:
        config = load_config(path)
    except ConfigError as exc:
        print(f"bad config {path or '(defaults)'}:", file=sys.stderr)
        print(str(exc), file=sys.stderr)
        return 2
    if args.port is not None:
        config = config.model_copy(update={"sim": config.sim.model_copy(
            update={"base_port": args.port})})
    setup_logging(config.system.log_level, "sim")
    from feeds.sim.faults import SCENARIOS
    if args.scenario and args.scenario not in SCENARIOS:
        print(f"unknown scenario {args.scenario!r}; known: {', '.join(sorted(SCENARIOS))}",
              file=sys.stderr)
        return 2
    from feeds.sim.server import SimStartError, serve

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        if args.duration:
            loop.call_later(args.duration, stop.set)
        await serve(config, stop, announce=lambda line: print(line, flush=True),
                    scenario=args.scenario)

    from pipeline import aio
    try:
        aio.run(run())
    except SimStartError as exc:
        print(exc, file=sys.stderr)
        return 1
    return 0


def cmd_replay(args: argparse.Namespace) -> int:
    """Captured frames back through the feed code; prints what the books ended as."""
    from pipeline.replay import main as replay_main

    try:
        config = load_config(_config_path(args.config))
    except ConfigError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    return replay_main(args.path, config, args.speed, args.venue, args.books_json)


def status_rows() -> list[dict[str, Any]]:
    """Every process of every live run on this machine, from the shared status tables."""
    from shm import registry
    from pipeline.supervisor import STATE_NAMES
    from shm.status import StatusLayoutError, StatusTable

    rows: list[dict[str, Any]] = []
    now = time.time_ns()
    for name in registry.list_segments():
        if ".status." not in name:
            continue
        owner = int(name.split(".")[1])
        try:
            os.kill(owner, 0)
        except ProcessLookupError:
            continue
        try:
            table = StatusTable.attach(name)
        except (StatusLayoutError, FileNotFoundError):
            continue  # being created or just removed
        try:
            for entry in table.snapshot():
                pid = entry.get("pid", 0)
                try:
                    cores = sorted(os.sched_getaffinity(pid)) if pid else []
                except OSError:
                    cores = []
                hb = entry.get("heartbeat_ns", 0)
                rows.append({
                    "supervisor": owner,
                    "name": entry.get("role", ""),
                    "pid": pid,
                    "cores": cores,
                    "heartbeat_age_s": round((now - hb) / 1e9, 3) if hb else None,
                    "restarts": entry.get("restarts", 0),
                    "state": STATE_NAMES.get(entry.get("state", 0), str(entry.get("state"))),
                    "counters": entry.get("counters", {}),
                })
        finally:
            table.close()
    return rows


def cmd_status(args: argparse.Namespace) -> int:
    rows = status_rows()
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    if not rows:
        print("no hft run is active on this machine")
        return 1
    print(f"{'process':<18}{'pid':>8}  {'cores':<8}{'beat age':>9}  {'restarts':>8}  "
          f"{'state':<9} counters")
    for r in rows:
        age = "-" if r["heartbeat_age_s"] is None else f"{r['heartbeat_age_s']:.2f}s"
        counters = " ".join(f"{k}={v}" for k, v in r["counters"].items() if v)
        print(f"{r['name']:<18}{r['pid']:>8}  {','.join(map(str, r['cores'])):<8}{age:>9}  "
              f"{r['restarts']:>8}  {r['state']:<9} {counters}")
    return 0


def cmd_top(args: argparse.Namespace) -> int:
    from pipeline.top import run

    try:
        return run(args.refresh, args.iterations)
    except KeyboardInterrupt:
        return 0


BENCHES = {"ring": "bench.ring", "sim_matching": "bench.sim_matching", "oms": "bench.oms",
           "writer": "bench.writer", "feed": "bench.feed", "strategy": "bench.strategy",
           "tick_to_order": "bench.tick_to_order", "orders": "bench.orders", "sim": "bench.sim",
           "order_codecs": "bench.order_codecs"}


def cmd_bench(args: argparse.Namespace) -> int:
    """Run benchmarks, each in its own interpreter (a clean process per figure), and write
    one report: every benchmark's JSON figures plus the machine, as `bench/out/report-*.json`."""
    import platform
    import subprocess

    names = list(BENCHES) if args.name == "all" else [args.name]
    report: dict[str, Any] = {"cores": os.cpu_count(), "python": platform.python_version(),
                              "machine": platform.machine(), "started": time.strftime(
                                  "%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "results": {}}
    code = 0
    for name in names:
        print(f"== bench {name}", file=sys.stderr, flush=True)
        proc = subprocess.run([sys.executable, "-m", BENCHES[name], "--json"],
                              capture_output=True, text=True)
        figures = None
        for line in reversed(proc.stdout.strip().splitlines()):
            try:
                figures = json.loads(line)
                break
            except ValueError:
                continue
        if proc.returncode != 0 or figures is None:
            code = 1
            report["results"][name] = {"error": (proc.stderr or proc.stdout)[-2000:]}
            print(f"bench {name} failed (exit {proc.returncode})", file=sys.stderr)
            continue
        report["results"][name] = figures
        print(json.dumps({name: figures}) if args.json else f"{name}: {figures}", flush=True)
    out = Path("bench") / "out"
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"report-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(report, indent=2))
    print(f"report: {path}", file=sys.stderr)
    return code


def cmd_audit_verify(args: argparse.Namespace) -> int:
    from pipeline.audit import verify

    try:
        res = verify(args.file)
    except OSError as exc:
        print(f"cannot read {args.file}: {exc.strerror}")
        return 2
    if res.ok:
        print(f"ok: {res.records} records, chain intact")
        return 0
    for problem in res.problems:
        print(problem)
    return 1


def _passphrase(confirm: bool = False) -> str:
    env = os.environ.get("HFT_KEYSTORE_PASSPHRASE")
    if env:
        return env
    import getpass

    pw = getpass.getpass("keystore passphrase: ")
    if confirm and getpass.getpass("again: ") != pw:
        raise SystemExit("passphrases differ")
    return pw


def cmd_keys(args: argparse.Namespace) -> int:
    from pipeline.keystore import Keystore, KeystoreError

    try:
        ks = Keystore(args.keystore, _passphrase(confirm=args.keys_cmd == "add"
                                                  and not os.path.exists(args.keystore)))
        if args.keys_cmd == "add":
            import getpass

            value = os.environ.get("HFT_KEY_VALUE") or getpass.getpass(f"value for {args.name}: ")
            ks.put(args.name, value)
            print(f"stored {args.name}")
        elif args.keys_cmd == "list":
            for name in ks.names():
                print(name)
        elif args.keys_cmd == "remove":
            if not ks.remove(args.name):
                print(f"no key named {args.name}")
                return 1
            print(f"removed {args.name}")
    except KeystoreError as exc:
        print(f"keystore: {exc}", file=sys.stderr)
        return 2
    return 0


def cmd_control_token(args: argparse.Namespace) -> int:
    from pipeline.control_api import hash_token, mint_token

    token = mint_token()
    print(f"token (give to the operator, shown once): {token}")
    print(f'config line: {{ name = "{args.name}", role = "{args.role}", sha256 = "{hash_token(token)}" }}')
    return 0


def cmd_control_call(args: argparse.Namespace) -> int:
    """halt | resume | kill | limits through the supervisor's control API."""
    import urllib.error
    import urllib.request

    path = _config_path(args.config)
    try:
        config = load_config(path)
    except ConfigError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    if not config.control.port:
        print("the control API is off: set [control] port and tokens in the config", file=sys.stderr)
        return 2
    token = os.environ.get("HFT_CONTROL_TOKEN", "")
    if not token:
        print("set HFT_CONTROL_TOKEN to your control token", file=sys.stderr)
        return 2
    body: dict[str, Any] = {}
    if args.cmd in ("halt", "kill") and args.reason:
        body["reason"] = args.reason
    if args.cmd == "limits":
        for item in args.set or []:
            key, _, value = item.partition("=")
            try:
                body[key] = float(value)
            except ValueError:
                print(f"bad limit {item!r}: expected NAME=NUMBER", file=sys.stderr)
                return 2
    url = f"http://{config.control.host}:{config.control.port}/{args.cmd}"
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                 headers={"Authorization": f"Bearer {token}",
                                          "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            print(resp.read().decode())
            return 0
    except urllib.error.HTTPError as exc:
        print(f"{exc.code}: {exc.read().decode()}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"cannot reach the supervisor at {url}: {exc}", file=sys.stderr)
        return 1


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="hft", description="hft: HFT market making for Binance, OKX, Gate")
    sub = p.add_subparsers(dest="cmd", required=True)

    r = sub.add_parser("run", help="start the whole system under the supervisor")
    r.add_argument("--config", help=f"config file (default ./{DEFAULT_CONFIG} if present)")
    r.add_argument("--duration", type=float, default=None, help="stop by itself after SECONDS")
    r.add_argument("--summary", default=None, help="also write the run summary as JSON here")
    r.set_defaults(func=cmd_run)

    s = sub.add_parser("status", help="every process of the running system")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_status)

    t = sub.add_parser("top", help="live terminal dashboard of the running system")
    t.add_argument("--refresh", type=float, default=0.5)
    t.add_argument("--iterations", type=int, default=None, help="stop after N refreshes")
    t.set_defaults(func=cmd_top)

    c = sub.add_parser("config", help="configuration tools")
    csub = c.add_subparsers(dest="config_cmd", required=True)
    cc = csub.add_parser("check", help='print "ok" or every error with its key path')
    cc.add_argument("file")
    cc.set_defaults(func=cmd_config_check)

    a = sub.add_parser("audit", help="audit log tools")
    asub = a.add_subparsers(dest="audit_cmd", required=True)
    av = asub.add_parser("verify", help="check the hash chain; name every broken record")
    av.add_argument("file")
    av.set_defaults(func=cmd_audit_verify)

    k = sub.add_parser("keys", help="encrypted keystore for venue API keys")
    k.add_argument("--keystore", default=os.path.join("data", "keystore.json"))
    ksub = k.add_subparsers(dest="keys_cmd", required=True)
    ka = ksub.add_parser("add", help="add or replace a key (value from a prompt or HFT_KEY_VALUE)")
    ka.add_argument("name")
    ksub.add_parser("list", help="names only, never values")
    kr = ksub.add_parser("remove")
    kr.add_argument("name")
    k.set_defaults(func=cmd_keys)

    ct = sub.add_parser("control", help="control API tools")
    ctsub = ct.add_subparsers(dest="control_cmd", required=True)
    tok = ctsub.add_parser("token", help="mint a token and print its hashed config line")
    tok.add_argument("name")
    tok.add_argument("role", choices=["viewer", "trader", "admin"])
    tok.set_defaults(func=cmd_control_token)

    for name, helptext in (("halt", "stop quoting (orders stay managed)"),
                           ("resume", "resume quoting after a halt"),
                           ("kill", "halt and cancel every open order on every venue"),
                           ("limits", "change risk limits: --set NAME=NUMBER ...")):
        cp = sub.add_parser(name, help=helptext)
        cp.add_argument("--config")
        if name in ("halt", "kill"):
            cp.add_argument("--reason", default="")
        if name == "limits":
            cp.add_argument("--set", action="append", metavar="NAME=NUMBER")
        cp.set_defaults(func=cmd_control_call)

    sm = sub.add_parser("sim", help="run the simulated venues alone (prints endpoints JSON)")
    sm.add_argument("--config")
    sm.add_argument("--port", type=int, help="base port (binance; okx +1, gate +2)")
    sm.add_argument("--scenario", help="fault scenario: ideal (default), calm, gappy, flaky, stress")
    sm.add_argument("--duration", type=float, default=0.0, help="stop after this many seconds")
    sm.set_defaults(func=cmd_sim)

    rp = sub.add_parser("replay", help="push captured frames back through the feed code")
    rp.add_argument("path", help="a capture file or folder (data/capture/<venue>)")
    rp.add_argument("--config")
    rp.add_argument("--speed", type=float, default=0.0, help="0 = as fast as possible; 1 = real time")
    rp.add_argument("--venue")
    rp.add_argument("--books-json", help="write the final top-20 books here")
    rp.set_defaults(func=cmd_replay)

    b = sub.add_parser("bench", help="run a benchmark (or all) and print its figures")
    b.add_argument("name", choices=[*BENCHES, "all"])
    b.add_argument("--json", action="store_true")
    b.set_defaults(func=cmd_bench)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
