export {
  ERROR_CODES,
  ERROR_STATUS,
  ErrorDetailSchema,
  ErrorEnvelopeSchema,
  RetenError,
  isRetenError,
} from './errors';
export type { ErrorCode, ErrorDetail, ErrorEnvelope } from './errors';
export {
  EVENT_TYPE_PATTERN,
  EventTypeFilterSchema,
  EventTypeNameSchema,
  matchesTypeFilter,
  typeFilterToLike,
} from './event-type';
export { EventEnvelopeSchema, EventIdSchema, JsonValueSchema, eventEnvelopeJson } from './envelope';
export type { EnvelopeSource, EventEnvelope } from './envelope';
export {
  ORDERING_KEY_HEADER,
  ORDERING_KEY_MAX_LENGTH,
  ORDERING_KEY_RULE,
  OrderingKeySchema,
  isOrderingKey,
} from './ordering-key';
export {
  CreateEventRequestSchema,
  EventDetailSchema,
  EventListSchema,
  EworkerProcessingStatusSchema,
  IngestAcceptedSchema,
  ListEventsQuerySchema,
  MAX_LIST_LIMIT,
  ProducerEventTypeSchema,
  RESERVED_EVENT_TYPE_PREFIX,
  UpdateEventRequestSchema,
  WebhookDeliveryStatusSchema,
} from './api';
export { MAX_TIMESTAMP, MIN_TIMESTAMP, TimestampSchema, isStorableTimestamp } from './timestamp';
export type {
  CreateEventRequest,
  EventDetail,
  EventList,
  EworkerProcessingStatus,
  IngestAccepted,
  ListEventsQuery,
  UpdateEventRequest,
  WebhookDeliveryStatus,
} from './api';
export {
  CORE_TOPOLOGY,
  EVENTS_EXCHANGE,
  MESSAGE_HEADERS,
  STREAM_QUEUE,
  STREAM_TOPOLOGY,
} from './broker-names';
export { STACK_TOPOLOGIES } from './stack-topology';
export type {
  BindingDeclaration,
  ExchangeDeclaration,
  QueueDeclaration,
  Topology,
} from './broker-names';
export {
  ApiKeyIdSchema,
  ApiKeyListSchema,
  ApiKeySchema,
  CreateApiKeyRequestSchema,
  CreatedApiKeySchema,
  SCOPES,
  ScopeSchema,
  TenantLimitsSchema,
  TokenRequestSchema,
  TokenResponseSchema,
  UpdateTenantLimitsRequestSchema,
} from './auth';
export type {
  ApiKey,
  ApiKeyList,
  CreateApiKeyRequest,
  CreatedApiKey,
  Scope,
  TenantLimits,
  TokenRequest,
  TokenResponse,
  UpdateTenantLimitsRequest,
} from './auth';
export {
  EWORKER_DELIVERY_LIMIT,
  EWORKER_NAME_PATTERN,
  EWORKER_PARKED_MAX_LENGTH,
  EWORKER_QUEUE_PREFIX,
  EWORKER_REPLAY_HEADER,
  LOGS_EWORKER,
  eworkerParkedQueueName,
  eworkerQueueName,
  eworkerTopology,
} from './broker-names';
export {
  EventTypeCountsSchema,
  EventTypeListSchema,
  EventTypeRegistrationSchema,
  EventTypeSchema,
  EworkerListSchema,
  EworkerNameSchema,
  EworkerSummarySchema,
  ListParkedQuerySchema,
  ParkedEventListSchema,
  ParkedEventSchema,
  ReplayParkedResultSchema,
} from './eworkers-api';
export type {
  EventType,
  EventTypeList,
  EworkerList,
  EworkerSummary,
  ParkedEvent,
  ParkedEventList,
  ReplayParkedResult,
} from './eworkers-api';
export {
  DELIVERY_QUEUES_REDELIVERY_LIMIT,
  DELIVERY_HEADERS,
  DELIVERY_PARKED_QUEUE,
  DELIVERY_EVENTS_QUEUE,
  DELIVERY_QUEUE,
  DELIVERY_RETRY_TIERS_MS,
  DELIVERY_TOPOLOGY,
  deliveryRetryQueueName,
} from './broker-names';
export {
  AttemptPhaseSchema,
  CreateWebhookRequestSchema,
  CreatedWebhookEndpointSchema,
  DEFAULT_WEBHOOK_RATE_LIMIT,
  DeliveryIdSchema,
  DeliveryListSchema,
  DeliveryStatusSchema,
  ENDPOINT_DISABLED_EVENT_TYPE,
  ListDeliveriesQuerySchema,
  ListWebhooksQuerySchema,
  RESERVED_WEBHOOK_HEADER,
  ReplayRequestSchema,
  ReplayResultSchema,
  RotateSecretRequestSchema,
  RotatedSecretSchema,
  TestEventResultSchema,
  UpdateWebhookRequestSchema,
  WEBHOOK_TEST_EVENT_TYPE,
  WebhookAttemptSchema,
  WebhookDeliverySchema,
  WebhookEndpointSchema,
  WebhookHeadersSchema,
  WebhookIdSchema,
  WebhookListSchema,
  WebhookStatsSchema,
} from './webhooks-api';
export type {
  CreateWebhookRequest,
  CreatedWebhookEndpoint,
  DeliveryList,
  ListDeliveriesQuery,
  ReplayRequest,
  ReplayResult,
  RotatedSecret,
  UpdateWebhookRequest,
  WebhookAttempt,
  WebhookDelivery,
  WebhookEndpoint,
  WebhookList,
  WebhookStats,
} from './webhooks-api';
