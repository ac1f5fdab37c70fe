"""Never run a compiled module older than its source.

Some plain Python modules on the simulator's order path are also compiled by Cython as they
are (`PLAIN_COMPILED` below, built by setup.py: no `.pxd`, no typing of our own,
`annotation_typing=False`,
so the compiled module does exactly what the `.py` does, only without the interpreter's
dispatch per bytecode). A built `binance_front.cpython-311-*.so` sits beside
`binance_front.py` and Python's import system prefers it. That is the hazard this module
closes: after an edit or a `git pull` the `.so` would go on running the old code until
someone rebuilds it. `make install` rebuilds whenever a compiled source changes (the
Makefile's stamp), but `pytest` or `hft` run straight from the tree would not.

`install()` puts `FreshCompiledFinder` first on `sys.meta_path` for those modules. When a
module's normal spec is its built extension, it serves the `.py` beside it instead when
- the `.py` (or a `.pxd` beside it) is newer than the extension: the build is stale
  (logged once per module, with the command that rebuilds it), or
- `HFT_PURE_PYTHON=1` (`pipeline.hot_path`): pure Python everywhere, for profiling and to
  check a suspected compiled bug.
Otherwise the module resolves exactly as without it (the standard `PathFinder` answer), and
every other name is declined at once.
`describe()` says which compiled modules are active, for start-up logs and benchmarks.
"""
from __future__ import annotations

import importlib.machinery
import importlib.util
import logging
import sys
from collections.abc import Sequence
from importlib.machinery import ModuleSpec
from pathlib import Path
from types import ModuleType

from pipeline.hot_path import PURE_ENV, pure_requested

log = logging.getLogger(__name__)

# The plain modules setup.py compiles as they are (read there with `ast`, not imported: one
# list for the build, the Makefile's rebuild stamp and `describe()`). Chosen by profile: the
# simulated Binance and Gate order paths, whose cost is spread over hundreds of small Python
# calls per request (no single hot spot to rewrite), and the shared venue and send queue.
PLAIN_COMPILED = (
    "feeds/sim/venue.py",
    "feeds/sim/outbox.py",
    "feeds/sim/binance_front.py",
    "feeds/binance/protocol/order_server.py",
    "feeds/binance/protocol/orders.py",
    "feeds/binance/protocol/_wire.py",
    "feeds/sim/gate_front.py",
    "feeds/sim/gate_orders.py",
    "feeds/gate/protocol/order_server.py",
    "feeds/gate/protocol/_wire.py",
)


def module_name(source: str) -> str:
    """"feeds/sim/venue.py" -> "feeds.sim.venue"."""
    return source.removesuffix(".py").replace("/", ".")


_EXTENSION_SUFFIXES = tuple(importlib.machinery.EXTENSION_SUFFIXES)


def source_of(extension: Path) -> Path | None:
    """The `.py` an extension module was built from (same stem, same folder), if present."""
    name = extension.name
    for suffix in _EXTENSION_SUFFIXES:
        if name.endswith(suffix):
            py = extension.with_name(name[: -len(suffix)] + ".py")
            return py if py.exists() else None
    return None


def is_stale(extension: Path, source: Path) -> bool:
    """The source (or the `.pxd` beside it) changed after the build. Also the rule
    `feeds/sim/fast.py` applies to the matching/market twins."""
    built = extension.stat().st_mtime
    pxd = source.with_suffix(".pxd")
    return source.stat().st_mtime > built or (pxd.exists() and pxd.stat().st_mtime > built)


class FreshCompiledFinder:
    """A meta-path finder for the `PLAIN_COMPILED` modules: the standard spec, except a stale
    or unwanted extension gives way to its `.py` (see the module docstring). Every other
    module is declined at once, the Cython twins with a `.pxd` included: the matching
    engine's and market model's compiled halves import each other's C types, so one alone
    must never be swapped for its source; `feeds/sim/fast.py` picks both or neither."""

    def __init__(self, modules: Sequence[str] | None = None) -> None:
        self.modules = frozenset(modules if modules is not None else
                                 (module_name(s) for s in PLAIN_COMPILED))
        self.refused: dict[str, str] = {}   # module -> why its extension was not used

    def find_spec(self, fullname: str, path: Sequence[str] | None,
                  target: ModuleType | None = None) -> ModuleSpec | None:
        if fullname not in self.modules:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path, target)
        if spec is None or not isinstance(spec.loader, importlib.machinery.ExtensionFileLoader) \
                or spec.origin is None:
            return spec
        extension = Path(spec.origin)
        source = source_of(extension)
        if source is None:
            return spec
        if pure_requested():
            why = f"{PURE_ENV}=1"
        elif is_stale(extension, source):
            why = f"{extension.name} is older than {source.name}: run `make install`"
            if fullname not in self.refused:
                log.warning("%s: %s; running the source", fullname, why)
        else:
            return spec
        self.refused[fullname] = why
        return importlib.util.spec_from_file_location(fullname, source)


_finder: FreshCompiledFinder | None = None


def install() -> FreshCompiledFinder:
    """Put the finder first on `sys.meta_path` (once per process) and return it."""
    global _finder
    if _finder is None:
        _finder = FreshCompiledFinder()
        sys.meta_path.insert(0, _finder)
    return _finder


def describe(modules: Sequence[str]) -> dict[str, str]:
    """For each module name: "compiled", "source" or "source (why)" — as imported now."""
    out: dict[str, str] = {}
    refused = _finder.refused if _finder is not None else {}
    for name in modules:
        mod = sys.modules.get(name)
        origin = getattr(mod, "__file__", None) or ""
        if origin.endswith(_EXTENSION_SUFFIXES):
            out[name] = "compiled"
        elif name in refused:
            out[name] = f"source ({refused[name]})"
        elif mod is None:
            out[name] = "not imported"
        else:
            out[name] = "source (not built)"
    return out


def compiled_summary() -> str:
    """One line for logs and benchmarks: how many `PLAIN_COMPILED` modules run compiled,
    and each one that does not, with why (those not imported yet are left out)."""
    states = describe([module_name(s) for s in PLAIN_COMPILED])
    shown = {k: v for k, v in states.items() if v != "not imported"}
    n = sum(v == "compiled" for v in shown.values())
    others = "; ".join(f"{k}: {v}" for k, v in shown.items() if v != "compiled")
    return f"{n} of {len(shown)} compiled (Cython)" + (f"; {others}" if others else "")
