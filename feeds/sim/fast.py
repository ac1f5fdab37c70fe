"""Which implementation of the simulator's hot path runs: the compiled twins or pure Python.

The matching engine (`feeds/sim/matching_core.py`) and the background market
(`feeds/sim/market_core.py`) are plain Python, and each is also compiled by Cython (setup.py
`COMPILED`) with the `.pxd` beside it (pure Python mode: cdef classes with typed fields,
typed locals, C-level calls between them), which makes a built `matching_core.*.so` shadow
the `.py` of the same name. One source, so both paths do the same arithmetic in the same
order: the tests compare them event by event and frame by frame.

`feeds.sim.matching` and `feeds.sim.market` (the names every caller imports) take their
classes from `core("matching")` / `core("market")`. Both twins are used together or not at
all, because the compiled market calls the compiled engine's C methods and holds it in typed
fields. The pure path runs when
- `HFT_PURE_PYTHON=1` is set (tests, profiling, and a check on a suspected compiled bug),
- an extension is not built (no compiler at install time: the install still succeeds), or
- a built extension is older than its `.py` or `.pxd` (the source changed after the build:
  a stale twin would run old code, so it is refused until `setup.py build_ext --inplace` or
  `make install` rebuilds it).
`describe()` says which path is active and why, for the sim's start log and the benchmarks.
"""
from __future__ import annotations

import importlib.machinery
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from pipeline.compiled_guard import is_stale
from pipeline.hot_path import PURE_ENV, pure_requested

_HERE = Path(__file__).resolve().parent
_CORES = ("matching", "market")   # order matters: market imports the matching core
_chosen: dict[str, ModuleType] = {}
_why_pure: str | None = None
_decided = False


def _stale(name: str, built: Path) -> bool:
    """The built twin predates its source (.py or .pxd): refuse it."""
    return is_stale(built, _HERE / f"{name}_core.py")


def load_pure(name: str) -> ModuleType:
    """The pure-Python `feeds/sim/<name>_core.py`, even when a compiled twin shadows it (as
    `feeds.sim.<name>_core_py`)."""
    spec = importlib.util.find_spec(f"feeds.sim.{name}_core")
    if spec is not None and spec.origin is not None and spec.origin.endswith(".py"):
        return importlib.import_module(f"feeds.sim.{name}_core")   # nothing shadows it
    modname = f"feeds.sim.{name}_core_py"
    mod = sys.modules.get(modname)
    if mod is None:
        spec = importlib.util.spec_from_file_location(modname, _HERE / f"{name}_core.py")
        assert spec is not None and spec.loader is not None
        mod = importlib.util.module_from_spec(spec)
        sys.modules[modname] = mod
        spec.loader.exec_module(mod)
    return mod


def _decide() -> str | None:
    """None when both compiled twins are built and fresh; else why the pure path runs."""
    if pure_requested():
        return f"{PURE_ENV}=1"
    for name in _CORES:
        modname = f"feeds.sim.{name}_core"
        spec = importlib.util.find_spec(modname)
        origin = Path(spec.origin) if spec is not None and spec.origin else None
        if origin is None or not origin.name.endswith(
                tuple(importlib.machinery.EXTENSION_SUFFIXES)):
            return f"{modname} is not compiled (setup.py build_ext --inplace)"
        if _stale(name, origin):
            return f"{origin.name} is older than its source: rebuild it"
    return None


def compiled() -> bool:
    global _decided, _why_pure
    if not _decided:
        _why_pure = _decide()
        _decided = True
    return _why_pure is None


def core(name: str) -> ModuleType:
    """The active implementation module of `name` ("matching" or "market")."""
    mod = _chosen.get(name)
    if mod is None:
        mod = _chosen[name] = (importlib.import_module(f"feeds.sim.{name}_core")
                               if compiled() else load_pure(name))
    return mod


def describe() -> str:
    """One line for logs and benchmark output: which path runs, and why if pure."""
    return "compiled (Cython)" if compiled() else f"pure Python ({_why_pure})"
