#!/usr/bin/env bash
# Fresh clone -> every test passing: lint, types, then the whole suite, real services included
# (embedded Chroma and a `chroma run` server, the bundled embedding models, a llama.cpp
# server, Chromium). Extra args go to pytest, e.g. scripts/test.sh -m "not slow".
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh dev
.venv/bin/ruff check rag evals benchmarks tests scripts
.venv/bin/ruff format --check rag evals benchmarks tests scripts
.venv/bin/mypy
.venv/bin/python -m pytest "$@"
