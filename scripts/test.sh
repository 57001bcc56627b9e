#!/usr/bin/env bash
# Installs what the tests need (Python packages, Debian's chromium, a CJK font) and runs the suite.
# Extra arguments go to pytest. pytest exits 5 when it collected no test: that is a failure here too.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh --test
.venv/bin/ruff check xiaobao
.venv/bin/ruff format --check xiaobao
# On every core (pytest-xdist); a module's tests stay together, so its fixtures are built once.
# XIAOBAO_TEST_WORKERS=0 runs them in this one process.
.venv/bin/pytest -q -n "${XIAOBAO_TEST_WORKERS:-auto}" --dist loadscope "$@"
