#!/usr/bin/env bash
# Set up (idempotent) and run the main job: a real head-to-head of two local LLMs.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/bayesbench demo "$@"
