import { z } from 'zod';
import {
  boolVar,
  httpConfig,
  intVar,
  loadConfig,
  logConfig,
  postgresConfig,
  rabbitConfig,
  redisConfig,
} from '@reten/config';
import { authConfig, checkAuthConfig } from '@reten/auth';
import { retentionEventsDefaultConfig } from '@reten/store';

/** Every variable the stream service reads, with its default and meaning. */
export const streamConfigShape = {
  PORT: intVar(8081, 0, 65535, 'HTTP port: `/events/stream` (WebSocket), health, metrics, `/`'),
  ...httpConfig,
  ...logConfig,
  ...postgresConfig,
  ...rabbitConfig,
  ...redisConfig,
  ...authConfig,
  ...retentionEventsDefaultConfig,
  MIGRATE_ON_START: boolVar(false, 'Apply pending migrations at start (safe with many replicas)'),
  STREAM_PING_INTERVAL_MS: intVar(
    30_000,
    100,
    600_000,
    'Server ping period; a client that has not answered the previous ping is dropped',
  ),
  STREAM_MAX_SEND_BUFFER_BYTES: intVar(
    1_048_576,
    1024,
    256 * 1_048_576,
    'Bytes queued for one client (socket buffer + resume buffer) before it is closed with 4008',
  ),
  STREAM_MAX_CLIENT_MESSAGE_BYTES: intVar(
    4096,
    64,
    1_048_576,
    'Largest message a client may send; larger ones close the connection with 1009',
  ),
  STREAM_MAX_CONNECTIONS: intVar(10_000, 1, 1_000_000, 'Open WebSocket connections per process'),
  STREAM_MAX_CONNECTIONS_PER_TENANT: intVar(
    1000,
    1,
    1_000_000,
    'Open WebSocket connections per tenant in one process',
  ),
  STREAM_ALLOWED_ORIGINS: z
    .string()
    .default('*')
    .describe(
      'Comma-separated browser origins allowed to connect (`*` = any); requests without Origin always pass',
    ),
  STREAM_RESUME_MAX_AGE_SECONDS: intVar(
    86_400,
    1,
    90 * 86_400,
    'A `last_event_id` received longer ago than this is refused with 4410',
  ),
  STREAM_BACKFILL_PAGE_SIZE: intVar(500, 1, 10_000, 'Events read per backfill query'),
  STREAM_CLOSE_GRACE_MS: intVar(
    2000,
    0,
    60_000,
    'After a server-side close, how long the client has to answer once the close frame left the process before the socket is destroyed (a close frame that cannot leave it within STREAM_PING_INTERVAL_MS is given up)',
  ),
  STREAM_REAUTH_INTERVAL_MS: intVar(
    60_000,
    100,
    3_600_000,
    'How often open streams re-check their credentials; a revoked key or an expired token is closed with 4401',
  ),
  STREAM_REDIS_PING_INTERVAL_MS: intVar(
    5_000,
    100,
    600_000,
    'How often each Redis connection is PINGed; one that does not answer within this time is reported on /readyz and reconnected',
  ),
  STREAM_CONSUMER_PREFETCH: intVar(
    500,
    1,
    10_000,
    'Unacked `reten.stream` messages in flight to the Redis publisher',
  ),
};

export type StreamConfig = ReturnType<typeof loadStreamConfig>;

/** Parses the stream service's environment; throws ConfigError naming each bad variable. */
export function loadStreamConfig(env: NodeJS.ProcessEnv = process.env) {
  const config = loadConfig(streamConfigShape, env);
  checkAuthConfig(config, { signs: false });
  return config;
}
