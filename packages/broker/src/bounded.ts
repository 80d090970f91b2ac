import type { ChannelModel } from 'amqplib';

/** Thrown when a broker operation did not settle within its bound. */
export class BrokerTimeoutError extends Error {
  constructor(what: string, ms: number) {
    super(`${what}: no answer within ${ms} ms`);
    this.name = 'BrokerTimeoutError';
  }
}

/**
 * Waits for `promise` at most `ms`. A broker that stalls (no reset, no FIN) never answers, and
 * amqplib 2 settles neither a channel's nor a connection's close until the broker's CloseOk
 * arrives, so every await on the broker goes through here.
 */
export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new BrokerTimeoutError(what, ms)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Drops a connection's socket and waits (bounded) until amqplib has seen it closed, so that a
 * later close of the model settles at once instead of waiting for a CloseOk that cannot come.
 */
export async function dropConnection(model: ChannelModel, ms: number): Promise<void> {
  // amqplib does not type the socket; it is the connection's `stream`
  const { stream } = model.connection as unknown as { stream?: { destroy(): void } };
  const closed = new Promise<void>((resolve) => model.once('close', () => resolve()));
  stream?.destroy();
  await withTimeout(closed, ms, 'connection drop').catch(() => undefined);
}
