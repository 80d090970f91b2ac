import { ResumingStream } from './resuming-stream';
import type { ResumingStreamOptions } from './resuming-stream';

/**
 * Runs a stream until SIGINT or SIGTERM (then closes it cleanly and resolves) or until it
 * fails for good (rejects, and the CLI exits with that error's status).
 */
export async function runUntilSignal(options: ResumingStreamOptions): Promise<void> {
  const stream = new ResumingStream(options);
  const stop = () => stream.stop();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    await stream.run();
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}
