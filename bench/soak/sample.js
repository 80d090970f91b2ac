/**
 * What the soak measures, read from outside the processes so nothing is instrumented for it:
 * - per process: RSS (/proc/<pid>/status), V8 heap used and active handles (the service's own
 *   /metrics: prom-client's nodejs_heap_size_used_bytes and nodejs_active_handles_total), open
 *   file descriptors and, among them, sockets (/proc/<pid>/fd);
 * - PostgreSQL: the size of the soak's database and of each table of its schema (a partitioned
 *   table counts with all its partitions), with the planner's live-row estimate;
 * - RabbitMQ: the messages in each queue of the soak's vhost (`rabbitmqctl list_queues`, which
 *   needs no management plugin).
 */
const fs = require('node:fs');
const { execFile } = require('node:child_process');

const MB = 1024 * 1024;

/** RSS of `pid` in bytes. */
function rssBytes(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1] ?? NaN);
  return kb * 1024;
}

/** Open file descriptors of `pid`, and how many of them are sockets. */
function descriptors(pid) {
  const dir = `/proc/${pid}/fd`;
  let fds = 0;
  let sockets = 0;
  for (const fd of fs.readdirSync(dir)) {
    fds += 1;
    try {
      if (fs.readlinkSync(`${dir}/${fd}`).startsWith('socket:')) sockets += 1;
    } catch {
      // closed between readdir and readlink
    }
  }
  return { fds, sockets };
}

/** The value of an unlabelled-or-`service`-labelled series in a Prometheus text scrape. */
function seriesValue(text, name) {
  const match = new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.eE+-]+)$`, 'm').exec(text);
  return match ? Number(match[1]) : NaN;
}

/** Heap used (bytes) and active handles of a service, from its /metrics (bounded). */
async function runtimeOf(port) {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/metrics`, {
      signal: AbortSignal.timeout(5_000),
    });
    const text = await res.text();
    return {
      heapUsed: seriesValue(text, 'nodejs_heap_size_used_bytes'),
      handles: seriesValue(text, 'nodejs_active_handles_total'),
    };
  } catch {
    return { heapUsed: NaN, handles: NaN };
  }
}

/** One reading of a process: { rss, heapUsed, handles, fds, sockets } (bytes and counts). */
async function processSample(service) {
  const pid = service.child.pid;
  const { heapUsed, handles } = await runtimeOf(service.port);
  return { rss: rssBytes(pid), heapUsed, handles, ...descriptors(pid) };
}

/**
 * Database size, number of partitions and tables of `schema` (bytes, partitions summed into
 * their root), biggest first: { dbBytes, partitions, tables: [{ name, bytes, rows }] }.
 */
async function databaseSample(db, database, schema) {
  const size = await db.query('SELECT pg_database_size($1)::bigint AS bytes', [database]);
  const tables = await db.query(
    `SELECT coalesce(pg_partition_root(c.oid), c.oid)::regclass::text AS name,
            sum(pg_total_relation_size(c.oid))::bigint AS bytes,
            sum(greatest(c.reltuples, 0))::bigint AS rows
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relkind IN ('r', 'p')
      GROUP BY 1 ORDER BY 2 DESC`,
    [schema],
  );
  const parts = await db.query(
    `SELECT count(*)::int AS n FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relispartition AND c.relkind = 'r'`,
    [schema],
  );
  return {
    dbBytes: Number(size.rows[0].bytes),
    partitions: parts.rows[0].n,
    tables: tables.rows.map((r) => ({
      name: r.name.replace(/^"?[^".]+"?\./, ''),
      bytes: Number(r.bytes),
      rows: Number(r.rows),
    })),
  };
}

/** Messages per queue of `vhost`: { total, queues: { name: messages } } (bounded, 20 s). */
function queueSample(vhost) {
  return new Promise((resolve) => {
    execFile(
      'rabbitmqctl',
      ['-q', 'list_queues', '-p', vhost, 'name', 'messages', '--formatter', 'json'],
      { timeout: 20_000 },
      (err, stdout) => {
        if (err) return resolve({ total: NaN, queues: {} });
        try {
          const queues = Object.fromEntries(JSON.parse(stdout).map((q) => [q.name, q.messages]));
          const total = Object.values(queues).reduce((a, b) => a + b, 0);
          resolve({ total, queues });
        } catch {
          resolve({ total: NaN, queues: {} });
        }
      },
    );
  });
}

module.exports = { MB, processSample, databaseSample, queueSample, rssBytes, descriptors };
