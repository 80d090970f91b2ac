import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ERROR_STATUS } from '@reten/contracts';

const DOC = path.join(__dirname, '../../docs/errors.md');

/** Rows of the table in docs/errors.md: `| \`code\` | status | meaning |`. */
function documentedCodes(): Map<string, { status: number; meaning: string }> {
  const rows = new Map<string, { status: number; meaning: string }>();
  for (const line of readFileSync(DOC, 'utf8').split('\n')) {
    const match = /^\|\s*`([a-z_]+)`\s*\|\s*(\d{3})\s*\|(.*)\|\s*$/.exec(line);
    if (match) rows.set(match[1]!, { status: Number(match[2]), meaning: match[3]!.trim() });
  }
  return rows;
}

describe('docs/errors.md', () => {
  const documented = documentedCodes();

  it('documents every code of ERROR_STATUS with the status the code answers with', () => {
    const expected = Object.entries(ERROR_STATUS).map(([code, status]) => [code, status]);
    const actual = Object.keys(ERROR_STATUS).map((code) => [code, documented.get(code)?.status]);
    expect(actual).toEqual(expected);
  });

  it('documents no code that ERROR_STATUS does not have', () => {
    const unknown = [...documented.keys()].filter((code) => !(code in ERROR_STATUS));
    expect(unknown).toEqual([]);
  });

  it('gives every documented code a meaning', () => {
    const empty = [...documented].filter(([, row]) => row.meaning.length < 10).map(([c]) => c);
    expect(empty).toEqual([]);
  });
});
