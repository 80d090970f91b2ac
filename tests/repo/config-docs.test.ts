import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import * as sharedConfig from '@reten/config';
import type { ConfigShape } from '@reten/config';
import { STACK_SERVICES } from './stack-services';
import { REPO_ROOT, prettierFormat } from './prettier-format';

interface Section {
  title: string;
  where: string;
  shape: ConfigShape;
}

interface Generator {
  configSections(load: (file: string) => unknown, shared: typeof sharedConfig): Section[];
  configurationMarkdown(sections: Section[], table: (shape: ConfigShape) => string): string;
  envExample(sections: Section[]): string;
  DOC: string;
  ENV_EXAMPLE: string;
}

const load = createRequire(__filename);
const generator = load('../../scripts/config-table.js') as Generator;

/** A service's config module from its TypeScript source, or undefined when it has none yet. */
function loadSource(file: string): unknown {
  const source = path.join(REPO_ROOT, `${file}.ts`);
  return existsSync(source) ? load(source) : undefined;
}

describe('docs/configuration.md and .env.example', () => {
  const sections = generator.configSections(loadSource, sharedConfig);

  it('are what scripts/config-table.js renders from the config schemas (run `pnpm docs:config` when this fails)', () => {
    const doc = prettierFormat(
      generator.DOC,
      generator.configurationMarkdown(sections, sharedConfig.configTable),
    );
    expect(readFileSync(generator.DOC, 'utf8')).toBe(doc);
    expect(readFileSync(generator.ENV_EXAMPLE, 'utf8')).toBe(generator.envExample(sections));
  });

  it('have a section for every stack service that has a config module, and one for migrate', () => {
    const withConfig = STACK_SERVICES.filter((service) =>
      service.config.some((file) => existsSync(path.join(REPO_ROOT, service.dir, `${file}.ts`))),
    ).map((service) => service.name);
    expect(sections.map((section) => section.title)).toEqual([...withConfig, 'migrate']);
    const doc = readFileSync(generator.DOC, 'utf8');
    for (const title of [...withConfig, 'migrate']) expect(doc).toContain(`## ${title}\n`);
  });

  it('list every variable of every schema in .env.example, commented out with its default', () => {
    const env = readFileSync(generator.ENV_EXAMPLE, 'utf8');
    for (const section of sections) {
      for (const [key, schema] of Object.entries(section.shape)) {
        const parsed = schema.safeParse(undefined);
        expect(parsed.success).toBe(true);
        expect(env).toMatch(new RegExp(`^# ${key}=`, 'm'));
      }
    }
    expect(env).toContain('\n# LOG_LEVEL=info\n');
    expect(env.split('\n').filter((line) => line !== '' && !line.startsWith('#'))).toEqual([]);
  });

  it('holds defaults every process accepts: .env.example uncommented is a valid .env', () => {
    const env: Record<string, string> = {};
    for (const line of readFileSync(generator.ENV_EXAMPLE, 'utf8').split('\n')) {
      const match = /^# ([A-Z][A-Z0-9_]*)=(.*)$/.exec(line);
      if (match) env[match[1]!] = match[2]!;
    }
    for (const section of sections) {
      // as pnpm start does: each process gets the RETEN_* keys it reads, and every other one
      const own = Object.fromEntries(
        Object.entries(env).filter(([key]) => !key.startsWith('RETEN_') || key in section.shape),
      );
      expect(() => sharedConfig.loadConfig(section.shape, own)).not.toThrow();
    }
  });

  it('gives every variable a description and a default in the tables', () => {
    const doc = readFileSync(generator.DOC, 'utf8');
    const rows = doc.split('\n').filter((line) => /^\| `[A-Z0-9_]+`/.test(line));
    expect(rows.length).toBeGreaterThan(10);
    const bad = rows.filter((row) => {
      const cells = row.split('|').map((cell) => cell.trim());
      return cells[2] === '(required)' || (cells[3] ?? '').length === 0;
    });
    expect(bad).toEqual([]);
  });
});
