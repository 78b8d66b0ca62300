# cnnlab: the two commands a learner needs are `make lab` and `make test`.
SHELL := /bin/bash
VENV ?= .venv
# The Pythons cnnlab supports: 3.11 (3.11.0 and later) and 3.12.
PY_SUPPORTED := import sys; sys.exit(0 if sys.version_info[:2] in ((3, 11), (3, 12)) else 1)
PYTHON ?= $(shell for p in python3.11 python3.12 python3; do q=$$(command -v $$p) && $$q -c '$(PY_SUPPORTED)' 2>/dev/null && { echo $$q; break; }; done)
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
TEACHER := $(VENV)/.teacher
# Quiet TensorFlow start-up, faster CPU kernels; set before TensorFlow starts.
export TF_CPP_MIN_LOG_LEVEL ?= 3
export TF_ENABLE_ONEDNN_OPTS ?= 1
export PYTHONHASHSEED ?= 0

.PHONY: help setup lab test test-unit test-notebooks test-portable notebooks notebooks-retrain bench lock clean assignments grade \
  hub hub-stop hub-remove-users test-hub

help:
	@echo "make lab        set everything up and open the course in JupyterLab (your copies: build/lab)"
	@echo "make test       set everything up and run every test (fast mode)"
	@echo "make notebooks  re-run every lesson in full mode and store its outputs"
	@echo "make bench      run the benchmarks in benchmarks/"
	@echo "make site       write the lessons as a website to build/site"
	@echo "make assignments / make grade SUBMISSIONS=dir   teachers: student versions, autograding"
	@echo "make hub ROSTER=class.csv   teachers (root): the whole class on one JupyterHub; make hub-stop"

setup: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	@if [ -x $(PY) ]; then \
	  $(PY) -c '$(PY_SUPPORTED)' || { \
	    echo "$(VENV) was made with $$($(PY) -V 2>&1), but cnnlab needs Python 3.11 or 3.12."; \
	    echo "Remove it and start again: rm -rf $(VENV) && make lab"; exit 1; }; \
	else \
	  if [ -z "$(PYTHON)" ]; then \
	    echo "cnnlab needs Python 3.11 or 3.12 and found neither (tried python3.11, python3.12, python3)."; \
	    echo "Install one (Debian/Ubuntu: sudo apt-get install python3.11 python3.11-venv), or name it: make lab PYTHON=/path/to/python3.11"; \
	    exit 1; fi; \
	  $(PYTHON) -c '$(PY_SUPPORTED)' || { \
	    echo "PYTHON=$(PYTHON) is $$($(PYTHON) -V 2>&1); cnnlab needs Python 3.11 or 3.12."; exit 1; }; \
	  echo "Creating $(VENV) with $(PYTHON) ($$($(PYTHON) -V 2>&1))"; \
	  $(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); \
	    echo "Could not create $(VENV) with $(PYTHON). On Debian/Ubuntu install the venv module: sudo apt-get install python3.11-venv"; \
	    exit 1; }; \
	fi
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $(STAMP)

# The learner's own copies of the lessons (every exercise still to be written) in build/lab,
# made once and then kept; the teacher's versions, answered, stay in notebooks/.
lab: $(STAMP)
	$(PY) -m cnnlab.tools.workbook --into build/lab
	$(VENV)/bin/jupyter lab --ServerApp.root_dir=build/lab $(if $(filter 0,$(shell id -u)),--allow-root)

NBVAL := --nbval --nbval-sanitize-with tests/nbval_sanitize.cfg --nbval-cell-timeout 600
# The portability pass: the lessons run again with other floating-point round-off
# (TensorFlow's own kernels instead of oneDNN, one thread, OpenBLAS's SSE kernels), so a
# stored output whose digits depend on the processor fails here before it fails on a
# learner's machine. tests/test_portability.py shows that these settings change the digits.
PORTABLE_ENV := TF_ENABLE_ONEDNN_OPTS=0 OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 \
  TF_NUM_INTRAOP_THREADS=1 TF_NUM_INTEROP_THREADS=1 OPENBLAS_CORETYPE=Nehalem

