#!/usr/bin/env bash
# Set up, then run every test. Real-data tests read ../shared/data/real (or $ENVOYWATCH_REAL_DATA);
# they skip where it is absent, except under CI=true where they must run.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
. .venv/bin/activate
exec python -m pytest -q "$@"
