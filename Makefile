# `make demo` and `make test` create .venv on first use and install the project with the pinned versions.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-dev
BSTAMP := $(VENV)/.installed-bench
MSTAMP := $(VENV)/.installed-mutate

.PHONY: demo test bench lint mutate clean browser

$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[torch,sklearn,onnx,dev]'
	# the public tables of tests/test_public_tables.py: only the CSV files these packages ship are read, so
	# they are installed without their (heavy) dependencies
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -c constraints.txt ISLP plotnine
	touch $@

$(BSTAMP): $(STAMP)
	$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[torch,sklearn,onnx,dev,bench]'
	touch $@

$(MSTAMP): $(STAMP)
	$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[torch,sklearn,onnx,dev,mutate]'
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

# Mutation testing (slow: minutes per module; not part of `make test`). MODULES= picks names of
# mutation/modules.toml, MINUTES= caps each module's run; the report goes to benchmarks/MUTATION-last.md.
mutate: $(MSTAMP)
	$(PY) benchmarks/mutate.py $(if $(MODULES),--only $(MODULES)) $(if $(MINUTES),--minutes $(MINUTES))

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks

clean:
	rm -rf $(VENV) linsgd-demo .pytest_cache