# The lessons, longest first, so that both cores stay busy to the end of a run.
LONGEST := $(wildcard notebooks/11_*.ipynb notebooks/12_*.ipynb notebooks/09_*.ipynb notebooks/08_*.ipynb)
LESSONS_BY_TIME := $(LONGEST) $(filter-out $(LONGEST),$(wildcard notebooks/[0-9][0-9]_*.ipynb))

# Unit tests and every notebook (nbval) in fast mode, on both cores; then the notebooks
# again under PORTABLE_ENV.
test: $(STAMP) $(TEACHER)
	@bash tests/grading/install_bubblewrap.sh || echo "(no bubblewrap: the grading tests run without the sandbox and skip the isolation test)"
	CNNLAB_FAST=1 $(PY) -m pytest -p no:cacheprovider -n 2 --dist loadscope $(NBVAL) $(LESSONS_BY_TIME) tests
	@echo "== portability pass: the lessons again under $(PORTABLE_ENV)"
	CNNLAB_FAST=1 $(PORTABLE_ENV) $(PY) -m pytest -p no:cacheprovider -n 2 --dist loadscope -q $(NBVAL) $(LESSONS_BY_TIME)

test-portable: $(STAMP) $(TEACHER)
	CNNLAB_FAST=1 $(PORTABLE_ENV) $(PY) -m pytest -p no:cacheprovider -n 2 --dist loadscope $(NBVAL) $(LESSONS_BY_TIME)

test-unit: $(STAMP)
	CNNLAB_FAST=1 $(PY) -m pytest -p no:cacheprovider -n 2 tests

test-notebooks: $(STAMP)
	CNNLAB_FAST=1 $(PY) -m pytest -p no:cacheprovider -n 2 --dist loadscope $(NBVAL) notebooks

