import type { EworkerProcessingStatus, WebhookDeliveryStatus } from '@reten/contracts';
import type { StoredEvent } from '@reten/store';

/**
 * Where `GET /api/v1/events/{id}` reads processing status from: the eworkers' marks and the
 * delivery attempts. Each reader is scoped to the tenant of the request.
 */
export interface EventStatusReaders {
  eworkers(tenantId: string, event: StoredEvent): Promise<EworkerProcessingStatus[]>;
  webhooks(tenantId: string, event: StoredEvent): Promise<WebhookDeliveryStatus[]>;
}
