import type { Command } from 'commander';
import { IngestAcceptedSchema, ORDERING_KEY_HEADER } from '@reten/contracts';
import { contextOf } from '../context';
import { readData } from '../data-input';

interface SendOptions {
  data?: string;
  dataFile?: string;
  key?: string;
  idempotencyKey?: string;
}

/** `reten send TYPE`: one event through EVCI (`POST /v1.0/event/{type}`); prints its id. */
export function registerSend(program: Command): void {
  program
    .command('send')
    .description('send one event through EVCI (POST /v1.0/event/TYPE) and print its event id')
    .argument('<type>', 'event type, e.g. order.created or log:ClientLog')
    .option('-d, --data <json>', 'the event data as JSON text (default {})')
    .option('-f, --data-file <file>', 'read the event data from a JSON file (- for stdin)')
    .option(
      '-k, --key <key>',
      `ordering key, sent as the ${ORDERING_KEY_HEADER} header: events sharing a key reach ` +
        'each webhook endpoint in publish order, also across retries (1 to 128 printable ' +
        'ASCII characters, no space)',
    )
    .option(
      '-i, --idempotency-key <key>',
      'Idempotency-Key: resending the same key and data returns the first event id',
    )
    .action(async (type: string, options: SendOptions, command: Command) => {
      const { api, out } = contextOf(command);
      const body = readData(options);
      const headers: Record<string, string> = {};
      if (options.key !== undefined) headers[ORDERING_KEY_HEADER] = options.key;
      if (options.idempotencyKey !== undefined) headers['idempotency-key'] = options.idempotencyKey;
      const answer = await api.request(
        'POST',
        `/v1.0/event/${encodeURIComponent(type)}`,
        IngestAcceptedSchema,
        { body, headers },
      );
      if (out.json) out.jsonLine(answer.raw);
      else out.line(answer.data.event_id);
    });
}
