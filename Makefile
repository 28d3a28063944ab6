# Driftgate: two commands.
#   make run   - install into .venv, seed the demo workspace once, start the demo identity
#                provider on 127.0.0.1:9400 and serve http://127.0.0.1:8501
#   make test  - install dev tools, install Debian chromium if missing, lint, run every test
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8501
IDP_PORT ?= 9400
SECRETS ?= .streamlit/secrets.toml
# The demo identity provider's one-click users (sub = short name; groups map to roles).
IDP_USERS := \
  --user-claims '{"sub":"dana","email":"dana@retail.example","name":"Dana Scientist","groups":["data-scientists"]}' \
  --user-claims '{"sub":"alice","email":"alice@retail.example","name":"Alice Approver","groups":["model-approvers"]}' \
  --user-claims '{"sub":"bob","email":"bob@retail.example","name":"Bob Approver","groups":["model-approvers"]}' \
  --user-claims '{"sub":"audrey","email":"audrey@retail.example","name":"Audrey Auditor","groups":["auditors"]}'

.PHONY: run test lint demo demo-secrets install install-dev chromium clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "Driftgate needs Python 3.11; set PYTHON=python3.11")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall only when a requirements file changed.
$(VENV)/.runtime: requirements.txt pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	$(BIN)/pip install --quiet --no-deps -e .
	@touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	$(BIN)/pip install --quiet --no-deps -e .
	@touch $(VENV)/.runtime $@

install: $(VENV)/.runtime
install-dev: $(VENV)/.dev

demo: install
	$(BIN)/python -m governance demo

# Sign-in for the demo: an [auth] section pointing at the local identity provider, written
# only when there is no secrets file yet (an existing one, e.g. a real provider, is kept).
demo-secrets: install
	@if [ -f $(SECRETS) ]; then echo "keeping $(SECRETS)"; else \
	  mkdir -p $(dir $(SECRETS)); umask 077; \
	  { echo '# Written by `make run` for the local demo identity provider (oidc-provider-mock).'; \
	    echo '# Delete this file to regenerate it; see secrets.toml.example for a real provider.'; \
	    echo '[auth]'; \
	    echo 'redirect_uri = "http://127.0.0.1:$(PORT)/oauth2callback"'; \
	    echo "cookie_secret = \"$$($(BIN)/python -c 'import secrets; print(secrets.token_hex(32))')\""; \
	    echo 'client_id = "driftgate-demo"'; \
	    echo 'client_secret = "demo-secret-any-value-works"'; \
	    echo 'server_metadata_url = "http://127.0.0.1:$(IDP_PORT)/.well-known/openid-configuration"'; \
	  } > $(SECRETS); echo "wrote $(SECRETS) (sign-in via the demo identity provider)"; fi

# The identity provider runs in the background for as long as `make run`; the trap stops it.
run: demo demo-secrets
	@PYTHONWARNINGS=ignore $(BIN)/oidc-provider-mock --host 127.0.0.1 --port $(IDP_PORT) \
	  $(IDP_USERS) >$(VENV)/idp.log 2>&1 & idp=$$!; \
	trap 'kill $$idp 2>/dev/null' EXIT INT TERM; \
	echo "demo identity provider: http://127.0.0.1:$(IDP_PORT) (pid $$idp; log $(VENV)/idp.log)"; \
	echo "log in as dana (data scientist), alice or bob (approvers), audrey (auditor)"; \
	$(BIN)/streamlit run app/main.py --server.address 127.0.0.1 --server.port $(PORT)

chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian chromium for the browser tests"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/mypy

test: install-dev chromium lint
	$(BIN)/python -m pytest

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache
