import { execFileSync } from 'node:child_process';
import path from 'node:path';

export const REPO_ROOT = path.join(__dirname, '../..');

/**
 * `text` formatted by Prettier as if it were `file`, through scripts/prettier-format.js in a
 * child process (Prettier 3 loads its plugins with dynamic imports, which jest cannot run).
 */
export function prettierFormat(file: string, text: string): string {
  return execFileSync(process.execPath, ['scripts/prettier-format.js', file], {
    cwd: REPO_ROOT,
    input: text,
    encoding: 'utf8',
  });
}
