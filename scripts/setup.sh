#!/usr/bin/env bash
# Create .venv (Python 3.11) and install the project. Usage: scripts/setup.sh [run|dev]
#   run: what the chat needs (no torch, no test tools)
#   dev: everything the tests need: sentence-transformers (CPU torch first), Chromium,
#        the llama.cpp OpenAI-compatible server with a small GGUF model.
# Idempotent: a second run only checks what is there.
set -euo pipefail
cd "$(dirname "$0")/.."
MODE="${1:-run}"
PYTHON_BIN="${PYTHON:-$(command -v python3.11 || command -v python3)}"
if [ ! -x .venv/bin/python ]; then
    echo "creating .venv with $("$PYTHON_BIN" --version)"
    "$PYTHON_BIN" -m venv .venv
    .venv/bin/python -m pip install --quiet --upgrade pip
fi
PY=.venv/bin/python
if [ "$MODE" = "dev" ]; then
    # sentence-transformers pulls torch: take the CPU build first where the machine has it,
    # so pip does not fetch a multi-GB CUDA build (any torch satisfies the requirement).
    if ! "$PY" -c "import torch" 2>/dev/null; then
        "$PY" -m pip install --quiet "torch==2.13.0" || "$PY" -m pip install --quiet torch
    fi
    "$PY" -m pip install --quiet -e '.[dev]'
    bash scripts/install_browser.sh
    bash scripts/setup_llm.sh "$PY"
else
    "$PY" -m pip install --quiet -e '.[web]'
fi
# an editable install leaves rag/ without bytecode; Python writes it on first import unless
# PYTHONDONTWRITEBYTECODE is set, and then every `rag ask` compiles 17k lines again (0.2 s)
"$PY" -m compileall -q rag >/dev/null
echo "setup ($MODE) done: $PY"
