import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { packageVersion } from './package-version';

describe('packageVersion', () => {
  it('reads the version of the package.json in the folder', () => {
    const own = JSON.parse(readFileSync(path.resolve(__dirname, '../package.json'), 'utf8')) as {
      version: string;
    };
    expect(packageVersion(path.resolve(__dirname, '..'))).toBe(own.version);
  });

  it('answers 0.0.0 when the file is missing, unreadable or has no string version', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'reten-version-'));
    try {
      expect(packageVersion(dir)).toBe('0.0.0');
      writeFileSync(path.join(dir, 'package.json'), '{not json');
      expect(packageVersion(dir)).toBe('0.0.0');
      writeFileSync(path.join(dir, 'package.json'), '{"version": 3}');
      expect(packageVersion(dir)).toBe('0.0.0');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
