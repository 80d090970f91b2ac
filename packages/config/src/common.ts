import { z } from 'zod';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** Integer from an environment string, with bounds. */
export function intVar(def: number, min: number, max: number, description: string) {
  return z.coerce.number().int().min(min).max(max).default(def).describe(description);
}

/** Boolean from `true`/`false`/`1`/`0`/`yes`/`no`. */
export function boolVar(def: boolean, description: string) {
  return z.stringbool().default(def).describe(description);
}

/** URL with one of the given schemes. */
export function urlVar(def: string, schemes: string[], description: string) {
  return z
    .string()
    .url()
    .refine((v) => schemes.some((s) => v.startsWith(`${s}://`)), {
      message: `must start with ${schemes.map((s) => `${s}://`).join(' or ')}`,
    })
    .default(def)
    .describe(description);
}

export const logConfig = {
  LOG_LEVEL: z.enum(LOG_LEVELS).default('info').describe('pino log level'),
};

/**
 * The longest `DATABASE_STATEMENT_TIMEOUT_MS`: no pooled statement runs longer (what a deleted
 * endpoint's tombstone waits out, see ENDPOINT_TOMBSTONE_GRACE_MS in @reten/store).
 */
export const DATABASE_STATEMENT_TIMEOUT_MAX_MS = 600_000;

export const postgresConfig = {
  DATABASE_URL: urlVar(
    'postgres://root@127.0.0.1:5432/reten',
    ['postgres', 'postgresql'],
    'PostgreSQL connection URL (the database is created by `migrate` when missing)',
  ),
  DATABASE_SCHEMA: z
    .string()
    .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'must be a lower-case SQL identifier')
    .default('public')
    .describe('PostgreSQL schema holding Reten tables'),
  DATABASE_POOL_SIZE: intVar(20, 1, 500, 'Connections in the pool of each process'),
  DATABASE_STATEMENT_TIMEOUT_MS: intVar(
    10_000,
    100,
    DATABASE_STATEMENT_TIMEOUT_MAX_MS,
    'statement_timeout of pooled connections',
  ),
};

export const rabbitConfig = {
  RABBITMQ_URL: urlVar(
    'amqp://guest:guest@127.0.0.1:5672',
    ['amqp', 'amqps'],
    'RabbitMQ URL (vhost as path)',
  ),
  RABBITMQ_HEARTBEAT_SECONDS: intVar(
    10,
    0,
    600,
    'AMQP heartbeat; a dead broker is noticed after about twice this',
  ),
};

export const httpConfig = {
  HOST: z.string().default('0.0.0.0').describe('Address the HTTP server binds'),
  SHUTDOWN_DRAIN_TIMEOUT_MS: intVar(
    10_000,
    0,
    600_000,
    'How long SIGTERM waits for in-flight work before closing',
  ),
};

export const redisConfig = {
  REDIS_URL: urlVar(
    'redis://127.0.0.1:6379',
    ['redis', 'rediss'],
    'Redis URL (pub/sub for streams, rate-limit counters)',
  ),
  REDIS_KEY_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9:_.-]{0,64}$/, 'must be letters, digits, ":", "_", "." or "-"')
    .default('reten:')
    .describe('Prefix of every Redis key and channel this process uses'),
};

/**
 * OpenTelemetry tracing, by the standard `OTEL_*` names. The OTLP exporter also reads the other
 * `OTEL_EXPORTER_OTLP_*` variables it knows (e.g. `OTEL_EXPORTER_OTLP_HEADERS`) itself.
 */
export const tracingConfig = {
  OTEL_EXPORTER_OTLP_ENDPOINT: z
    .union([z.literal(''), z.url({ protocol: /^https?$/ })])
    .default('')
    .describe(
      'OTLP/HTTP base URL of an OpenTelemetry collector (spans go to `<url>/v1/traces`); empty: spans are not exported, the W3C trace context is still carried on',
    ),
  OTEL_EXPORTER_OTLP_PROTOCOL: z
    .enum(['http/protobuf', 'http/json'])
    .default('http/protobuf')
    .describe('OTLP encoding of exported spans'),
  OTEL_EXPORTER_OTLP_TIMEOUT: intVar(
    10_000,
    100,
    60_000,
    'Bound of one span export request, in ms (also of the flush at shutdown)',
  ),
  OTEL_BSP_SCHEDULE_DELAY: intVar(
    5000,
    10,
    60_000,
    'How long finished spans wait to be exported in one batch, in ms',
  ),
  OTEL_SERVICE_NAME: z
    .string()
    .max(200)
    .default('')
    .describe('`service.name` of exported spans; empty: the service name (e.g. `gateway`)'),
};
