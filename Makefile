# Two commands from a fresh clone:  `make lab`  and  `make test`.  See README.md.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PORT ?= 8888
BIN := $(VENV)/bin
STAMP := $(VENV)/.cnnlib-installed
# Pass --allow-root only when we are root (containers, some CI runners).
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)
# pytest-xdist workers for the notebooks: one per core, at most 2 (the machine we design for).
JOBS ?= 2
CHROMIUM ?= /usr/bin/chromium
# Tests run $(JOBS) processes on $(JOBS) cores: one BLAS/OpenMP thread each, or they fight for the
# cores (training ran 10x slower oversubscribed). Stored notebook outputs are made the same way.
ONE_THREAD := OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1
# Local copies of reveal.js, require.js, jQuery and MathJax (npm), for the decks and the website.
VENDOR_JS := build/vendor/.installed
NBVAL := --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg
# The second nbval pass imitates another CPU: torch's oneDNN, MKL and vectorized kernels and NumPy's
# OpenBLAS limited to AVX2, NumPy's own AVX-512 loops switched off, at 2 threads. Stored outputs
# must reproduce on any x86-64 CPU, so they may show only digits that every kernel agrees on.
OTHER_CPU := ONEDNN_MAX_CPU_ISA=AVX2 OPENBLAS_CORETYPE=Haswell NPY_DISABLE_CPU_FEATURES="X86_V4 AVX512_ICL" \
	ATEN_CPU_CAPABILITY=avx2 MKL_ENABLE_INSTRUCTIONS=AVX2
TWO_THREADS := OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2 MKL_NUM_THREADS=2

.PHONY: help venv lab test unit notebooks-test notebooks-other-cpu outputs e2e bench student nbgrader otter slides book clean

help:
	@echo "make lab      build the environment if needed, then open JupyterLab on notebooks/ (PORT=$(PORT))"
	@echo "make test     build the environment if needed, run the unit tests and every notebook (strict nbval, twice: here and as on another CPU)"
	@echo "make venv     build or refresh the environment in $(VENV)"
	@echo "make outputs  re-execute every notebook in place to refresh its stored outputs"
	@echo "make e2e      open every notebook in headless Chromium and run it (needs Debian's chromium)"
	@echo "make slides   write build/slides/NN_name.slides.html, a reveal.js deck of each notebook (opens offline)"
	@echo "make book     build the course website into build/book/html (Jupyter Book; opens offline)"
	@echo "make bench    benchmark the reference layers against PyTorch"
	@echo "make student  write the student edition (solutions removed, outputs cleared) to build/student/notebooks"
	@echo "make nbgrader write an nbgrader source course (one assignment per notebook) to build/nbgrader"
	@echo "make otter    write otter-grader master notebooks to build/otter/NN_name/NN_name.ipynb"
	@echo "make clean    remove the environment and caches"

venv: $(STAMP)

# Rebuilt when pyproject.toml (the one place dependencies are declared) changes.
$(STAMP): pyproject.toml tools/check_python.py
	@$(PYTHON) tools/check_python.py
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --progress-bar off -e '.[dev]'
	@mkdir -p $(VENV)/share/jupyter/lab/settings
	@cp binder/overrides.json $(VENV)/share/jupyter/lab/settings/overrides.json
	@# nbgrader (a development dependency, for `make nbgrader`) would add its menus and server
	@# extensions to every learner's JupyterLab: switched off in this environment.
	@for e in assignment_list course_list formgrader validate_assignment; do \
		$(BIN)/jupyter server extension disable --sys-prefix nbgrader.server_extensions.$$e >/dev/null 2>&1 || true; done
	@$(BIN)/jupyter labextension disable --level=sys_prefix @jupyter/nbgrader >/dev/null 2>&1 || true
	@touch $(STAMP)
	@echo "Environment ready in $(VENV)."

lab: venv
	@echo "Starting JupyterLab on notebooks/ at http://127.0.0.1:$(PORT)/lab  (the full URL with its token follows; Ctrl-C stops it)"
	@cd notebooks && exec ../$(BIN)/jupyter lab --no-browser --ip=127.0.0.1 --port=$(PORT) \
		--ServerApp.port_retries=0 --ServerApp.answer_yes=True $(ROOT_FLAG)

unit: venv
	$(ONE_THREAD) $(BIN)/python -m pytest -n $(JOBS) tests

notebooks-test: venv
	$(ONE_THREAD) $(BIN)/python -m pytest $(NBVAL) -n $(JOBS) --dist loadscope notebooks
	$(TWO_THREADS) $(OTHER_CPU) $(BIN)/python -m pytest $(NBVAL) notebooks

# The notebooks once more, as on another CPU (see OTHER_CPU).
notebooks-other-cpu: venv
	$(TWO_THREADS) $(OTHER_CPU) $(BIN)/python -m pytest $(NBVAL) notebooks

test: venv
	$(ONE_THREAD) $(BIN)/python -m pytest -n $(JOBS) tests
	$(ONE_THREAD) $(BIN)/python -m pytest $(NBVAL) -n $(JOBS) --dist loadscope notebooks
	$(TWO_THREADS) $(OTHER_CPU) $(BIN)/python -m pytest $(NBVAL) notebooks
	@if [ ! -d e2e ]; then echo "e2e: no browser tests in this checkout yet"; \
	elif [ -x "$(CHROMIUM)" ]; then $(MAKE) --no-print-directory e2e; \
	else echo "e2e: SKIPPED, $(CHROMIUM) not found (apt-get install chromium); .ci/run installs it so CI runs them"; fi

outputs: venv
	$(ONE_THREAD) $(BIN)/python tools/refresh_notebooks.py

# Opens every notebook in headless Chromium via JupyterLab; screenshots go to e2e-screenshots/.
e2e: venv $(VENDOR_JS)
	CHROMIUM=$(CHROMIUM) $(BIN)/python -m pytest -p no:cacheprovider -v -s e2e

# reveal.js, require.js, jQuery and MathJax 2 (decks) and 3 (website), pinned by the lock file, from npm
# into build/vendor/node_modules: the decks and the site load local copies, never a CDN.
$(VENDOR_JS): tools/vendor_js/package.json tools/vendor_js/package-lock.json
	@command -v npm >/dev/null || { echo "npm not found: install Node.js (apt-get install npm)"; exit 1; }
	@mkdir -p build/vendor
	cp tools/vendor_js/package.json tools/vendor_js/package-lock.json build/vendor/
	cd build/vendor && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

slides: venv $(VENDOR_JS)
	$(BIN)/python tools/slides.py build

book: venv $(VENDOR_JS)
	$(BIN)/python tools/book.py

bench: venv
	$(BIN)/python -m cnnlib.bench

student: venv
	$(BIN)/python tools/student.py

# Generated from notebooks/ (never edited by hand); README "For instructors" shows the tools' next steps.
nbgrader: venv
	$(BIN)/python tools/export_nbgrader.py

otter: venv
	$(BIN)/python tools/export_otter.py

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis build dist *.egg-info
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