# Maintainers: re-execute every lesson in full mode and store the outputs.
notebooks: $(STAMP)
	CNNLAB_FAST=0 $(PY) -m cnnlab.tools.execute notebooks/*.ipynb

# Maintainers: every lesson in full mode with every switch on (RERUN, TRAIN: CNNLAB_RETRAIN=1),
# run as copies in build/retrain: retrains what the course ships and checks the fresh results
# (lesson 11 alone: about 16 minutes on 2 cores). The stored lessons are left as they are.
notebooks-retrain: $(STAMP)
	CNNLAB_FAST=0 CNNLAB_RETRAIN=1 $(PY) -m cnnlab.tools.execute --into build/retrain notebooks/*.ipynb

# Every lesson run in JupyterLab in headless Chromium (Debian's), widgets used
# as a learner uses them. Installs chromium with apt-get when missing (root or sudo).
BROWSER_STAMP := $(VENV)/.installed-browser
.PHONY: test-browser

test-browser: $(STAMP) $(BROWSER_STAMP)
	bash tests/browser/install_chromium.sh
	CNNLAB_BROWSER=1 CNNLAB_FAST=1 timeout -k 30 1800 $(PY) -m pytest -p no:cacheprovider -v --durations=15 tests/browser

$(BROWSER_STAMP): requirements-browser.lock requirements.lock $(STAMP)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-browser.lock -c requirements.lock
	@touch $(BROWSER_STAMP)

bench: $(STAMP)
	@for b in benchmarks/[!_]*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

# Maintainers: refresh requirements.lock from a fresh resolve of pyproject.toml.
lock:
	rm -rf build/lock-venv && $(PYTHON) -m venv build/lock-venv
	build/lock-venv/bin/pip install --quiet ".[test]"
	{ echo "# Exact versions of every package the course installs (make lab / make test)."; \
	  echo "# Regenerate after changing pyproject.toml: make lock"; \
	  build/lock-venv/bin/pip freeze --exclude-editable | grep -v '^cnnlab' | sed -E \
	    's/^tensorflow[-_]cpu==(.*)$$/tensorflow-cpu==\1 ; sys_platform == "linux" and platform_machine == "x86_64"\ntensorflow==\1 ; sys_platform != "linux" or platform_machine != "x86_64"/'; \
	} > requirements.lock

# Teachers: nbgrader (requirements-teacher.lock) on top of the course's packages.
# Its JupyterLab menus stay off in the course's own JupyterLab (make lab).
$(TEACHER): $(STAMP) requirements-teacher.lock
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-teacher.lock -c requirements.lock
	$(VENV)/bin/jupyter labextension disable --level=sys_prefix @jupyter/nbgrader >/dev/null 2>&1
	$(VENV)/bin/jupyter server extension disable --sys-prefix nbgrader.server_extensions.formgrader \
	  nbgrader.server_extensions.assignment_list nbgrader.server_extensions.course_list \
	  nbgrader.server_extensions.validate_assignment >/dev/null 2>&1
	@touch $(TEACHER)

# Teachers: build/assignments as an nbgrader course folder (student versions in release/).
# Options: LESSONS="01 02" (default all), VALIDATE=1 (run both versions), TIMEOUT=seconds per cell,
# MEMORY=4G (memory limit of each graded notebook).
assignments: $(TEACHER)
	$(PY) -m cnnlab.tools.assignments build $(LESSONS) $(if $(VALIDATE),--validate) $(if $(TIMEOUT),--timeout $(TIMEOUT)) $(if $(MEMORY),--memory $(MEMORY))

# Teachers: autograde SUBMISSIONS=folder laid out as folder/<student>/<lesson>/<lesson>.ipynb;
# writes build/assignments/grades.csv and feedback/. Each notebook runs in a bubblewrap sandbox
# (installed here when missing); JOBS=n grades n at once; UNSANDBOXED=1 grades without a sandbox.
grade: $(TEACHER)
	$(if $(UNSANDBOXED),,bash tests/grading/install_bubblewrap.sh)
	$(PY) -m cnnlab.tools.assignments grade "$(SUBMISSIONS)" $(LESSONS) $(if $(TIMEOUT),--timeout $(TIMEOUT)) $(if $(JOBS),--jobs $(JOBS)) $(if $(UNSANDBOXED),--unsandboxed)

# Teachers: the whole class on one JupyterHub (as root): Unix users from ROSTER=class.csv
# (username,first_name,last_name; default: an example roster), TEACHER_NAME=teacher, LESSONS="01 05",
# HUB_PORT=8000 (loopback only). The hub's software goes to /opt/cnnlab-hub (HUB_PREFIX=...).
HUB_PREFIX ?= /opt/cnnlab-hub
HUB := $(PY) -m cnnlab.tools.hub
hub: $(TEACHER)
	@bash tests/grading/install_bubblewrap.sh || echo "(no bubblewrap: Formgrader's autograde will refuse to grade)"
	$(HUB) start --prefix $(HUB_PREFIX) $(if $(ROSTER),--roster "$(ROSTER)") $(if $(TEACHER_NAME),--teacher $(TEACHER_NAME)) \
	  $(if $(LESSONS),--lessons $(LESSONS)) $(if $(HUB_PORT),--port $(HUB_PORT))

# Stops the hub and every server it started; removes nothing.
hub-stop: $(STAMP)
	$(HUB) stop --prefix $(HUB_PREFIX)

# Removes the Unix accounts `make hub` created (with their homes) and nothing else.
hub-remove-users: $(STAMP)
	$(HUB) remove-users --prefix $(HUB_PREFIX)

# The class round end to end on a hub of its own (as root; creates and removes its own users).
test-hub: $(STAMP) $(TEACHER) $(BROWSER_STAMP)
	bash tests/browser/install_chromium.sh
	bash tests/grading/install_bubblewrap.sh
	CNNLAB_HUB=1 timeout -k 30 900 $(PY) -m pytest -p no:cacheprovider -v tests/hub

# Keeps build/lab: the learner's work.
clean:
	rm -rf $(VENV) .pytest_cache
	@if [ -d build ]; then find build -mindepth 1 -maxdepth 1 ! -name lab -exec rm -rf {} +; fi

# The course as a static website in build/site: the stored lessons (not re-run),
# the glossary and an index page, served offline (npm installs its scripts once);
# every relative link is checked.
.PHONY: site
site: $(STAMP)
	$(PY) -m cnnlab.tools.site build
