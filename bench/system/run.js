/**
 * `pnpm bench:system`: the whole stack end to end at fixed rates.
 *
 * Every service `pnpm start` runs (bench/system/stack.js) as its own process, in its own
 * schema / vhost / Redis prefix; one webhook endpoint (created through the API) on a local
 * receiver answering 204 (receiver.js); one WebSocket client subscribed to every type
 * (stream-client.js); an open-loop producer (producer.js) stepping through
 * BENCH_SYSTEM_RATES events/s for BENCH_SYSTEM_STEP_SECONDS each, half `log:ClientLog`, half
 * `order.created`. Per step: accepted/s, ingest p50/p99, and the time from each event's
 * intended send to (a) the logs eworker's processed mark, (b) the webhook receipt, (c) the
 * WebSocket receipt, with missing and duplicate counts and CPU µs per event per service.
 * Ends with the sustainable end-to-end rate: the highest rate with every p99 ≤ 1 s and
 * nothing missing. Each step drains (bounded) before the next; a step that does not drain
 * ends the run (its backlog would be measured as the next step's latency). Results JSON in
 * bench/results/.
 * Env: BENCH_SYSTEM_RATES (250,500,1000,2000,4000), BENCH_SYSTEM_STEP_SECONDS (15),
 * BENCH_SYSTEM_DRAIN_SECONDS (30), BENCH_SYSTEM_CONNECTIONS (256, producer keep-alive
 * connections), BENCH_SYSTEM_MAX_SECONDS (bound of the whole run; default from the steps),
 * BENCH_DATABASE_URL, BENCH_REDIS_URL.
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { randomBytes } = require('node:crypto');
const h = require('../lib/harness');
const { cpuMicros } = require('../lib/stack');
const { api, checkBuilt, openStack } = require('./stack');
const { forkHelper, startSink } = require('./helper-process');
const { eworkerMarks, drain, settle } = require('./sinks');
const { stepFigures, printStep, printTable, P99_BUDGET_MS } = require('./report');

const RATES = (process.env.BENCH_SYSTEM_RATES ?? '250,500,1000,2000,4000').split(',').map(Number);
const STEP_SECONDS = Number(process.env.BENCH_SYSTEM_STEP_SECONDS ?? 15);
const DRAIN_SECONDS = Number(process.env.BENCH_SYSTEM_DRAIN_SECONDS ?? 30);
const CONNECTIONS = Number(process.env.BENCH_SYSTEM_CONNECTIONS ?? 256);
const MAX_SECONDS = Number(
  process.env.BENCH_SYSTEM_MAX_SECONDS ?? 180 + RATES.length * (STEP_SECONDS + DRAIN_SECONDS + 30),
);
const DATABASE_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/reten_bench';
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const WEBHOOK_RATE_LIMIT = 10_000; // the most an endpoint may ask for: the bench measures the stack, not the limit
const WARMUP = { rate: 100, seconds: 3 };

const line = (s) => process.stdout.write(`${s}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Runs one step of the producer process; returns its records and summary. */
async function produce(ctx, rate, seconds) {
  const out = path.join(ctx.tmp, `producer-${ctx.nextSeq}.jsonl`);
  const bound = (seconds + 60) * 1000; // its requests time out after 10 s
  const done = await ctx.producer.ask(
    { cmd: 'run', rate, seconds, firstSeq: ctx.nextSeq, out },
    'done',
    bound,
  );
  if (done.error) throw new Error(`producer failed: ${done.error}`);
  const records = fs
    .readFileSync(out, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  fs.rmSync(out);
  ctx.nextSeq += records.length;
  return { records, summary: done.summary };
}

/** One step: produce, drain, collect; returns its figures. */
async function step(ctx, rate, seconds) {
  const cpuBefore = ctx.stack.services.map((s) => cpuMicros(s.child.pid));
  const { records, summary } = await produce(ctx, rate, seconds);
  const accepted = records.filter((r) => r[4] === 202);
  ctx.expected.all += accepted.length;
  for (const r of accepted) ctx.accepted.push(r);
  ctx.expected.logs += accepted.filter((r) => r[1] === 'log:ClientLog').length;
  const { drained, drainMs } = await drain(ctx, DRAIN_SECONDS * 1000);
  const cpuAfter = ctx.stack.services.map((s) => cpuMicros(s.child.pid));
  const [webhook, stream, eworker] = await Promise.all([
    ctx.receiver.dump(),
    ctx.client.dump(),
    eworkerMarks(
      ctx,
      accepted.filter((r) => r[1] === 'log:ClientLog').map((r) => r[5]),
    ),
  ]);
  const cpu = Object.fromEntries(
    ctx.stack.services.map((s, i) => [s.name, cpuAfter[i] - cpuBefore[i]]),
  );
  const figures = stepFigures({
    rate,
    seconds,
    records,
    sinks: { eworker, webhook: webhook.seen, stream: stream.seen },
    cpuMicros: cpu,
    drained,
    drainMs,
  });
  figures.producer = summary;
  figures.webhookUnidentified = webhook.extra.unidentified;
  figures.streamCloses = stream.extra.closes;
  return figures;
}

async function main(ctx) {
  checkBuilt();
  const suffix = randomBytes(3).toString('hex');
  ctx.schema = `bench_system_${suffix}`;
  ctx.vhost = h.createVhost(`bench_system_${suffix}`);
  ctx.tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'reten-bench-system-'));
  const jwtSecret = `bench-${randomBytes(16).toString('hex')}`;
  line(
    `system bench: rates ${RATES.join(', ')} events/s, ${STEP_SECONDS} s each (drain ≤ ${DRAIN_SECONDS} s), ` +
      `${CONNECTIONS} producer connections, ${os.cpus().length} CPUs shared by every process, ` +
      `load average ${os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
  );
  await openStack(ctx, {
    databaseUrl: DATABASE_URL,
    rabbitUrl: ctx.vhost.url,
    redisUrl: REDIS_URL,
    jwtSecret,
  });
  line(`  stack: ${ctx.stack.services.map((s) => `${s.name} (pid ${s.child.pid})`).join(', ')}`);
  ctx.receiver = startSink('receiver.js', []);
  const { port } = await ctx.receiver.ready;
  const gatewayPort = ctx.stack.portOf('gateway');
  await api(gatewayPort, ctx.apiKey, 'POST', '/api/v1/webhooks', {
    url: `http://127.0.0.1:${port}/hook`,
    description: 'system bench receiver',
    rate_limit_per_second: WEBHOOK_RATE_LIMIT,
  });
  const streamUrl = `ws://127.0.0.1:${ctx.stack.portOf('stream')}/events/stream?types=*`;
  ctx.client = startSink('stream-client.js', [
    JSON.stringify({ url: streamUrl, apiKey: ctx.apiKey }),
  ]);
  await ctx.client.ready;
  line(
    `  one webhook endpoint on 127.0.0.1:${port} answering 204 (rate_limit_per_second ${WEBHOOK_RATE_LIMIT}), ` +
      'one WebSocket client on types=*; services on their defaults' +
      (ctx.stack.overrides.length
        ? ` except ${ctx.stack.overrides.join(' ')} (from the shell)`
        : ''),
  );

  ctx.producer = forkHelper('producer.js', [
    JSON.stringify({
      baseUrl: `http://127.0.0.1:${gatewayPort}`,
      apiKey: ctx.apiKey,
      connections: CONNECTIONS,
    }),
  ]);
  await ctx.producer.ready;
  ctx.expected = { all: 0, logs: 0 };
  ctx.accepted = [];
  ctx.nextSeq = 0;
  const warm = await step(ctx, WARMUP.rate, WARMUP.seconds);
  if (!warm.drained || warm.accepted !== warm.sent)
    throw new Error(`warm-up did not go through: ${JSON.stringify(warm)}`);
  line(
    `  warm-up: ${warm.accepted} events reached the eworker, the webhook and the WebSocket client`,
  );

  const steps = [];
  for (const rate of RATES) {
    const figures = await step(ctx, rate, STEP_SECONDS);
    steps.push(figures);
    printStep(figures, line);
    if (figures.streamCloses.length > 0 || figures.webhookUnidentified > 0)
      line(
        `    WebSocket closes so far (codes): ${figures.streamCloses.join(', ') || 'none'}; ` +
          `webhook requests without X-Reten-Event-Id: ${figures.webhookUnidentified}`,
      );
    if (!figures.drained) {
      line(`  stopping: the backlog of ${h.fmt(rate)}/s did not drain within ${DRAIN_SECONDS} s`);
      break;
    }
  }
  printTable(steps, line);
  const wholeRun = await settle(ctx, DRAIN_SECONDS * 1000, line);
  const sustained = steps.filter((s) => s.sustained).map((s) => s.rate);
  const sustainable = sustained.length > 0 ? Math.max(...sustained) : null;
  line('');
  line(
    sustainable === null
      ? `sustainable end-to-end rate: none of the rates tried (every p99 ≤ ${P99_BUDGET_MS} ms, nothing missing)`
      : `sustainable end-to-end rate: ${h.fmt(sustainable)} events/s (every p99 ≤ ${P99_BUDGET_MS} ms, nothing missing)`,
  );
  const dir = path.join(h.ROOT, 'bench/results');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `system-${Date.now()}.json`);
  const result = {
    date: new Date().toISOString(),
    cpus: os.cpus().length,
    loadAverageAtEnd: os.loadavg(),
    rates: RATES,
    stepSeconds: STEP_SECONDS,
    warmup: warm,
    serviceSettingsFromShell: ctx.stack.overrides,
    steps,
    sustainableRate: sustainable,
    wholeRun,
  };
  fs.writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  line(`results: ${path.relative(process.cwd(), file)}`);
}

