# Two commands do everything on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
ARGS   ?=
PYTEST_ARGS ?=

.PHONY: install run test bench clean

# What the compiled extensions are built from (setup.py lists them): a change rebuilds them.
CYTHON_SRC := $(shell find feeds engine pipeline -name '*.pyx' -o -name '*.pxd' 2>/dev/null)
CYTHON_PY  := $(wildcard $(patsubst %.pxd,%.py,$(filter %.pxd,$(CYTHON_SRC))))
# ... and the plain modules compiled as they are (pipeline/compiled_guard.py PLAIN_COMPILED)
PLAIN_PY   := $(shell sed -n '/^PLAIN_COMPILED = (/,/^)/p' pipeline/compiled_guard.py | grep -oE '"[A-Za-z0-9_/]+\.py"' | tr -d '"')

$(STAMP): pyproject.toml setup.py pipeline/compiled_guard.py $(CYTHON_SRC) $(CYTHON_PY) $(PLAIN_PY)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev,bench]'
	@touch $(STAMP)

install: $(STAMP)

# Paper trading on the simulated venues with the embedded database (Ctrl-C stops cleanly).
run: install
	$(BIN)/hft run $(ARGS)

# pytest exits 5 when it collected nothing; that is not a failure of the suite.
test: install
	@$(BIN)/python -m pytest $(PYTEST_ARGS); rc=$$?; if [ $$rc -eq 5 ]; then echo "no tests collected"; exit 0; fi; exit $$rc

bench: install
	$(BIN)/hft bench all --json

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
