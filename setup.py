"""Build hook for the compiled hot paths (Cython). Everything else is in pyproject.toml.

Each entry of `COMPILED` is one optional extension: without Cython or a C compiler the install
still succeeds and the pure-Python code runs (each compiled path logs or reports which one is
active). `make install` rebuilds when setup.py, a `.pyx`/`.pxd`, the `.py` a `.pxd` augments or
a plain compiled `.py` changes (see the Makefile's stamp), and `pipeline/compiled_guard.py`
refuses at import a built module older than its source, so a compiled module never runs
stale code.
"""
from __future__ import annotations

import ast
import os
from pathlib import Path

from setuptools import Extension, setup

# (module, source): a `.pyx`, or a `.py` compiled with the `.pxd` beside it (pure Python mode).
# Plain `.py` modules compiled as they are, with no `.pxd`, are listed in
# `pipeline/compiled_guard.py` (`PLAIN_COMPILED`), which also keeps a stale build from running.
COMPILED: list[tuple[str, str]] = [
    ("feeds._bbo_fast", "feeds/_bbo_fast.pyx"),
    ("engine._rms_fast", "engine/_rms_fast.pyx"),
    ("engine._oms_fast", "engine/_oms_fast.pyx"),
    ("feeds.sim.matching_core", "feeds/sim/matching_core.py"),
    ("feeds.sim.market_core", "feeds/sim/market_core.py"),
]


_JOBS = max(os.cpu_count() or 1, 1)


def _plain_compiled() -> list[str]:
    """`pipeline/compiled_guard.py` `PLAIN_COMPILED`: plain modules compiled as they are (read,
    not imported: the package's dependencies need not be installed at build time)."""
    tree = ast.parse((Path(__file__).parent / "pipeline" / "compiled_guard.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "PLAIN_COMPILED" for t in node.targets):
            return list(ast.literal_eval(node.value))
    raise SystemExit("setup.py: PLAIN_COMPILED not found in pipeline/compiled_guard.py")


def _extensions() -> list[Extension]:
    try:
        from Cython.Build import cythonize
    except ImportError:  # e.g. --no-build-isolation without Cython: pure Python it is
        return []
    exts = [Extension(mod, [src], optional=True) for mod, src in COMPILED]
    built = cythonize(exts, language_level=3, quiet=True, nthreads=_JOBS)
    # Plain modules: annotations are documentation here, never C type checks, so the
    # compiled module accepts exactly what the .py accepts (a defaultdict where `dict` is
    # annotated, a subclass, None...).
    plain = [Extension(src.removesuffix(".py").replace("/", "."), [src], optional=True)
             for src in _plain_compiled()]
    built += cythonize(plain, language_level=3, quiet=True, nthreads=_JOBS,
                       compiler_directives={"annotation_typing": False})
    for ext in built:   # cythonize does not carry `optional` over: without this a missing
        ext.optional = True   # compiler failed the whole install
    return built  # type: ignore[no-any-return]


setup(ext_modules=_extensions(),
      options={"build_ext": {"parallel": _JOBS}})   # C files compile side by side