async function cleanup(ctx) {
  for (const helper of [ctx.producer, ctx.receiver, ctx.client]) helper?.stop();
  if (ctx.stack) await ctx.stack.stop();
  if (ctx.db) {
    await ctx.db.query(`DROP SCHEMA IF EXISTS "${ctx.schema}" CASCADE`).catch(() => undefined);
    await ctx.db.end().catch(() => undefined);
  }
  if (ctx.tmp) fs.rmSync(ctx.tmp, { recursive: true, force: true });
  ctx.vhost?.drop();
}

const ctx = {};
// the whole run is bounded: past it, every process is killed and the run fails
const watchdog = setTimeout(() => {
  process.stderr.write(`system bench: run bound of ${MAX_SECONDS} s reached, stopping\n`);
  for (const s of ctx.stack?.services ?? []) s.child.kill('SIGKILL');
  for (const helper of [ctx.producer, ctx.receiver, ctx.client]) helper?.child.kill('SIGKILL');
  Promise.race([cleanup(ctx), sleep(10_000)]).finally(() => process.exit(1));
}, MAX_SECONDS * 1000);
watchdog.unref();

main(ctx)
  .then(() => cleanup(ctx))
  .then(() => process.exit(0))
  .catch(async (err) => {
    process.stderr.write(`${err.stack ?? err}\n`);
    await Promise.race([cleanup(ctx), sleep(30_000)]);
    process.exit(1);
  });
