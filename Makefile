# Noriai: two commands do everything on a fresh Debian machine with Python 3.11.
#   make run   - set up .venv and serve the demo at http://127.0.0.1:8000
#   make test  - set up .venv and test servers, then ruff, mypy, import-linter and pytest
.PHONY: run test lint typecheck contracts pytest venv venv-dev bench clean

HOST ?= 127.0.0.1
PORT ?= 8000
V := .venv/bin

venv:
	@scripts/bootstrap.sh run

venv-dev:
	@scripts/bootstrap.sh dev

run: venv
	$(V)/noriai serve --demo --host $(HOST) --port $(PORT)

test: venv-dev
	@scripts/test-deps.sh
	$(MAKE) --no-print-directory lint typecheck contracts pytest

lint:
	$(V)/ruff check .
	$(V)/ruff format --check .

typecheck:
	$(V)/mypy

contracts:
	$(V)/lint-imports

pytest:
	$(V)/pytest -q

clean:
	rm -rf .venv var .pytest_cache .mypy_cache .ruff_cache
