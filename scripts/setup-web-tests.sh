#!/usr/bin/env bash
# Install what the browser tests need besides Python packages: axe-core (accessibility checks),
# pinned, from the npm registry, into a cache folder the tests read (never loaded from a CDN).
# Usage: bash scripts/setup-web-tests.sh   (prints the path of axe.min.js)
set -euo pipefail
cd "$(dirname "$0")/.."

AXE_VERSION="4.14.1"
CACHE="${CASEFRAME_WEB_TEST_CACHE:-.cache/web-tests}"
AXE="$CACHE/node_modules/axe-core/axe.min.js"

installed() {
  [ -f "$AXE" ] && grep -q "\"version\": \"$AXE_VERSION\"" "$CACHE/node_modules/axe-core/package.json"
}

if ! installed; then
  if ! command -v npm >/dev/null 2>&1; then
    if [ "$(id -u)" != "0" ]; then
      echo "error: npm is missing; install Debian's npm (apt-get install npm)" >&2
      exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends npm >/dev/null
  fi
  mkdir -p "$CACHE"
  npm install --prefix "$CACHE" --no-audit --no-fund --silent --save-exact "axe-core@$AXE_VERSION" >&2
fi
installed || { echo "error: axe-core $AXE_VERSION did not install into $CACHE" >&2; exit 1; }
echo "$PWD/$AXE"
