#!/usr/bin/env node
// The `reten` command: runs the compiled CLI (build it first with `npx pnpm@10 build`).
try {
  require.resolve('../dist/main.js');
} catch {
  process.stderr.write('reten: packages/cli is not built; run `npx pnpm@10 build` first\n');
  process.exit(1);
}
require('../dist/main.js');
