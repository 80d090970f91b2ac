/**
 * Slopes and the pass / fail rule of the soak.
 *
 * Each series is fitted by least squares over the samples taken after the warm-up (the stack's
 * caches, pools, JIT and, with retention, the first expiry have settled by then); the slope is
 * given per hour. A series FAILS when its slope is above its limit below. The limits are chosen
 * to be well above what noise gives over a 20-minute run (about 12 points after a warm-up of 8
 * minutes, where ±5 MB of noise already gives slopes of ±25 MB/h), and well below what a real
 * leak at a few hundred events/s gives:
 *
 * - heap used (per process, the lowest reading of each minute: the floor after a GC): 48 MB/h.
 *   A leak of 100 bytes per event at 200 events/s is 72 MB/h.
 * - RSS (per process, lowest reading of each minute): 96 MB/h. RSS also holds the allocator's
 *   and the socket buffers' slack, which settles more slowly than the heap.
 * - open file descriptors and sockets (per process): 30 per hour, i.e. one leaked connection
 *   every two minutes fails; pools that open and close idle connections move the count by a
 *   few, not steadily. For the gateway and the stream, the sockets of the load generator that
 *   connects to them (the producer's keep-alive pool, the WebSocket clients) are subtracted:
 *   those connections come and go with the generator's pool, and a server that kept
 *   connections its clients had closed would still show as growth.
 * - database size: 64 MB/h, when retention is on. Without retention the same load writes
 *   hundreds of MB to GB per hour (every event row, its outbox, marks, attempts and log lines),
 *   so a bounded database is an order of magnitude under the limit.
 * - messages in the vhost's queues: 3,600 per hour (one a second). A backlog that grows means
 *   the stack does not keep up with the load, which a soak must not hide.
 * - partitions of the soak's schema: 60 per hour. Retention creates one partition per table
 *   ahead and drops one behind each partition width, so the count only wobbles by the number of
 *   partitioned tables; partitions that are created but never dropped grow it steadily.
 *
 * Limits can be changed with SOAK_LIMITS (JSON, e.g. {"dbMBPerHour":128}).
 */
const DEFAULT_LIMITS = {
  heapMBPerHour: 48,
  rssMBPerHour: 96,
  fdsPerHour: 30,
  socketsPerHour: 30,
  dbMBPerHour: 64,
  queuedPerHour: 3_600,
  partitionsPerHour: 60,
};

/** Least-squares slope of points [x, y] (y per unit of x); null with fewer than 3 points. */
function slope(points) {
  const pts = points.filter(([, y]) => Number.isFinite(y));
  if (pts.length < 3) return null;
  const n = pts.length;
  const mx = pts.reduce((a, [x]) => a + x, 0) / n;
  const my = pts.reduce((a, [, y]) => a + y, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (const [x, y] of pts) {
    sxy += (x - mx) * (y - my);
    sxx += (x - mx) ** 2;
  }
  return sxx === 0 ? null : sxy / sxx;
}

/**
 * The series of a run and their verdicts. `samples`: [{ minute, processes: { name: { rssMB,
 * heapMB, fds, sockets, handles } }, dbMB, queued }]. Returns [{ series, unit, first, last,
 * perHour, limit, ok }] (limit null: reported, not judged).
 */
function judge(samples, warmupMinutes, limits) {
  const after = samples.filter((s) => s.minute >= warmupMinutes);
  const rows = [];
  const add = (series, unit, pick, limit) => {
    const points = after.map((s) => [s.minute / 60, pick(s)]);
    const perHour = slope(points);
    const values = points.map(([, y]) => y).filter(Number.isFinite);
    rows.push({
      series,
      unit,
      first: values[0] ?? null,
      last: values[values.length - 1] ?? null,
      perHour,
      limit,
      ok: limit === null || (perHour !== null && perHour <= limit),
    });
  };
  const names = Object.keys(samples[0]?.processes ?? {});
  for (const name of names) {
    const p = (s) => s.processes[name] ?? {};
    add(`${name} heap used`, 'MB', (s) => p(s).heapMB, limits.heapMBPerHour);
    add(`${name} RSS`, 'MB', (s) => p(s).rssMB, limits.rssMBPerHour);
    // less the sockets of the load generator that connects to it (its keep-alive pool, its
    // WebSocket clients): a server that kept connections its clients closed still shows
    const peer = samples[0]?.processes[name]?.peerSockets !== undefined;
    const own = (s, v) => v - (p(s).peerSockets ?? 0);
    const suffix = peer ? ' (less its clients’ sockets)' : '';
    add(`${name} open fds${suffix}`, '', (s) => own(s, p(s).fds), limits.fdsPerHour);
    add(`${name} sockets${suffix}`, '', (s) => own(s, p(s).sockets), limits.socketsPerHour);
    add(`${name} active handles`, '', (s) => p(s).handles, null);
  }
  add('database size', 'MB', (s) => s.dbMB, limits.dbMBPerHour);
  add('messages queued (vhost)', '', (s) => s.queued, limits.queuedPerHour);
  add('partitions', '', (s) => s.partitions, limits.partitionsPerHour);
  for (const table of Object.keys(samples[samples.length - 1]?.tables ?? {})) {
    add(`table ${table}`, 'MB', (s) => s.tables[table], null);
  }
  return rows;
}

function limitsFrom(env) {
  return { ...DEFAULT_LIMITS, ...(env ? JSON.parse(env) : {}) };
}

module.exports = { slope, judge, limitsFrom, DEFAULT_LIMITS };
