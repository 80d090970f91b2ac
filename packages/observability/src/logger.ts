import pino from 'pino';
import type { Logger } from 'pino';

/** Paths whose values are secrets: never written to a log. */
export const REDACTED_PATHS = [
  'password',
  'secret',
  'token',
  'apiKey',
  'authorization',
  '*.password',
  '*.secret',
  '*.token',
  '*.apiKey',
  '*.authorization',
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'config.DATABASE_URL',
  'config.RABBITMQ_URL',
  'config.REDIS_URL',
  'config.JWT_SECRET',
];

export interface LoggerOptions {
  service: string;
  level: string;
  destination?: pino.DestinationStream;
}

/** A pino JSON logger with the service name on every line and secrets redacted. */
export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      level: options.level,
      base: { service: options.service, pid: process.pid },
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    options.destination ?? pino.destination({ sync: false }),
  );
}

/** Removes the password part of a URL so it can be logged. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '[unparseable url]';
  }
}

export type { Logger };
