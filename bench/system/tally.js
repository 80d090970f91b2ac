/**
 * What a receiving process of the system bench records: per event id, when it first arrived
 * (epoch ms) and how many times. Answers the bench over IPC: `count` (distinct ids and every
 * receipt so far) and `dump` (every [id, firstMs, count]).
 */
function startTally(extra = () => ({})) {
  const seen = new Map();
  let receipts = 0;
  process.on('message', (msg) => {
    if (msg.cmd === 'count') {
      process.send({ reply: 'count', distinct: seen.size, receipts, ...extra() });
    } else if (msg.cmd === 'dump') {
      const entries = [];
      for (const [id, v] of seen) entries.push([id, v[0], v[1]]);
      process.send({ reply: 'dump', entries, ...extra() });
    } else if (msg.cmd === 'exit') {
      process.exit(0);
    }
  });
  process.on('disconnect', () => process.exit(0));
  return (id, atMs) => {
    receipts += 1;
    const v = seen.get(id);
    if (v) v[1] += 1;
    else seen.set(id, [atMs, 1]);
  };
}

module.exports = { startTally };
