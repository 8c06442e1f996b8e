#!/usr/bin/env bash
# Create .venv (if needed) and install envoywatch with the pinned versions in constraints.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
. .venv/bin/activate
python -m pip install -q --upgrade pip >/dev/null
python -m pip install -q -c constraints.txt -e ".[test${EXTRAS:+,$EXTRAS}]"
