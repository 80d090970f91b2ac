/**
 * WebSocket close codes the stream service uses (documented in the service README).
 * 4000–4999 are the application range of RFC 6455 §7.4.2.
 */
export const CLOSE_CODES = {
  /** The server is stopping (deploy, scale-in): reconnect, to any replica, with last_event_id. */
  serviceRestart: 1012,
  /** Unexpected server failure (e.g. PostgreSQL down during a resume): reconnect later. */
  internalError: 1011,
  /** The credentials were revoked or expired while the stream was open: reconnect with new ones. */
  credentialsInvalid: 4401,
  /** The client read too slowly: its send buffer passed STREAM_MAX_SEND_BUFFER_BYTES. */
  slowConsumer: 4008,
  /** `last_event_id` is not an event of this tenant. */
  resumeUnknown: 4404,
  /** `last_event_id` is older than STREAM_RESUME_MAX_AGE_SECONDS: start over without it. */
  resumeTooOld: 4410,
} as const;
