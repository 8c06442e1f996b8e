#!/usr/bin/env bash
# Set up, then run every test. Real-data tests read ../shared/data/real (or $ENVOYWATCH_REAL_DATA);
# they skip where it is absent, except under CI=true where they must run.
# The browser tests need Debian's chromium: installed here when missing and we may (root with apt-get).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x /usr/bin/chromium ] && command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
  echo "installing Debian chromium for the browser tests..."
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
    || echo "warning: could not install chromium; browser tests will skip (or fail under CI=true)"
fi
./scripts/setup.sh
. .venv/bin/activate
exec python -m pytest -q "$@"
