# Two entry points for a fresh Debian machine (as root): `make run` and `make test`.
# Both are idempotent: they install only what is missing.
VENV    := .venv
PY      := $(VENV)/bin/python
STAMP   := $(VENV)/.installed

.PHONY: run test system venv lint bench clean mutate

run: venv
	$(VENV)/bin/zkcheck explore --servers 3 --depth 20

test: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/python -m pytest -q --durations=25
	$(VENV)/bin/zkcheck check specs/

# Debian packages the project needs; only installed when a binary is missing. gcc and the
# Python headers build the compiled model (setup.py); without them it runs interpreted.
system:
	@missing=""; \
	command -v dot >/dev/null 2>&1 || missing="$$missing graphviz"; \
	test -f /usr/share/java/zookeeper.jar || missing="$$missing zookeeper"; \
	test -x /usr/bin/chromium || missing="$$missing chromium"; \
	command -v gcc >/dev/null 2>&1 || missing="$$missing build-essential"; \
	python3 -c 'import sysconfig, os, sys; sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))' \
	  || missing="$$missing python3-dev"; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

venv: system $(STAMP)

# the compiled model (setup.py, mypyc) is rebuilt when one of its sources changes
NATIVE_SRC := $(wildcard setup.py zkcheck/_native.py model/*.py invariants/fle*.py)

$(STAMP): pyproject.toml $(NATIVE_SRC)
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	$(PY) -c 'from zkcheck._native import main; main()'
	# byte-code for the project's own modules, even where PYTHONDONTWRITEBYTECODE is set
	# (every zkcheck process would otherwise compile ~80 modules at start, about 1 s)
	$(PY) -m compileall -q zkcheck model invariants explorer >/dev/null
	touch $(STAMP)

lint: venv
	$(VENV)/bin/ruff check .

# Mutation testing (not part of `make test`): the specs against each semantic mutant.
mutate: venv
	$(PY) mutation/run.py

bench: venv
	$(PY) benchmarks/bench_explorer.py

clean:
	rm -rf $(VENV) build *.egg-info zkcheck/_native_build.json
	find model invariants zkcheck -name '*.so' -delete
