import type { Command } from 'commander';
import { generateSecret, isSecret } from '@reten/webhooks';
import { contextOf } from '../context';
import { UsageError } from '../exit-codes';
import { forwardEvent } from '../forwarder';
import { commaList } from '../option-parsers';
import type { Output } from '../output';
import { runUntilSignal } from '../stream-command';
import type { StreamEvent } from '../stream-frames';
import type { ForwardResult } from '../forwarder';

interface ListenOptions {
  forwardTo: string;
  types?: string[];
  secret?: string;
  sinceId?: string;
}

/**
 * `reten listen --forward-to URL`: the tenant's events from the stream, each POSTed to a local
 * URL signed exactly as the delivery service signs webhooks, with a secret printed at start.
 */
export function registerListen(program: Command): void {
  program
    .command('listen')
    .description(
      'forward the live events to a local URL, signed as Reten signs webhooks (no public URL needed)',
    )
    .requiredOption(
      '--forward-to <url>',
      'where to POST each event, e.g. http://localhost:3000/webhooks',
    )
    .option('-t, --types <types>', 'comma-separated types or wildcards (default *)', commaList)
    .option('--secret <whsec>', 'signing secret to use (default: a new whsec_… printed at start)')
    .option('--since-id <id>', 'first forward every event after this one (evt_… or evt_…:revision)')
    .addHelpText(
      'after',
      '\nEach event is POSTed one at a time, in stream order, once (a failed forward is shown, not retried).\n' +
        'Every forward is bounded by --timeout-ms.',
    )
    .action(async (options: ListenOptions, command: Command) => {
      const { config, out } = contextOf(command);
      const target = checkTarget(options.forwardTo);
      const secret = options.secret ?? generateSecret();
      if (!isSecret(secret)) {
        throw new UsageError('--secret must be whsec_ followed by base64 of 24 to 64 bytes');
      }
      const types = options.types ?? ['*'];
      if (out.json) out.jsonLine({ forward_to: target, types, secret });
      else {
        out.line(`Forwarding ${types.join(',')} events to ${target}`);
        out.line(`Webhook signing secret: ${secret}`);
      }
      await runUntilSignal({
        url: config.streamUrl,
        apiKey: config.apiKey,
        types,
        sinceId: options.sinceId,
        handshakeTimeoutMs: config.timeoutMs,
        onStatus: (message) => out.note(message),
        onEvent: async (event, raw) => {
          const result = await forwardEvent(target, event, raw, secret, config.timeoutMs);
          show(out, event, result);
        },
      });
    });
}

function checkTarget(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`--forward-to must be an absolute URL, got ${JSON.stringify(value)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError('--forward-to must be an http:// or https:// URL');
  }
  return url.toString();
}

function show(out: Output, event: StreamEvent, result: ForwardResult): void {
  if (out.json) {
    out.jsonLine({
      event_id: event.event_id,
      event_type: event.event_type,
      revision: event.revision,
      status: result.status,
      latency_ms: result.latencyMs,
      error: result.error,
    });
    return;
  }
  const answer = result.status === null ? `failed: ${result.error}` : String(result.status);
  out.line(
    `${new Date().toISOString()}  ${event.event_type}  ${event.event_id}  → ${answer}  ${result.latencyMs} ms`,
  );
}
