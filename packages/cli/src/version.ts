import { readFileSync } from 'node:fs';
import path from 'node:path';

function readVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(path.resolve(__dirname, '../package.json'), 'utf8')) as {
      version?: string;
    };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

/** The CLI's package version (`reten --version`, User-Agent of forwarded webhooks). */
export const version = readVersion();
