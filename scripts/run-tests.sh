#!/usr/bin/env bash
# `pnpm test` after the prerequisites: build, type-check, lint and format-check, then jest.
# Every step runs even when an earlier one fails, so one run shows every problem; jest runs
# last, so the run ends with its summary line (`jest: N passed, N failed, N skipped`), and the
# exit status is non-zero when any step failed. Arguments go to jest (`pnpm test -- <path>`).
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bin=node_modules/.bin
failed=()

step() {
  local name=$1
  shift
  printf '\n== %s: %s\n' "$name" "$*"
  if ! "$@"; then
    failed+=("$name")
    printf '== %s FAILED\n' "$name"
  fi
}

# A shared lock only matters when several people build in one tree; where flock is missing, build.
build() { if command -v flock >/dev/null; then flock /tmp/reten-build.lock "$bin/tsc" -b; else "$bin/tsc" -b; fi; }

step build build
# the operator's console (packages/console): typed against the gateway's OpenAPI document, which
# the compiled gateway builds, so it comes after tsc
step console node packages/console/scripts/build.mjs
step typecheck "$bin/tsc" -p tsconfig.lint.json --noEmit
step eslint "$bin/eslint" . --max-warnings 0
step prettier "$bin/prettier" --check . --log-level warn
if ((${#failed[@]} > 0)); then
  printf '\n== failed before jest: %s (jest runs anyway)\n' "${failed[*]}"
fi
printf '\n== jest\n'
"$bin/jest" --ci "$@"
jest_status=$?
if ((${#failed[@]} > 0 || jest_status != 0)); then exit 1; fi
