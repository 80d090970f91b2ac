/** A webhook endpoint as the delivery service needs it (secrets included). */
export interface Endpoint {
  id: string;
  tenantId: string;
  url: string;
  eventTypes: string[];
  enabled: boolean;
  rateLimitPerSecond: number;
  headers: Record<string, string>;
  retryScheduleSeconds: number[] | null;
  signing: 'hmac' | 'ed25519';
  secret: string | null;
  previousSecret: string | null;
  previousSecretExpiresAt: Date | null;
  privateKey: string | null;
}

/** One (endpoint, event revision) delivery row. `token` names the one message allowed to act on it. */
export interface DeliveryRow {
  id: string;
  tenantId: string;
  endpointId: string;
  eventId: string;
  revision: number;
  eventType: string;
  eventSeq: string;
  status: 'pending' | 'succeeded' | 'retrying' | 'failed';
  attempts: number;
  token: string | null;
}

/** The token of a delivery row created by the fan-out of a published event. */
export const INITIAL_TOKEN = 'initial';
