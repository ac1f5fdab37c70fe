"""A compiled module older than its source never runs; a fresh one always does."""
from __future__ import annotations

import ast
import importlib.machinery
import os
import sys
from pathlib import Path

import pytest

from pipeline import compiled_guard as cg

ROOT = Path(__file__).resolve().parents[3]
SUFFIX = importlib.machinery.EXTENSION_SUFFIXES[0]


def _package(tmp_path: Path, name: str) -> tuple[Path, Path]:
    """A package `name` with `mod.py` and, beside it, a file named as its built extension
    (not a loadable one: the finder only looks at names and times, and these tests never
    execute an extension spec)."""
    pkg = tmp_path / name
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    src = pkg / "mod.py"
    src.write_text("WHERE = 'source'\n")
    ext = pkg / f"mod{SUFFIX}"
    ext.write_bytes(b"")
    return src, ext


@pytest.fixture
def finder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> cg.FreshCompiledFinder:
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delenv(cg.PURE_ENV, raising=False)
    return cg.FreshCompiledFinder(modules=("guardpkg.mod",))


def _spec(finder: cg.FreshCompiledFinder, tmp_path: Path) -> importlib.machinery.ModuleSpec:
    spec = finder.find_spec("guardpkg.mod", [str(tmp_path / "guardpkg")])
    assert spec is not None
    return spec


def test_fresh_extension_is_the_one_imported(finder: cg.FreshCompiledFinder,
                                             tmp_path: Path) -> None:
    src, ext = _package(tmp_path, "guardpkg")
    os.utime(src, (1000, 1000))
    os.utime(ext, (2000, 2000))
    spec = _spec(finder, tmp_path)
    assert isinstance(spec.loader, importlib.machinery.ExtensionFileLoader)
    assert spec.origin == str(ext)
    assert "guardpkg.mod" not in finder.refused


def test_stale_extension_gives_way_to_its_source(finder: cg.FreshCompiledFinder,
                                                 tmp_path: Path) -> None:
    src, ext = _package(tmp_path, "guardpkg")
    os.utime(ext, (1000, 1000))
    os.utime(src, (2000, 2000))               # edited after the build
    spec = _spec(finder, tmp_path)
    assert spec.origin == str(src)
    assert "older than mod.py" in finder.refused["guardpkg.mod"]
    mod = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(mod)
    assert mod.WHERE == "source"


def test_a_newer_pxd_also_makes_the_build_stale(finder: cg.FreshCompiledFinder,
                                                tmp_path: Path) -> None:
    src, ext = _package(tmp_path, "guardpkg")
    pxd = src.with_suffix(".pxd")
    pxd.write_text("")
    os.utime(src, (1000, 1000))
    os.utime(ext, (2000, 2000))
    os.utime(pxd, (3000, 3000))
    assert _spec(finder, tmp_path).origin == str(src)


def test_pure_python_switch_serves_the_source(finder: cg.FreshCompiledFinder, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    src, ext = _package(tmp_path, "guardpkg")
    os.utime(src, (1000, 1000))
    os.utime(ext, (2000, 2000))
    monkeypatch.setenv(cg.PURE_ENV, "1")
    assert _spec(finder, tmp_path).origin == str(src)
    assert finder.refused["guardpkg.mod"] == f"{cg.PURE_ENV}=1"


def test_modules_not_listed_are_declined(finder: cg.FreshCompiledFinder,
                                         tmp_path: Path) -> None:
    src, ext = _package(tmp_path, "guardpkg")
    os.utime(ext, (1000, 1000))
    os.utime(src, (2000, 2000))                # stale, but not one of the guarded modules
    assert finder.find_spec("json", None) is None
    assert finder.find_spec("guardpkg.other", [str(tmp_path / "guardpkg")]) is None
    assert cg.FreshCompiledFinder(modules=()).find_spec(
        "guardpkg.mod", [str(tmp_path / "guardpkg")]) is None


def test_the_cython_twins_are_left_to_their_own_chooser() -> None:
    """The matching engine and market model halves cimport each other's C types: swapping
    one for its source alone would break the other's import (feeds/sim/fast.py decides)."""
    finder = cg.FreshCompiledFinder()
    assert "feeds.sim.matching_core" not in finder.modules
    assert "feeds.sim.market_core" not in finder.modules
    assert finder.find_spec("feeds.sim.matching_core", None) is None


def test_an_extension_without_a_source_is_left_alone(finder: cg.FreshCompiledFinder,
                                                     tmp_path: Path) -> None:
    src, ext = _package(tmp_path, "guardpkg")
    src.unlink()                                # a .pyx build: nothing else could run
    spec = _spec(finder, tmp_path)
    assert spec.origin == str(ext)


def test_the_guard_is_installed_first_by_the_feeds_package() -> None:
    import feeds  # noqa: F401

    assert isinstance(sys.meta_path[0], cg.FreshCompiledFinder)


def test_setup_reads_the_same_list_the_guard_describes() -> None:
    """setup.py parses `PLAIN_COMPILED` out of the guard's source; every entry is a real
    module of ours."""
    tree = ast.parse((ROOT / "pipeline" / "compiled_guard.py").read_text())
    listed = next(ast.literal_eval(n.value) for n in tree.body if isinstance(n, ast.Assign)
                  and any(getattr(t, "id", "") == "PLAIN_COMPILED" for t in n.targets))
    assert tuple(listed) == cg.PLAIN_COMPILED
    for src in cg.PLAIN_COMPILED:
        assert (ROOT / src).is_file(), src
        assert not (ROOT / src).with_suffix(".pxd").exists(), f"{src} is a twin, not plain"


def test_built_plain_modules_are_the_ones_running() -> None:
    """Where `make install` built a plain module and its source has not changed since, the
    compiled module is what imports (and nothing here was refused by mistake); with
    `HFT_PURE_PYTHON=1` every one of them runs from source."""
    import importlib
    pure = cg.pure_requested()
    checked = 0
    for src in cg.PLAIN_COMPILED:
        name = cg.module_name(src)
        mod = importlib.import_module(name)
        built = sorted((ROOT / src).parent.glob(Path(src).stem + ".cpython-*.so"))
        if built and not cg.is_stale(built[-1], ROOT / src) and not pure:
            assert mod.__file__ == str(built[-1]), name
            assert cg.describe([name]) == {name: "compiled"}
            checked += 1
        else:
            assert mod.__file__ == str(ROOT / src), name
    print(f"{checked} of {len(cg.PLAIN_COMPILED)} plain modules run compiled")
