import type { z } from 'zod';
import { ErrorEnvelopeSchema } from '@reten/contracts';

/** An error answer of an operation: the envelope, with what the codes mean. */
export const errorResponse = (description: string) => ({
  description,
  content: { 'application/json': { schema: ErrorEnvelopeSchema } },
});

/** A JSON answer of an operation. */
export const jsonResponse = <S extends z.ZodType>(description: string, schema: S) => ({
  description,
  content: { 'application/json': { schema } },
});
