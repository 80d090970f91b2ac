import { z } from 'zod';

/** The longest ordering key accepted, as SQS limits a MessageGroupId. */
export const ORDERING_KEY_MAX_LENGTH = 128;

/** The request header that names an EVCI event's ordering key (EVCI's body is the producer's data). */
export const ORDERING_KEY_HEADER = 'Reten-Ordering-Key';

const ORDERING_KEY_PATTERN = /^[\x21-\x7e]{1,128}$/;

/** What a valid ordering key is, said once for the API schema, the error details and the docs. */
export const ORDERING_KEY_RULE = `must be 1 to ${ORDERING_KEY_MAX_LENGTH} printable ASCII characters (0x21 to 0x7E, no space)`;

/** Whether `key` is a valid ordering key: 1 to 128 printable ASCII characters, no space. */
export function isOrderingKey(key: string): boolean {
  return ORDERING_KEY_PATTERN.test(key);
}

/**
 * Events that share an ordering key reach each webhook endpoint in publish order, also across
 * retries; events without one (or of other keys) go in parallel.
 */
export const OrderingKeySchema = z
  .string()
  .regex(ORDERING_KEY_PATTERN, ORDERING_KEY_RULE)
  .describe(
    'Events that share an ordering key are delivered to each webhook endpoint in publish order, ' +
      'also across retries; 1 to 128 printable ASCII characters (0x21 to 0x7E). Fixed at creation.',
  )
  .meta({ example: 'ord_456' });
