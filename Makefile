# The two commands a new machine needs: `make demo` and `make test`. Both create .venv when it is
# missing and install what they need; nothing here assumes a package the machine did not ship with.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.kenning-installed

.PHONY: demo test lint bench clean install

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip>=25.1"
	$(PY) -m pip install --quiet -e . --group dev
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(PY) scripts/demo.py

# pytest exits 5 when it collected no tests: that is a failure here, never a silent pass.
test: $(STAMP)
	$(PY) -m pytest -q; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test: pytest ran no tests" >&2; exit 1; fi; exit $$rc

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests bench scripts
	$(VENV)/bin/ruff format --check src tests bench scripts
	$(VENV)/bin/mypy

bench: $(STAMP)
	$(VENV)/bin/kenning bench

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
