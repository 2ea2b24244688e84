# One command per job, the same locally and in CI.
#   make demo       create the environment, install only what the demo needs (watchkeeper
#                   and its demo extra: scikit-learn), run the demo (watchkeeper demo)
#   make test       create the environment, install everything (the extras, the dev tools,
#                   and with apt-get, as root or with sudo, the system components the
#                   integration tests start), run every test: no marker is deselected (CI
#                   runs this, via .ci/run)
#   make test-fast  the edit-test loop, under 90 s on two cores: every test except those
#                   marked slow (over a few seconds each), statistical (false-alarm
#                   calibration by simulation) and integration (real PostgreSQL, Prometheus,
#                   Alertmanager, Chromium); needs no system component; two pytest-xdist
#                   workers (the whole suite stays serial: its real components are
#                   started once per session)
#   make lint       ruff, ruff format --check, mypy, import-linter
#   make bench      run the benchmarks (prints figures; never part of the test suite)
# PYTEST_ARGS passes options to pytest in both test targets, e.g. PYTEST_ARGS="-x tests/unit".

PYTHON ?= python3
# Use the active virtual environment if there is one, else ./.venv.
ifdef VIRTUAL_ENV
VENV := $(VIRTUAL_ENV)
else
VENV := .venv
endif
PY := $(VENV)/bin/python
STAMP := $(VENV)/.watchkeeper-installed
DEMO_STAMP := $(VENV)/.watchkeeper-demo-installed

.PHONY: install test test-fast lint bench demo system-deps clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

$(STAMP): $(PY) pyproject.toml
	$(PY) -m pip install -q -e ".[all,dev]"
	touch $(STAMP)

install: $(STAMP)

# The demo needs the package and its demo extra only, not the dev tools nor every extra.
$(DEMO_STAMP): $(PY) pyproject.toml
	$(PY) -m pip install -q -e ".[demo]"
	touch $(DEMO_STAMP)

# System components for the integration tests, installed when missing
# (PostgreSQL, Prometheus, Alertmanager, Chromium, stress-ng); apt-get needs root or sudo.
system-deps:
	@scripts/system-deps

test: install system-deps
	$(PY) -m pytest -p no:cacheprovider $(PYTEST_ARGS)

FAST := not slow and not statistical and not integration

test-fast: install
	$(PY) -m pytest -p no:cacheprovider -n 2 -m "$(FAST)" $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check watchkeeper tests benchmarks
	$(VENV)/bin/ruff format --check watchkeeper tests benchmarks
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

bench: install
	@for f in benchmarks/bench_*.py; do echo "== $$f"; $(PY) $$f || exit 1; done

demo: $(DEMO_STAMP)
	$(VENV)/bin/watchkeeper demo

clean:
	rm -rf .venv build *.egg-info .pytest_cache .mypy_cache .ruff_cache
