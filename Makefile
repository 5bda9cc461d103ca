# `make demo` and `make test` create .venv on first use and install the project with the pinned versions.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-dev
BSTAMP := $(VENV)/.installed-bench

.PHONY: demo test bench lint clean browser

$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[torch,sklearn,onnx,dev]'
	touch $@

$(BSTAMP): $(STAMP)
	$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[torch,sklearn,onnx,dev,bench]'
	touch $@

demo: $(STAMP)
	$(VENV)/bin/linsgd demo

test: $(STAMP) browser
	$(PY) -m pytest -n 2 -q

# Debian's chromium for the explorer page's browser test (tests/test_explorer.py skips without it). Never fails:
# without apt or root it says so and the test is skipped.
browser:
	@command -v chromium >/dev/null 2>&1 || timeout 900 apt-get install -y chromium >/dev/null 2>&1 \
		|| (timeout 300 apt-get update >/dev/null 2>&1 && timeout 900 apt-get install -y chromium >/dev/null 2>&1) \
		|| echo "chromium not installed (no apt or no root): the browser test will be skipped"

bench: $(BSTAMP)
	$(PY) benchmarks/bench_sgd.py --out benchmarks/RESULTS.md
	$(PY) benchmarks/profile_fit.py --out benchmarks/PROFILE.md

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks

clean:
	rm -rf $(VENV) linsgd-demo .pytest_cache
