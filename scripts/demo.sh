#!/usr/bin/env bash
# Set up (idempotent) and run the main job: a real head-to-head of two local LLMs.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
echo "demo: running .venv/bin/bayesbench demo $* (about 2-5 min; the first seconds load the two models)"
status=0
.venv/bin/bayesbench demo "$@" || status=$?
echo
echo "demo: next, from this directory: .venv/bin/bayesbench --help   (or: source .venv/bin/activate, then bayesbench ...)"
exit "$status"
