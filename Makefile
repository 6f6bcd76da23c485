# The only commands anyone needs: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8000
STAMP := $(VENV)/.installed

.PHONY: run test lint format check-deploy browser screenshots clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else "Keyward needs Python 3.12 or newer (3.13 recommended); $(PYTHON) is " + sys.version.split()[0] + ". Set PYTHON=python3.13.")'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	@# .env: DEBUG=true and a SECRET_KEY for development, so that `manage.py` commands typed
	@# by hand work as the server does (written once; settings read it only in development).
	@$(PY) scripts/dev-env
	DEBUG=$${DEBUG:-true} $(PY) manage.py migrate --noinput
	DEBUG=$${DEBUG:-true} $(PY) manage.py seed_demo
	@echo "Keyward is at http://127.0.0.1:$(PORT)/  (system admin: http://127.0.0.1:$(PORT)/system/)"
	@echo "To try passkeys, open http://localhost:$(PORT)/ instead: browsers refuse them on an IP address."
	@# The background worker runs beside the web server and stops with it.
	DEBUG=$${DEBUG:-true} $(PY) manage.py db_worker --no-startup-delay & WORKER=$$!; \
	trap 'kill $$WORKER 2>/dev/null' EXIT INT TERM; \
	DEBUG=$${DEBUG:-true} $(PY) manage.py runserver 127.0.0.1:$(PORT)

test: $(STAMP) browser
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(VENV)/bin/lint-imports
	DEBUG=true $(PY) manage.py makemigrations --check --dry-run
	$(PY) -m pytest $(PYTEST_ARGS)

browser:
	@scripts/ensure-chromium

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(VENV)/bin/lint-imports

format: $(STAMP)
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

# The README's pictures: the tour test photographs every main page at both sizes.
DOC_SHOTS := console-desktop profile-desktop key-desktop members-desktop console-phone profile-phone
screenshots: $(STAMP) browser
	CI=true $(PY) -m pytest -q -p no:cacheprovider tests/browser/test_tour.py
	mkdir -p docs/screenshots
	for shot in $(DOC_SHOTS); do cp test-artifacts/tour/$$shot.png docs/screenshots/; done

check-deploy: $(STAMP)
	$(PY) manage.py check --deploy --fail-level WARNING

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache staticfiles test-artifacts
