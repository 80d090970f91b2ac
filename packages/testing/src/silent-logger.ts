import pino from 'pino';
import type { Logger } from '@reten/observability';

/** A logger that writes nothing (for code under test that needs one). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
