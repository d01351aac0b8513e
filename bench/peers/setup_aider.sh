#!/bin/sh
# Install the peer aider-chat 0.86.2 (for its repo map only) into its own venv, outside the
# project. It is a benchmark peer, never a kenning dependency. aider-chat 0.86.2 supports
# Python 3.10 to 3.12; its tree-sitter grammars come bundled in tree-sitter-language-pack
# 0.13, so building a map needs no network.
#
#   sh bench/peers/setup_aider.sh            # venv in ~/.cache/kenning-bench/aider
#   AIDER_VENV=/some/dir sh bench/peers/setup_aider.sh
set -eu
VENV="${AIDER_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/kenning-bench/aider}"
PY="${AIDER_PYTHON:-}"
if [ -z "$PY" ]; then
  for candidate in "$HOME/.pyenv/versions/3.12.1/bin/python" python3.12 python3.11; do
    if command -v "$candidate" >/dev/null 2>&1 || [ -x "$candidate" ]; then
      if "$candidate" -c 'import sys; sys.exit(not (3, 11) <= sys.version_info[:2] <= (3, 12))' \
        2>/dev/null; then
        PY="$candidate"; break
      fi
    fi
  done
fi
if [ -z "$PY" ]; then
  echo "aider-chat 0.86.2 needs Python 3.11 or 3.12: set AIDER_PYTHON to one" >&2
  exit 1
fi
if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c 'import aider.repomap' 2>/dev/null; then
  echo "$VENV"; exit 0
fi
"$PY" -m venv "$VENV"
# A half-installed venv is removed: the peer's tests run whenever the venv's Python exists.
if ! { "$VENV/bin/python" -m pip install --quiet --upgrade pip &&
  "$VENV/bin/python" -m pip install --quiet "aider-chat==0.86.2" &&
  "$VENV/bin/python" -c 'import aider.repomap'; }; then
  rm -rf "$VENV"
  echo "aider-chat 0.86.2 could not be installed into $VENV" >&2
  exit 1
fi
echo "$VENV"
