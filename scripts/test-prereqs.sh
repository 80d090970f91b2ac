#!/usr/bin/env bash
# Run by `pnpm test` before anything else: the three servers up (scripts/ensure-servers.sh), and
# two Debian packages present: `docker-compose`, which tests/repo/docker-compose.test.ts needs to
# validate docker-compose.yml without a Docker engine, and `chromium`, the browser the console's
# Playwright test drives (tests/e2e/console.test.ts; no browser download). Fails loudly when one
# cannot be installed.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

bash "$here/ensure-servers.sh"

# ensure_package COMMAND PACKAGE: installs PACKAGE with apt-get when COMMAND is missing.
ensure_package() {
  local command=$1 package=$2
  if command -v "$command" >/dev/null 2>&1; then return 0; fi
  echo "test-prereqs: installing $package (Debian package) with apt-get" >&2
  local sudo=''
  if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
      sudo='sudo'
    else
      echo "test-prereqs: $command is missing and this user cannot install it (not root, no sudo)." >&2
      echo "test-prereqs: install it (apt-get install $package) and run the tests again." >&2
      exit 1
    fi
  fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "$package" >/dev/null
  if ! command -v "$command" >/dev/null 2>&1; then
    echo "test-prereqs: $command is still missing after apt-get install" >&2
    exit 1
  fi
}

ensure_package docker-compose docker-compose
ensure_package chromium chromium
