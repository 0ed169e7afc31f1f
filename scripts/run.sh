#!/usr/bin/env bash
# Fresh clone -> the web chat over the bundled corpus, offline (no LLM, no model download).
# Ingests corpus/ on first start, then serves http://127.0.0.1:7860. Extra args go to `rag chat`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh run
exec .venv/bin/rag chat "$@"
