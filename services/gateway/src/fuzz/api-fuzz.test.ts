import { readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { startTestGateway } from '../test-fixture';
import type { TestGateway } from '../test-fixture';
import { api, eventIdOf } from '../test-api';
import { operationsOf, requestArbitrary } from './request-arbitrary';
import type { FuzzRequest, Operation } from './request-arbitrary';
import { grownTables, rowCounts } from './stored-rows';

/** Cases per operation: 100 by default (about 3,200 requests, under a minute on a busy 2-core machine); FUZZ_RUNS=2000 for a longer hunt. */
const RUNS = Number(process.env.FUZZ_RUNS ?? 100);
/** Fixed, so a failure in CI reproduces; FUZZ_SEED explores elsewhere. */
const SEED = Number(process.env.FUZZ_SEED ?? 13);

/** The closed list as docs/errors.md documents it: code → status. */
function documentedCodes(): Map<string, number> {
  const doc = readFileSync(path.join(__dirname, '../../../../docs/errors.md'), 'utf8');
  const codes = new Map<string, number>();
  for (const line of doc.split('\n')) {
    const m = /^\|\s*`([a-z_]+)`\s*\|\s*(\d{3})\s*\|/.exec(line);
    if (m) codes.set(m[1]!, Number(m[2]));
  }
  return codes;
}

interface Answer {
  status: number;
  text: string;
}

async function send(req: FuzzRequest, apiKey: string): Promise<Answer> {
  const res = await fetch(req.url, {
    method: req.method,
    headers: { ...req.headers, authorization: `Bearer ${apiKey}` },
    ...(req.body === undefined ? {} : { body: req.body }),
    signal: AbortSignal.timeout(15_000),
  });
  return { status: res.status, text: await res.text() };
}

/** Why the answer breaks the contract, or undefined. */
function violation(op: Operation, answer: Answer, codes: Map<string, number>): string | undefined {
  if (answer.status >= 500) return `a ${answer.status}`;
  if (!op.responses.has(String(answer.status))) return `undeclared status ${answer.status}`;
  if (answer.status < 400) return undefined;
  let error: { code?: unknown; status?: unknown; message?: unknown } | undefined;
  try {
    error = (JSON.parse(answer.text) as { error?: typeof error }).error;
  } catch {
    return 'an error answer that is not JSON';
  }
  if (!error || typeof error.message !== 'string' || error.status !== answer.status) {
    return 'an error answer without the envelope';
  }
  const documented = codes.get(String(error.code));
  if (documented === undefined) return `code ${String(error.code)} is not in docs/errors.md`;
  if (documented !== answer.status)
    return `code ${String(error.code)} with status ${answer.status}`;
  return undefined;
}

describe('API fuzz: every documented operation, valid and hostile requests', () => {
  let gw: TestGateway;
  const known: Record<string, string[]> = {};

  beforeAll(async () => {
    gw = await startTestGateway('api fuzz', {
      env: { RATE_LIMIT_ENABLED: 'false', WEBHOOK_ALLOW_PRIVATE: 'true' },
    });
    // existing resources, so valid ids reach the code behind the lookups too
    const webhook = await api(gw, 'POST', '/api/v1/webhooks', { url: 'http://127.0.0.1:9/h' });
    const event = await api(gw, 'POST', '/api/v1/events', {
      event_type: 'order.created',
      data: {},
    });
    known.id = [(webhook.body as { id: string }).id, eventIdOf(event)];
    known.type = ['order.created'];
    known.name = ['logs'];
  });

  afterAll(async () => {
    await gw?.close();
  });

  it(
    'never answers 5xx, only declared statuses, errors in the envelope with a documented code, and stores nothing when refusing',
    async () => {
      const codes = documentedCodes();
      const doc = (await api(gw, 'GET', '/openapi.json')).body as Parameters<
        typeof operationsOf
      >[0];
      const { operations: all, resolve } = operationsOf(doc);
      // deletes last, so the existing resources stay for the other operations to reach
      const operations = [
        ...all.filter((op) => op.method !== 'DELETE'),
        ...all.filter((op) => op.method === 'DELETE'),
      ];
      expect(operations.length).toBeGreaterThan(20);
      let cases = 0;
      let stored = await rowCounts(gw.schema);
      const statuses = new Map<number, number>();
      const timings: string[] = [];
      for (const op of operations) {
        const t0 = Date.now();
        await fc.assert(
          fc.asyncProperty(requestArbitrary(op, resolve, known, gw.url), async (req) => {
            cases++;
            const answer = await send(req, gw.apiKey);
            statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
            const broken = violation(op, answer, codes);
            // requests are sequential: the counts after the last write are the counts before
            // this one; a refused request must leave them as they were
            let grown: string[] = [];
            if (answer.status >= 400 || req.method !== 'GET') {
              const before = stored;
              stored = await rowCounts(gw.schema);
              if (answer.status >= 400) grown = grownTables(before, stored);
            }
            if (broken || grown.length > 0) {
              throw new Error(
                `${op.method} ${op.path}: ${broken ?? `refused but stored (${grown.join(', ')})`}\n` +
                  `request: ${req.method} ${req.url} ${JSON.stringify(req.headers)} ` +
                  `${req.body?.toString('utf8').slice(0, 300) ?? ''}\nanswer: ${answer.status} ${answer.text.slice(0, 300)}`,
              );
            }
          }),
          { numRuns: RUNS, seed: SEED, endOnFailure: true },
        );
        timings.push(`${op.method} ${op.path} ${Date.now() - t0}`);
      }
      if (process.env.FUZZ_TIMINGS) process.stdout.write(`${timings.join('\n')}\n`);
      const summary = [...statuses].sort(([a], [b]) => a - b).map(([s, n]) => `${s}×${n}`);
      process.stdout.write(
        `api fuzz: ${cases} cases over ${operations.length} operations (seed ${SEED}, ${RUNS} each): ${summary.join(' ')}\n`,
      );
      expect(cases).toBe(RUNS * operations.length);
    },
    // FUZZ_RUNS scales the run; the default stays well under a minute
    Math.max(120_000, RUNS * 2_000),
  );
});
