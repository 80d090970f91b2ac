// Builds the console into packages/console/dist, where the gateway serves it at /console/.
// Run by the root `pnpm build` / `pnpm start` / `pnpm test` after `tsc -b` (the API types come
// from the compiled gateway): 1. generate the API types, 2. type-check the console against them
// (an API change that breaks a page fails here), 3. bundle with Vite.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function run(command, args) {
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) {
    console.error(`console build: ${path.basename(command)} failed`);
    process.exit(result.status ?? 1);
  }
}

run(process.execPath, [path.join(root, 'scripts/generate-api.mjs')]);
run(process.execPath, [
  path.join(root, 'node_modules/typescript/bin/tsc'),
  '-p',
  path.join(root, 'tsconfig.json'),
]);
await build({ root, logLevel: 'warn', configFile: path.join(root, 'vite.config.ts') });
