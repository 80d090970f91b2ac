import { z } from 'zod';
import { RetenError, WebhookIdSchema } from '@reten/contracts';
import type { WebhookEndpointRepo } from '@reten/store';

export const WebhookIdParamsSchema = z.object({ id: WebhookIdSchema });

export function webhookNotFound(id: string): RetenError {
  return new RetenError('not_found', `No webhook with id ${id}`);
}

/** The webhook id of the path, or 404 (an id that cannot exist is no webhook either). */
export function webhookIdOf(params: unknown): string {
  const parsed = WebhookIdParamsSchema.safeParse(params);
  if (!parsed.success) throw webhookNotFound(String((params as { id?: unknown }).id));
  return parsed.data.id;
}

/** The caller's endpoint, or 404. */
export async function endpointOrNotFound(
  endpoints: WebhookEndpointRepo,
  tenantId: string,
  id: string,
) {
  const endpoint = await endpoints.get(tenantId, id);
  if (!endpoint) throw webhookNotFound(id);
  return endpoint;
}
