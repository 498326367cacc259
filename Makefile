# vrrpscope — two commands matter: `make demo` and `make test`. Both set everything up themselves.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
DEMO_CAPTURE ?= samples/real/failover/capture.pcap

.PHONY: demo test setup sysdeps lint typecheck unit samples bench clean

$(VENV)/.installed: pyproject.toml setup.py vrrpscope/sources/_walk.c
	@bash scripts/install-builddeps.sh $(PYTHON)
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	$(PY) -m compileall -q vrrpscope dissectors >/dev/null
	touch $@

setup: $(VENV)/.installed

## System tools the tests use (tshark, tcpdump, keepalived, chromium, nftables): apt-get when root.
sysdeps:
	@bash scripts/install-sysdeps.sh

demo: setup
	@mkdir -p reports
	$(VENV)/bin/vrrpscope analyze -r $(DEMO_CAPTURE) --report reports/demo.html --format table
	@echo "HTML report: reports/demo.html"

lint: setup
	$(VENV)/bin/ruff check dissectors vrrpscope tests bench samples/synthetic samples/scenarios
	$(VENV)/bin/mypy

test: setup sysdeps lint
	@set +e; $(VENV)/bin/python -m pytest $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest: no tests collected"; rc=1; fi; exit $$rc

unit: setup
	$(VENV)/bin/python -m pytest -m "not lab and not browser" $(PYTEST_ARGS)

samples: setup
	$(PY) samples/synthetic/make_all.py
	$(PY) samples/scenarios/make_all.py

bench: setup
	$(PY) bench/run.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build *.egg-info
