import { z } from 'zod';
import { DeliveryIdSchema, RetenError } from '@reten/contracts';
import type { WebhookDeliveryRepo } from '@reten/store';
import { tenantOf } from '../tenant';
import type { RouteHandlers } from '../api-route';

export const DeliveryIdParamsSchema = z.object({ id: DeliveryIdSchema });

/** `/api/v1/deliveries/{id}` (one delivery with its attempts) and `…/retry`. */
export function deliveriesHandlers(deliveries: WebhookDeliveryRepo): RouteHandlers {
  const routes: RouteHandlers = {};

  const idOrNotFound = (params: unknown): string => {
    const parsed = DeliveryIdParamsSchema.safeParse(params);
    if (!parsed.success) {
      throw new RetenError(
        'not_found',
        `No delivery with id ${String((params as { id?: unknown }).id)}`,
      );
    }
    return parsed.data.id;
  };

  routes.getDelivery = [
    async (req, res) => {
      const id = idOrNotFound(req.params);
      const delivery = await deliveries.get(tenantOf(req), id);
      if (!delivery) throw new RetenError('not_found', `No delivery with id ${id}`);
      res.json(delivery);
    },
  ];

  routes.retryDelivery = [
    async (req, res) => {
      const id = idOrNotFound(req.params);
      const result = await deliveries.requestRetry(tenantOf(req), id);
      if (result === undefined) throw new RetenError('not_found', `No delivery with id ${id}`);
      if (result === 'disabled') {
        throw new RetenError(
          'conflict',
          'The webhook of this delivery is disabled; enable it first',
        );
      }
      res.status(202).json(result);
    },
  ];

  return routes;
}
