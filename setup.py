"""Build hook for the one compiled module, `feeds._bbo_fast` (the feed's BBO hot path).

Everything else is declared in pyproject.toml. The extension is optional: without Cython or a
C compiler the install still succeeds and the feed runs its pure-Python hot path (FeedCore
logs which one is active at start).
"""
from __future__ import annotations

from setuptools import Extension, setup


def _extensions() -> list[Extension]:
    try:
        from Cython.Build import cythonize
    except ImportError:  # e.g. --no-build-isolation without Cython: pure Python it is
        return []
    ext = Extension("feeds._bbo_fast", ["feeds/_bbo_fast.pyx"], optional=True)
    return cythonize([ext], language_level=3, quiet=True)  # type: ignore[no-any-return]


setup(ext_modules=_extensions())
