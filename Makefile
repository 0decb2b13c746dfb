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
	$(VENV)/bin/python -m pytest -q
	$(VENV)/bin/zkcheck check specs/

# Debian packages the project needs; only installed when a binary is missing.
system:
	@missing=""; \
	command -v dot >/dev/null 2>&1 || missing="$$missing graphviz"; \
	test -f /usr/share/java/zookeeper.jar || missing="$$missing zookeeper"; \
	test -x /usr/bin/chromium || missing="$$missing chromium"; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

venv: system $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $(STAMP)

lint: venv
	$(VENV)/bin/ruff check .

# Mutation testing (not part of `make test`): the specs against each semantic mutant.
mutate: venv
	$(PY) mutation/run.py

bench: venv
	$(PY) benchmarks/bench_explorer.py

clean:
	rm -rf $(VENV) build *.egg-info
