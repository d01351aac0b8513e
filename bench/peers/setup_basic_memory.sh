#!/bin/sh
# Install the peer basic-memory 0.24.1 into its own venv, outside the project.
# It is a benchmark peer, never a kenning dependency. It needs Python >= 3.12.
#
#   sh bench/peers/setup_basic_memory.sh            # venv in ~/.cache/kenning-bench/basic-memory
#   BASIC_MEMORY_VENV=/some/dir sh bench/peers/setup_basic_memory.sh
set -eu
VENV="${BASIC_MEMORY_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/kenning-bench/basic-memory}"
PY="${BASIC_MEMORY_PYTHON:-}"
if [ -z "$PY" ]; then
  for candidate in "$HOME/.pyenv/versions/3.12.1/bin/python" python3.13 python3.12; do
    if command -v "$candidate" >/dev/null 2>&1 || [ -x "$candidate" ]; then
      if "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then
        PY="$candidate"; break
      fi
    fi
  done
fi
if [ -z "$PY" ]; then
  echo "basic-memory needs Python >= 3.12: set BASIC_MEMORY_PYTHON to one" >&2
  exit 1
fi
if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c 'import basic_memory' 2>/dev/null; then
  echo "$VENV"; exit 0
fi
"$PY" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --upgrade pip
"$VENV/bin/python" -m pip install --quiet "basic-memory==0.24.1"
echo "$VENV"
