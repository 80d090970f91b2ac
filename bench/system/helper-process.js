/** The bench's helper processes (producer, receiver, stream client), driven over IPC. */
const path = require('node:path');
const { fork } = require('node:child_process');

/**
 * A forked helper process (receiver, stream client, producer) that answers IPC messages
 * `{ cmd, ... }` with `{ reply, ... }`; `ask` is bounded.
 */
function forkHelper(script, args) {
  const child = fork(path.join(__dirname, script), args, {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const ask = (msg, reply, timeoutMs = 30_000) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        child.off('message', on);
        reject(new Error(`${script}: no ${reply} within ${timeoutMs} ms`));
      }, timeoutMs);
      const on = (m) => {
        if (m.reply !== reply) return;
        clearTimeout(timer);
        child.off('message', on);
        resolve(m);
      };
      child.on('message', on);
      if (msg) child.send(msg);
    });
  return {
    child,
    ask,
    ready: ask(undefined, 'ready', 30_000),
    stop: () => {
      if (child.exitCode === null && child.connected) child.send({ cmd: 'exit' });
    },
  };
}

/** A sink (receiver or stream client): `count` and `dump` of what it received. */
function startSink(script, args) {
  const helper = forkHelper(script, args);
  return {
    ...helper,
    count: () => helper.ask({ cmd: 'count' }, 'count'),
    dump: async () => {
      const msg = await helper.ask({ cmd: 'dump' }, 'dump', 120_000);
      return { seen: new Map(msg.entries.map(([id, first, n]) => [id, [first, n]])), extra: msg };
    },
  };
}

module.exports = { forkHelper, startSink };
