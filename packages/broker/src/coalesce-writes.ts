/**
 * amqplib's connection writes every frame it takes from its channels' buffers with its own
 * `socket.write` (lib/mux.js, `_readIncoming`), and a socket that is not corked sends each write
 * at once: one `write` system call per published message or ack. Corking the socket around that
 * loop hands the kernel everything the loop took in one `writev`. Same bytes, same order; a
 * relay round of 200 messages goes from 200 system calls to 1 (measured: a third of the relay
 * process's CPU was its socket writes).
 */

interface Corkable {
  cork(): void;
  uncork(): void;
}

interface MuxLike {
  _readIncoming(): void;
}

/** Whether `model`'s connection writes are coalesced (for tests). */
export const COALESCED = Symbol('reten.coalescedWrites');

/**
 * Makes `model`'s connection send what each of its write loops takes in one system call. Does
 * nothing (and returns false) if amqplib's internals are not the expected shape, so an amqplib
 * upgrade that changes them falls back to its own writes instead of failing.
 */
export function coalesceWrites(model: { connection: unknown }): boolean {
  const connection = model.connection as
    { stream?: Partial<Corkable>; muxer?: Partial<MuxLike>; [COALESCED]?: true } | undefined;
  const stream = connection?.stream;
  const muxer = connection?.muxer;
  if (
    !connection ||
    typeof stream?.cork !== 'function' ||
    typeof stream.uncork !== 'function' ||
    typeof muxer?._readIncoming !== 'function'
  ) {
    return false;
  }
  if (connection[COALESCED]) return true;
  const socket = stream as Corkable;
  const readIncoming = muxer._readIncoming.bind(muxer);
  muxer._readIncoming = () => {
    socket.cork();
    try {
      readIncoming();
    } finally {
      socket.uncork();
    }
  };
  connection[COALESCED] = true;
  return true;
}
