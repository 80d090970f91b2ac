/**
 * Figures of one step of the system bench, from the producer's records and what each of the
 * three sinks saw (all times epoch ms on the same machine), and the table the bench prints.
 */
const h = require('../lib/harness');

const P99_BUDGET_MS = 1000;

function latencyStats(values) {
  if (values.length === 0) return { p50Ms: null, p99Ms: null, maxMs: null, samples: 0 };
  const sorted = Float64Array.from(values).sort();
  const at = (p) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
  return {
    p50Ms: at(0.5),
    p99Ms: at(0.99),
    maxMs: sorted[sorted.length - 1],
    samples: sorted.length,
  };
}

/**
 * One sink: for each accepted event it should see (`expected`, producer records), the time
 * from the intended send to its first receipt (`seen`: Map id → [firstMs, count]).
 */
function sinkStats(expected, seen, keyOf) {
  const latencies = [];
  let missing = 0;
  let duplicates = 0;
  for (const r of expected) {
    const v = seen.get(keyOf(r));
    if (!v) missing += 1;
    else {
      latencies.push(v[0] - r[2]);
      duplicates += v[1] - 1;
    }
  }
  return { expected: expected.length, missing, duplicates, ...latencyStats(latencies) };
}

/** The figures of one step; `sinks`: { eworker, webhook, stream } maps; `cpu`: µs per service. */
function stepFigures({ rate, seconds, records, sinks, cpuMicros, drained, drainMs }) {
  const accepted = records.filter((r) => r[4] === 202);
  const statuses = {};
  for (const r of records) statuses[r[4]] = (statuses[r[4]] ?? 0) + 1;
  const ingest = latencyStats(accepted.map((r) => r[3] - r[2]));
  const logs = accepted.filter((r) => r[1] === 'log:ClientLog');
  const byId = (r) => r[5];
  const byRevision = (r) => `${r[5]}:1`;
  const figures = {
    rate,
    seconds,
    sent: records.length,
    accepted: accepted.length,
    acceptedPerSecond: accepted.length / seconds,
    statuses,
    ingest,
    eworker: sinkStats(logs, sinks.eworker, byId),
    webhook: sinkStats(accepted, sinks.webhook, byId),
    stream: sinkStats(accepted, sinks.stream, byRevision),
    drained,
    drainMs,
    cpuMicrosPerEvent: Object.fromEntries(
      Object.entries(cpuMicros).map(([name, us]) => [
        name,
        accepted.length ? us / accepted.length : null,
      ]),
    ),
  };
  const p99s = [ingest, figures.eworker, figures.webhook, figures.stream].map((s) => s.p99Ms);
  figures.sustained =
    accepted.length === records.length &&
    [figures.eworker, figures.webhook, figures.stream].every((s) => s.missing === 0) &&
    figures.stream.duplicates === 0 &&
    p99s.every((p) => p !== null && p <= P99_BUDGET_MS);
  return figures;
}

const ms = (v) => (v === null ? '-' : h.fmt(v));
const lat = (s) => `${ms(s.p50Ms)} / ${ms(s.p99Ms)} / ${ms(s.maxMs)}`;
const sinkCell = (s) =>
  `${lat(s)}${s.missing ? `, ${h.fmt(s.missing)} missing` : ''}${s.duplicates ? `, ${h.fmt(s.duplicates)} dup` : ''}`;

/** Prints one step as a block of lines. */
function printStep(f, line) {
  const refused = f.sent - f.accepted;
  line(
    `  ${h.fmt(f.rate)}/s for ${f.seconds} s: accepted ${h.fmt(f.acceptedPerSecond)}/s` +
      `${refused ? ` (${h.fmt(refused)} not accepted: ${JSON.stringify(f.statuses)})` : ''}, ` +
      `ingest p50/p99 ${ms(f.ingest.p50Ms)} / ${ms(f.ingest.p99Ms)} ms, ` +
      `${f.drained ? `drained in ${h.fmt(f.drainMs)} ms` : `NOT drained after ${h.fmt(f.drainMs)} ms`}` +
      (f.producer?.lateSends
        ? `, ${h.fmt(f.producer.lateSends)} sends > 5 ms behind schedule`
        : ''),
  );
  line(
    `    send → eworker processed mark (log:ClientLog only) p50/p99/max ms: ${sinkCell(f.eworker)}`,
  );
  line(
    `    send → webhook receipt                              p50/p99/max ms: ${sinkCell(f.webhook)}`,
  );
  line(
    `    send → WebSocket client receipt                     p50/p99/max ms: ${sinkCell(f.stream)}`,
  );
  line(
    `    CPU µs per accepted event: ${Object.entries(f.cpuMicrosPerEvent)
      .map(([name, us]) => `${name} ${us === null ? '-' : h.fmt(us)}`)
      .join(', ')}   → ${f.sustained ? 'sustained' : 'NOT sustained'}`,
  );
}

/** The summary table (Markdown, so it can go into bench/README.md as printed). */
function printTable(steps, line) {
  line('');
  line(
    '| rate/s | accepted/s | ingest p50 / p99 ms | eworker p50 / p99 / max ms | webhook p50 / p99 / max ms | WebSocket p50 / p99 / max ms | missing (ew / wh / ws) | dup wh | sustained |',
  );
  line('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const f of steps) {
    line(
      `| ${h.fmt(f.rate)} | ${h.fmt(f.acceptedPerSecond)} | ${ms(f.ingest.p50Ms)} / ${ms(f.ingest.p99Ms)} | ${lat(f.eworker)} | ${lat(f.webhook)} | ${lat(f.stream)} | ` +
        `${f.eworker.missing} / ${f.webhook.missing} / ${f.stream.missing} | ${f.webhook.duplicates} | ${f.sustained ? 'yes' : 'no'} |`,
    );
  }
}

module.exports = { stepFigures, printStep, printTable, P99_BUDGET_MS };
