import { z } from 'zod';

/** Accepted log levels (lower case), from least to most severe. */
export const CLIENT_LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;
export type ClientLogLevel = (typeof CLIENT_LOG_LEVELS)[number];

/** Most lines one `log:ClientLog` event may carry. */
export const MAX_LINES_PER_EVENT = 1000;

/**
 * The data of a `log:ClientLog` event (the EVCI example). Required: `client.app_name`,
 * `client.app_version` and at least one line with `timestamp` (ISO 8601 with offset),
 * `level` and `message`; the browser, its version, the OS and the screen size are optional
 * (not every client knows them). Unknown fields are accepted and ignored.
 */
export const ClientLogSchema = z.object({
  client: z.object({
    app_name: z.string().min(1).max(200),
    app_version: z.string().min(1).max(100),
    browser: z.string().max(200).optional(),
    version: z.string().max(100).optional().describe('Version of the browser'),
    os: z.string().max(200).optional(),
    screen_width: z.number().int().min(0).max(100_000).optional(),
    screen_height: z.number().int().min(0).max(100_000).optional(),
  }),
  logs: z
    .array(
      z.object({
        timestamp: z.iso.datetime({ offset: true }),
        level: z.enum(CLIENT_LOG_LEVELS),
        message: z.string().max(10_000),
      }),
    )
    .min(1)
    .max(MAX_LINES_PER_EVENT),
});
export type ClientLog = z.infer<typeof ClientLogSchema>;
