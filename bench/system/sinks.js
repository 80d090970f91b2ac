/**
 * What the three sinks of the system bench saw: the logs eworker's processed marks (read from
 * PostgreSQL), the webhook receiver's and the WebSocket client's tallies (over IPC).
 */
const h = require('../lib/harness');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Processed marks of the logs eworker: Map event_id → [processed-at ms, 1]. */
async function eworkerMarks(ctx, ids) {
  const res = await ctx.db.query(
    `SELECT event_id, extract(epoch FROM updated_at) * 1000 AS at
       FROM "${ctx.schema}".eworker_marks
      WHERE eworker = 'logs' AND status = 'processed' AND event_id = ANY($1::text[])`,
    [ids],
  );
  return new Map(res.rows.map((r) => [r.event_id, [Number(r.at), 1]]));
}

async function markCount(ctx) {
  const res = await ctx.db.query(
    `SELECT count(*)::int AS n FROM "${ctx.schema}".eworker_marks WHERE eworker = 'logs' AND status = 'processed'`,
  );
  return res.rows[0].n;
}

/** Waits until every sink has seen every accepted event so far, up to `timeoutMs`. */
async function drain(ctx, timeoutMs) {
  const start = Date.now();
  for (;;) {
    const [wh, ws, marks] = await Promise.all([
      ctx.receiver.count(),
      ctx.client.count(),
      markCount(ctx),
    ]);
    const done =
      wh.distinct >= ctx.expected.all &&
      ws.distinct >= ctx.expected.all &&
      marks >= ctx.expected.logs;
    if (done || Date.now() - start > timeoutMs)
      return { drained: done, drainMs: Date.now() - start };
    const dead = ctx.stack.dead();
    if (dead.length > 0)
      throw new Error(`${dead[0].name} exited (${dead[0].code}):\n${dead[0].output}`);
    await sleep(100);
  }
}

/**
 * After the last step: one more bounded wait, then whether every event accepted during the
 * run (warm-up included) reached each sink by then, and how often.
 */
async function settle(ctx, timeoutMs, line) {
  const { drained, drainMs } = await drain(ctx, timeoutMs);
  const logs = ctx.accepted.filter((r) => r[1] === 'log:ClientLog');
  const [webhook, stream, eworker] = await Promise.all([
    ctx.receiver.dump(),
    ctx.client.dump(),
    eworkerMarks(
      ctx,
      logs.map((r) => r[5]),
    ),
  ]);
  const count = (expected, seen, keyOf) => {
    let lost = 0;
    let duplicates = 0;
    for (const r of expected) {
      const v = seen.get(keyOf(r));
      if (v) duplicates += v[1] - 1;
      else lost += 1;
    }
    return { expected: expected.length, notArrived: lost, duplicates };
  };
  const result = {
    drained,
    drainMs,
    eworker: count(logs, eworker, (r) => r[5]),
    webhook: count(ctx.accepted, webhook.seen, (r) => r[5]),
    stream: count(ctx.accepted, stream.seen, (r) => `${r[5]}:1`),
  };
  const cell = (c) =>
    `${h.fmt(c.expected - c.notArrived)} of ${h.fmt(c.expected)}` +
    `${c.notArrived ? ` (${h.fmt(c.notArrived)} had not arrived: late or lost, the bench cannot tell)` : ''}, ${h.fmt(c.duplicates)} duplicates`;
  line('');
  line(
    `whole run, ${h.fmt(ctx.accepted.length)} accepted events, after a last wait of ${h.fmt(drainMs)} ms: ` +
      `eworker ${cell(result.eworker)}; webhook ${cell(result.webhook)}; WebSocket ${cell(result.stream)}`,
  );
  return result;
}

module.exports = { eworkerMarks, drain, settle };
