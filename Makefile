# rltutor: every target sets up its own virtual environment first, and reuses it
# while pyproject.toml and constraints.txt are unchanged.
VENV   ?= .venv
PYTHON ?= python3
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.rltutor-installed
# Jupyter refuses to run as root unless told to; learners are rarely root, CI machines often are.
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)
NBMAKE_WORKERS ?= 2

.PHONY: help venv lab quick test unit lint sync-check doctest lessons sync bench lock clean site site-test

help:
	@echo "make lab    open the lessons in JupyterLab (http://127.0.0.1:8888, token auth)"
	@echo "make quick  lint, lesson sync check, the unit tests that start no kernel or browser (~1-2 min)"
	@echo "make test   lint, unit tests, browser test, lesson sync check, every lesson via nbmake"
	@echo "make sync   rewrite each lessons/*.ipynb from its edited .py twin"
	@echo "make bench  run the benchmarks and print one table"
	@echo "make site   build the course as a static site in site/ (open site/index.html)"

# uv installs the pins (from constraints.txt) in seconds here: it downloads in parallel
# and links from its cache. uv ignores pip's configuration, so the wheel folders pip is told
# about (find-links: this machine's CPU torch in /opt/wheels) are passed on to it.
UV := $(VENV)/bin/uv
FIND_LINKS := $(shell $(PYTHON) -m pip config list 2>/dev/null \
	| sed -n "s/^[^=]*find-links='\(.*\)'$$/\1/p" | tr ' ' '\n' | sort -u)
UV_INSTALL := $(UV) pip install --quiet --python $(PY) \
	$(addprefix --find-links ,$(FIND_LINKS)) -c constraints.txt
# Python writes each module's bytecode the first time it is imported, so only the ~4,000
# modules the course and its tests import are compiled (about 10 CPU-s, once), not all
# 14,000 in the venv up front (`--compile-bytecode`: 25 s of the venv's 33). A machine
# that sets PYTHONDONTWRITEBYTECODE would otherwise recompile them in every process.
unexport PYTHONDONTWRITEBYTECODE

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -c constraints.txt uv
	# torch first, from the exact pin, so nothing can pull a multi-GB CUDA build.
	$(UV_INSTALL) torch
	$(UV_INSTALL) -e ".[dev]"
	touch $@

venv: $(STAMP)

lab: $(STAMP)
	$(VENV)/bin/jupyter lab --ServerApp.ip=127.0.0.1 --ServerApp.root_dir=lessons $(ROOT_FLAG)

lint: $(STAMP)
	$(VENV)/bin/ruff check .

sync-check: $(STAMP)
	$(PY) -m tools.lesson_pairs check lessons

# How the tests are spread over the workers: tests sharing a module's costly fixture go to
# one worker, and the longest go first (tests/conftest.py), so both workers finish together.
DIST := --dist loadgroup --no-loadscope-reorder
# One thread per process for numpy's BLAS and OpenMP too (torch.set_num_threads leaves them
# alone): with two workers on two cores, extra threads only spin. Lesson 12's claims took
# 82 CPU-s without this and 50 with it, in the same wall time. Both runs of each lesson
# (`lessons`, then `unit`) get the same setting, so the same-output check compares alike.
ONE_THREAD := OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1

# unit tests and every docstring example in rltutor and tools (doctests)
unit: $(STAMP)
	$(ONE_THREAD) $(PY) -m pytest -p tools.lean_imports -p tools.fork_kernels -n $(NBMAKE_WORKERS) $(DIST) --durations=15 --doctest-modules rltutor tools tests

# A contributor's fast path while editing rltutor/ or a checker: no kernel, browser, worker
# processes, training or seed sweeps (tests/conftest.py marks those `slow`).
quick: lint sync-check
	$(ONE_THREAD) $(PY) -m pytest -p tools.lean_imports -q -n $(NBMAKE_WORKERS) $(DIST) -m "not slow" --doctest-modules rltutor tools tests

doctest: $(STAMP)
	$(PY) -m pytest --doctest-modules rltutor tools

# nbmake's runs are kept (tools/keep_nbmake_runs.py) as the first run of the same-output
# check in `make unit`, so `make test` executes each lesson twice, not three times.
lessons: $(STAMP)
	$(ONE_THREAD) $(PY) -m pytest -p tools.lean_imports -p tools.keep_nbmake_runs -p tools.fork_kernels --nbmake --nbmake-timeout=300 -n $(NBMAKE_WORKERS) $(DIST) --durations=15 lessons/

test: lint sync-check lessons unit site-test

# The lessons executed and rendered to HTML; reuses the runs tests/test_lessons.py left in
# build/executed/ when they match the lessons, so after `make unit` it only renders.
site: $(STAMP)
	$(PY) -m tools.build_site --out site

site-test: site
	RLTUTOR_SITE=site $(PY) -m pytest -p tools.lean_imports tests/test_site.py -k built_site

sync: $(STAMP)
	$(VENV)/bin/jupytext --sync lessons/[0-9]*.py
	$(PY) -m tools.lesson_pairs strip lessons

bench: $(STAMP)
	$(PY) benchmarks/run.py

lock: $(STAMP)
	$(PY) -m pip freeze --exclude-editable | sed 's/+cpu$$//' > constraints.txt

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache site build/executed

# The wheel in a fresh virtual environment, offline (tests/test_wheel.py): build it, install
# it with the pins from a local wheelhouse, `rltutor lessons` into a temporary folder, lesson
# 01 under nbmake there. .ci/run calls it after `make test`, outside that target's time.
.PHONY: wheel-test
wheel-test: $(STAMP)
	RLTUTOR_WHEEL_TEST=1 $(PY) -m pytest -q -s -p no:cacheprovider tests/test_wheel.py
