#!/usr/bin/env bash
# Set up, then run the main job on the embedded default store: build the simulated demo and print its figures.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
. .venv/bin/activate
exec envoywatch demo "$@"
