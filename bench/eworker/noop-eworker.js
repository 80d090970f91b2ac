/**
 * The eworker side of `pnpm bench:eworker`: a no-op eworker on the real SDK (built `dist/`),
 * so every cost of the per-type path is measured: parsing, in-order handling, the batched
 * PostgreSQL transaction with the processed marks, acks. Prints one JSON line
 * `{messages, seconds}` once `BENCH_MESSAGES` events were committed (timed from the first
 * one handled), then keeps running until the bench stops it.
 */
const { z } = require('zod');
const { defineEworker, runEworker } = require('@reten/eworker');

const expected = Number(process.env.BENCH_MESSAGES);
let committed = 0;
let first = 0n;

const noop = defineEworker({
  name: 'bench-noop',
  types: ['bench.noop'],
  schema: z.object({ n: z.number().int() }),
  handle: async (_event, ctx) => {
    if (first === 0n) first = process.hrtime.bigint();
    ctx.afterCommit(() => {
      committed += 1;
      if (committed === expected) {
        const seconds = Number(process.hrtime.bigint() - first) / 1e9;
        process.stdout.write(`${JSON.stringify({ messages: committed, seconds })}\n`);
      }
    });
  },
});

void runEworker(noop);
