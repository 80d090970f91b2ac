#!/usr/bin/env bash
# Run by `pnpm test` before anything else: the three servers up (scripts/ensure-servers.sh) and
# Debian's `docker-compose` present, which tests/repo/docker-compose.test.ts needs to validate
# docker-compose.yml without a Docker engine. Fails loudly when it cannot be installed.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

bash "$here/ensure-servers.sh"

if ! command -v docker-compose >/dev/null 2>&1; then
  echo 'test-prereqs: installing docker-compose (Debian package) with apt-get' >&2
  sudo=''
  if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
      sudo='sudo'
    else
      echo 'test-prereqs: docker-compose is missing and this user cannot install it (not root, no sudo).' >&2
      echo 'test-prereqs: install it (apt-get install docker-compose) and run the tests again.' >&2
      exit 1
    fi
  fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends docker-compose >/dev/null
  if ! command -v docker-compose >/dev/null 2>&1; then
    echo 'test-prereqs: docker-compose is still missing after apt-get install' >&2
    exit 1
  fi
fi
