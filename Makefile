# IMP — the two commands a newcomer needs are `make run` and `make test`.
SHELL := /bin/bash
UV_VERSION := 0.13.9
UV := python3 -m uv
export UV_PYTHON_DOWNLOADS := never

.PHONY: run test lint install python-deps web-deps web chromium firefox format clean

## Install everything, build the workspace, migrate, seed demo data and start IMP.
run: install web
	$(UV) run imp run --demo

## Install everything and run the whole test suite (SQLite, PostgreSQL + Redis, browsers).
test: install web chromium firefox
	$(UV) run pytest

lint: install
	$(UV) run ruff check src tests bench
	$(UV) run ruff format --check src tests bench
	$(UV) run mypy
	cd web && npm run lint

format: install
	$(UV) run ruff format src tests bench
	$(UV) run ruff check --fix src tests bench

install: python-deps web-deps

python-deps:
	@$(UV) --version >/dev/null 2>&1 || python3 -m pip install --quiet "uv==$(UV_VERSION)"
	$(UV) sync --frozen

web-deps:
	cd web && npm ci --no-audit --no-fund

web: web-deps
	cd web && npm run build

chromium:
	bash scripts/ensure-chromium.sh

firefox:
	bash scripts/ensure-firefox.sh

clean:
	rm -rf .venv web/node_modules web/dist var
