"""Build hook for the compiled hot paths (Cython). Everything else is in pyproject.toml.

Each entry of `COMPILED` is one optional extension: without Cython or a C compiler the install
still succeeds and the pure-Python code runs (each compiled path logs or reports which one is
active). `make install` rebuilds when setup.py, a `.pyx`/`.pxd` or the `.py` a `.pxd`
augments changes (see the Makefile's stamp), so a compiled module never lags its source.
"""
from __future__ import annotations

from setuptools import Extension, setup

# (module, source): a `.pyx`, or a `.py` compiled with the `.pxd` beside it (pure Python mode)
COMPILED: list[tuple[str, str]] = [
    ("feeds._bbo_fast", "feeds/_bbo_fast.pyx"),
    ("engine._rms_fast", "engine/_rms_fast.pyx"),
    ("engine._oms_fast", "engine/_oms_fast.pyx"),
    ("feeds.sim.matching_core", "feeds/sim/matching_core.py"),
    ("feeds.sim.market_core", "feeds/sim/market_core.py"),
]


def _extensions() -> list[Extension]:
    try:
        from Cython.Build import cythonize
    except ImportError:  # e.g. --no-build-isolation without Cython: pure Python it is
        return []
    exts = [Extension(mod, [src], optional=True) for mod, src in COMPILED]
    built = cythonize(exts, language_level=3, quiet=True)
    for ext in built:   # cythonize does not carry `optional` over: without this a missing
        ext.optional = True   # compiler failed the whole install
    return built  # type: ignore[no-any-return]


setup(ext_modules=_extensions())
