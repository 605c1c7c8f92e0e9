# The two commands of the README: `make run` and `make test`. Both install what they need.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
INDEX ?= var/index
HOST ?= 127.0.0.1
PORT ?= 8000
BACKEND ?= embedded

.PHONY: install run test browser bench clean

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -r requirements.txt
	touch $@

install: $(VENV)/.installed

run: install
	$(PY) -m service --index $(INDEX) --corpus corpus --host $(HOST) --port $(PORT) --backend $(BACKEND)

# Debian's Chromium drives the page tests (Noto CJK so Chinese renders); installed when missing.
browser:
	@{ command -v chromium >/dev/null 2>&1 && fc-list 2>/dev/null | grep -qi "Noto.*CJK"; } || { \
	  echo "Installing Debian's chromium and CJK fonts for the browser tests..."; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; }

test: install browser
	$(PY) -m pytest -q

bench: install
	$(PY) bench/quality.py
	$(PY) bench/speed.py

clean:
	rm -rf var .pytest_cache
