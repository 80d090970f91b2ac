/** The soak's tables: samples as they come (and as Markdown at the end), slopes and verdicts. */
const h = require('../lib/harness');

const n = (v, digits = 0) =>
  v === null || v === undefined || Number.isNaN(v) ? '-' : h.fmt(v, digits);

/**
 * Samples, one row per sample: per process `RSS / heap MB, fds / sockets, handles`, then the
 * database, its two biggest tables, the queued messages and the traffic of the minute.
 */
function printSamples(samples, line, { header, seconds, markdown = false }) {
  if (samples.length === 0) return;
  const names = Object.keys(samples[0].processes);
  const tables = Object.keys(samples[samples.length - 1].tables).slice(0, 3);
  const cols = [
    'min',
    ...names.map((p) => `${p} RSS/heap MB, fds/sockets, handles`),
    'DB MB (partitions)',
    ...tables.map((t) => `${t} MB`),
    'queued',
    'accepted/s (p99 ms)',
    'webhook req/s (500s)',
    'WS frames/s (closes, open)',
  ];
  const sep = markdown ? ' | ' : '  ';
  const wrap = (cells) => (markdown ? `| ${cells.join(sep)} |` : cells.join(sep));
  if (header) {
    line(wrap(cols));
    if (markdown) line(wrap(cols.map(() => '---')));
  }
  for (const s of samples) {
    const closes = Object.values(s.streamed.closes).reduce((a, b) => a + b, 0);
    const notAccepted =
      Object.values(s.produced.statuses).reduce((a, b) => a + b, 0) + s.produced.skipped;
    line(
      wrap([
        n(s.minute, 1),
        ...names.map((p) => {
          const v = s.processes[p];
          const peer = v.peerSockets === undefined ? '' : ` (clients' ${n(v.peerSockets)})`;
          return `${n(v.rssMB)}/${n(v.heapMB)}, ${n(v.fds)}/${n(v.sockets)}${peer}, ${n(v.handles)}`;
        }),
        `${n(s.dbMB, 1)} (${n(s.partitions)})`,
        ...tables.map((t) => n(s.tables[t], 1)),
        n(s.queued),
        `${n(s.produced.accepted / seconds)} (${n(s.produced.p99Ms)})${notAccepted ? ` ${notAccepted} not accepted ${JSON.stringify(s.produced.statuses)}` : ''}`,
        `${n(s.received.requests / seconds)} (${n(s.received.failed)})`,
        `${n(s.streamed.frames / seconds)} (${closes}, ${s.streamed.open})`,
      ]),
    );
  }
}

/** The slope of every series after the warm-up, with its limit and verdict, as Markdown. */
function printVerdicts(verdicts, line) {
  line('| series | after warm-up: first → last | slope per hour | limit per hour | verdict |');
  line('| --- | --- | --- | --- | --- |');
  for (const v of verdicts) {
    const unit = v.unit ? ` ${v.unit}` : '';
    line(
      `| ${v.series} | ${n(v.first, 1)} → ${n(v.last, 1)}${unit} | ${n(v.perHour, 1)}${unit} | ` +
        `${v.limit === null ? '-' : `${n(v.limit)}${unit}`} | ${v.limit === null ? '' : v.ok ? 'flat' : '**GROWS**'} |`,
    );
  }
}

module.exports = { printSamples, printVerdicts };
