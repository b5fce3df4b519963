# Two commands for a fresh machine that has only python3, pip and make:
#   make demo   — the dashboard on the demo data (warehouse: warehouse/renovation.duckdb)
#   make test   — the test suite (installs Chromium, CJK fonts and PostgreSQL first when run as root):
#                 every test on the embedded warehouse, then the warehouse tests on a DuckLake whose
#                 catalog is a private PostgreSQL server (started for the run and stopped after)

TOOLS := .tools
UV := $(TOOLS)/bin/uv
APT_PACKAGES := chromium fonts-noto-cjk poppler-utils libreoffice-writer-nogui postgresql

# the DuckLake run of `make test` (time budget): ingest, the warehouse contract, signals, scores, the
# report, the pages, migrate and concurrency; `RENOVATION_TEST_BACKEND=ducklake uv run pytest -m
# "warehouse or ducklake"` runs every warehouse test on DuckLake
LAKE_TESTS := tests/test_ingest.py tests/test_warehouse.py tests/test_models.py tests/test_signals.py \
	tests/test_scoring.py tests/test_report.py tests/test_pages.py tests/test_migrate.py tests/test_concurrency.py \
	tests/test_incremental.py tests/test_lake_faults.py

.PHONY: demo test setup system-deps bench clean

$(UV):
	python3 -m venv $(TOOLS) 2>/dev/null && $(TOOLS)/bin/pip install -q uv || \
	  (mkdir -p $(TOOLS)/bin && python3 -m pip install -q --target $(TOOLS)/uvpkg uv && \
	   ln -sf ../uvpkg/bin/uv $(UV))

setup: $(UV)
	UV_COMPILE_BYTECODE=1 $(UV) sync --frozen

demo: setup
	$(UV) run renovation serve

# System packages the browser and report tests need; installed when missing and we are root.
system-deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	  else echo "缺少系统软件包:$$missing(请以 root 运行 make system-deps,或用 apt-get 安装)"; fi; \
	fi

test: setup system-deps
	$(UV) run playwright --version >/dev/null
	$(UV) run pytest -q
	RENOVATION_TEST_BACKEND=ducklake $(UV) run python tests/postgres.py run -- $(UV) run pytest -q \
	  -m "warehouse or ducklake" $(LAKE_TESTS)

bench: setup
	$(UV) run python benchmarks/ingest.py

# The warehouse goes only when it holds nothing but the demo data: a real one (or one that cannot
# be read to tell) stays, with its validation results (warehouse/gx).
WAREHOUSE := warehouse/renovation.duckdb
clean:
	@if [ -e $(WAREHOUSE) ]; then \
	  if [ -x .venv/bin/python ] && .venv/bin/python -m pipelines.operations demo-only $(WAREHOUSE); then \
	    rm -rf $(WAREHOUSE) $(WAREHOUSE).wal $(WAREHOUSE).lock warehouse/gx; \
	  else echo "保留 $(WAREHOUSE):其中有演示数据以外的数据(或无法确认),如确需删除请先备份(renovation backup)再手动删除"; fi; \
	fi
	rm -rf $(TOOLS) .venv demo_data
