'use strict';
// What the delivery service's memory of recent attempts (services/delivery/src/recent-attempts.ts)
// costs per delivery as the process runs on at a steady rate: each delivery is checked once
// (mayBeStale, endedLately, as an attempt begins) and its end recorded once, BENCH_RECENT_RATE
// (4,000) deliveries per second of a simulated clock for BENCH_RECENT_SECONDS (120): the
// simulated time is what fills the window (60 s), the CPU is real. Prints µs per delivery for
// every 10 s of simulated time, next to a raw baseline measured in the same run: one Map.get and
// one Map.set per delivery into a map that is never trimmed.
// `node bench/delivery/recent-attempts.js [root …]` (roots: built checkouts, default this one),
// to compare trees; the roots alternate chunk by chunk.
const path = require('node:path');

const RATE = Number(process.env.BENCH_RECENT_RATE ?? 4_000);
const SECONDS = Number(process.env.BENCH_RECENT_SECONDS ?? 120);
const CHUNK_SECONDS = 10;
const ROOTS = process.argv.slice(2).length
  ? process.argv.slice(2).map((r) => path.resolve(r))
  : [path.join(__dirname, '../..')];

// the simulated clock: RecentAttempts reads Date.now()
let simulated = Date.now();
Date.now = () => simulated;

const idOf = (n) => `dlv_01JD${String(n).padStart(22, '0')}`;

/** One subject: its own structure and its own ids, advanced one chunk at a time. */
function subject(name, make, perDelivery) {
  const state = make();
  let n = 0;
  return {
    name,
    /** Runs one chunk; returns µs per delivery. */
    chunk() {
      const count = RATE * CHUNK_SECONDS;
      const start = process.hrtime.bigint();
      for (let i = 0; i < count; i++) {
        simulated += 1000 / RATE;
        perDelivery(state, idOf(n++));
      }
      return Number(process.hrtime.bigint() - start) / count / 1000;
    },
  };
}

function main() {
  const subjects = [
    subject(
      'baseline (a Map, never trimmed)',
      () => new Map(),
      (map, id) => {
        if (map.get(id) === undefined) map.set(id, simulated);
      },
    ),
    ...ROOTS.map((root) =>
      subject(
        path.relative(process.cwd(), root) || '.',
        () => {
          const { RecentAttempts } = require(
            path.join(root, 'services/delivery/dist/recent-attempts.js'),
          );
          return new RecentAttempts();
        },
        (recent, id) => {
          recent.mayBeStale(id, simulated - 2);
          recent.endedLately(id);
          // what start() does once the attempt's promise settles
          recent.ended(id, undefined);
        },
      ),
    ),
  ];
  process.stdout.write(
    `recent attempts: ${RATE.toLocaleString('en-US')} deliveries per simulated second, ` +
      `${SECONDS} s; µs per delivery by 10 s of simulated time\n`,
  );
  process.stdout.write(`${'simulated s'.padEnd(12)}${subjects.map((s) => s.name).join(' | ')}\n`);
  for (let t = CHUNK_SECONDS; t <= SECONDS; t += CHUNK_SECONDS) {
    // each subject runs the same chunk of simulated time, in turn
    const figures = subjects.map((s) => {
      const at = simulated;
      const us = s.chunk();
      simulated = at;
      return us;
    });
    simulated += CHUNK_SECONDS * 1000;
    const [base] = figures;
    const cells = figures.map((us, i) =>
      i === 0 ? us.toFixed(3) : `${us.toFixed(3)} (${(us / base).toFixed(1)}× the baseline)`,
    );
    process.stdout.write(`${String(t).padEnd(12)}${cells.join(' | ')}\n`);
  }
}

main();
