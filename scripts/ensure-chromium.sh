#!/usr/bin/env bash
# Browser tests drive Debian's chromium through Playwright (no browser download).
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Debian's chromium for the browser tests…"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq chromium >/dev/null
  exit 0
fi
echo "The browser tests need Debian's 'chromium' package. Install it with:" >&2
echo "    sudo apt-get install chromium" >&2
echo "or run 'make test PYTEST_ARGS=\"-m 'not browser'\"' to skip them." >&2
exit 1
