import type { Schemas } from './api';

type Bucket = { start: string; attempts: number; succeeded: number; failed: number };

const W = 720;
const H = 140;
const PAD = 24;

/** Delivery attempts per bucket as stacked bars (succeeded below, failed above), inline SVG. */
export function DeliveryChart({ buckets }: { buckets: Bucket[] }) {
  const max = Math.max(1, ...buckets.map((b) => b.attempts));
  const width = (W - PAD) / Math.max(1, buckets.length);
  const y = (n: number) => ((H - PAD) * n) / max;
  const first = buckets[0];
  const lastBucket = buckets[buckets.length - 1];
  return (
    <svg
      class="chart"
      viewBox={`0 0 ${W} ${H}`}
      role="img"
      aria-label="deliveries and failures over time"
      data-buckets={buckets.length}
      data-failed={buckets.reduce((n, b) => n + b.failed, 0)}
    >
      <line x1={PAD} y1={H - PAD} x2={W} y2={H - PAD} class="axis" />
      <text x={0} y={10} class="label">
        {max}
      </text>
      <text x={0} y={H - PAD} class="label">
        0
      </text>
      {buckets.map((b, i) => {
        const x = PAD + i * width;
        const ok = y(b.succeeded);
        const bad = y(b.failed);
        return (
          <g key={b.start}>
            <title>
              {new Date(b.start).toLocaleString()}: {b.succeeded} succeeded, {b.failed} failed
            </title>
            <rect x={x} y={H - PAD - ok} width={Math.max(1, width - 1)} height={ok} class="ok" />
            <rect
              x={x}
              y={H - PAD - ok - bad}
              width={Math.max(1, width - 1)}
              height={bad}
              class="bad"
            />
          </g>
        );
      })}
      {first && (
        <text x={PAD} y={H - 6} class="label">
          {new Date(first.start).toLocaleString()}
        </text>
      )}
      {lastBucket && (
        <text x={W} y={H - 6} class="label" text-anchor="end">
          {new Date(lastBucket.start).toLocaleString()}
        </text>
      )}
    </svg>
  );
}

/** Success rate, latency percentiles and the last error of an endpoint. */
export function StatsFacts({ stats }: { stats: Schemas['WebhookStats'] }) {
  const pct = stats.success_rate === null ? '—' : `${(stats.success_rate * 100).toFixed(1)} %`;
  const ms = (v: number | null) => (v === null ? '—' : `${Math.round(v)} ms`);
  return (
    <dl class="facts" data-testid="stats">
      <dt>success rate</dt>
      <dd>
        {pct} ({stats.succeeded} of {stats.attempts} attempts)
      </dd>
      <dt>latency p50 / p99 (latest 1,000 attempts)</dt>
      <dd>
        {ms(stats.latency_p50_ms)} / {ms(stats.latency_p99_ms)}
      </dd>
      <dt>failed deliveries</dt>
      <dd>{stats.deliveries_failed}</dd>
      <dt>last error</dt>
      <dd class="error-text">
        {stats.last_error ?? '—'}
        {stats.last_error_at && ` (${new Date(stats.last_error_at).toLocaleString()})`}
      </dd>
    </dl>
  );
}
