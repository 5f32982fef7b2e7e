#!/usr/bin/env bash
# Set up (idempotent) and run the whole test suite, including the Monte-Carlo oracles and the
# real llama.cpp server tests. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
echo "test: .venv/bin/python -m pytest $* (the whole suite takes several minutes)"
exec .venv/bin/python -m pytest "$@"
