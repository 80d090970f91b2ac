import { readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * The `version` of the package.json in `packageDir` (a service's or the CLI's own folder), or
 * `0.0.0` when it cannot be read: a version is shown to users (User-Agent, /openapi.json,
 * `--version`), never relied on, so a missing file must not stop a process.
 */
export function packageVersion(packageDir: string): string {
  try {
    const pkg = JSON.parse(readFileSync(path.join(packageDir, 'package.json'), 'utf8')) as {
      version?: unknown;
    };
    return typeof pkg.version === 'string' ? pkg.version : '0.0.0';
  } catch {
    return '0.0.0';
  }
}
