import type { z } from 'zod';
import { boolVar, intVar } from '@reten/config';

/**
 * The RELAY_* settings, one meaning whichever process runs the relay (a gateway with
 * `RELAY_ENABLED=true`, or the relay process): both spread this shape into their own.
 */
export const relayConfig = {
  RELAY_BATCH_SIZE: intVar(
    500,
    1,
    10_000,
    'Most events the outbox relay publishes per confirm round',
  ),
  RELAY_BATCH_MAX_BYTES: intVar(
    4 * 1_048_576,
    1024,
    1024 * 1_048_576,
    'Most event data (as stored) the relay loads per confirm round; a larger single event goes alone',
  ),
  RELAY_POLL_INTERVAL_MS: intVar(1000, 10, 60_000, 'Relay polling fallback when no NOTIFY arrives'),
  RELAY_LOCK_RETRY_MS: intVar(
    1000,
    50,
    60_000,
    'How often a standby relay tries to become the active one',
  ),
  RELAY_CONFIRM_TIMEOUT_MS: intVar(
    10_000,
    100,
    600_000,
    'How long the relay waits for publisher confirms',
  ),
  RELAY_RETRY_DELAY_MS: intVar(500, 10, 60_000, 'Pause before the relay retries a failed publish'),
  RELAY_LINGER_MS: intVar(
    5,
    0,
    1000,
    'After a round that did not fill a batch, the relay waits this long before the next: under load a round carries more events for the same queries and confirm (adds at most this to the publish lag)',
  ),
  RELAY_PROGRESS_TIMEOUT_SECONDS: intVar(
    60,
    1,
    86_400,
    '`/readyz` fails when the active relay, connected to RabbitMQ, has published nothing and not found the outbox empty for this long',
  ),
};

/** The readiness setting of a process that runs the relay (the gateway and the relay process). */
export const brokerReadinessConfig = {
  READY_REQUIRES_BROKER: boolVar(
    true,
    '`/readyz` fails while RabbitMQ is unreachable (ingest itself keeps answering 202 either way)',
  ),
};

/** The settings a relay reads: the same in the gateway and in the relay process. */
export type RelaySettings = z.infer<z.ZodObject<typeof relayConfig>> & { DATABASE_SCHEMA: string };
