import { Writable } from 'node:stream';
import { createLogger } from '@reten/observability';
import type { Logger } from '@reten/observability';

/** A production-configured logger (same redaction) whose lines a test can read. */
export interface LogSink {
  log: Logger;
  /** Every line written so far, parsed. */
  readonly lines: Array<Record<string, unknown>>;
  /** Every line written so far, raw, joined (to search for a secret anywhere). */
  text(): string;
}

/** A log sink for assertions on what a component logs (e.g. that no secret ever appears). */
export function logSink(level = 'trace'): LogSink {
  const raw: string[] = [];
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      const text = chunk.toString();
      raw.push(text);
      for (const line of text.split('\n')) {
        if (line.trim()) lines.push(JSON.parse(line) as Record<string, unknown>);
      }
      callback();
    },
  });
  const log = createLogger({ service: 'test', level, destination });
  return { log, lines, text: () => raw.join('') };
}
