import { Command, InvalidArgumentError, Option } from 'commander';
import { registerEvents } from './commands/events';
import { registerKeys } from './commands/keys';
import { registerListen } from './commands/listen';
import { registerSend } from './commands/send';
import { registerTail } from './commands/tail';
import { registerWebhooks } from './commands/webhooks';
import { DEFAULT_API_URL, DEFAULT_TIMEOUT_MS } from './config';
import { EXIT } from './exit-codes';
import { version } from './version';

function timeoutMs(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || n < 1 || n > 3_600_000) {
    throw new InvalidArgumentError('must be a whole number of milliseconds, 1 to 3600000');
  }
  return n;
}

const EXIT_HELP = `
Configuration: flags, else RETEN_API_URL / RETEN_API_KEY / RETEN_STREAM_URL, else (for the key)
.reten/dev-api-key of the local stack, found from the current directory upwards.

Exit status: ${EXIT.ok} success, ${EXIT.usage} bad command line (or no API key found), ${EXIT.api} the API refused
(its error code and message are printed on stderr), ${EXIT.network} the server could not be reached or did
not answer in time, ${EXIT.internal} anything else.`;

/** The `reten` command line: global options, every command, exit statuses in the help. */
export function buildProgram(): Command {
  const program = new Command('reten');
  program
    .description('Send, read, tail and forward Reten events; manage webhooks and API keys.')
    .version(version)
    // commander's own usage errors become exit 2, its help and version exit 0
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)')
    .configureHelp({ showGlobalOptions: true })
    .addOption(
      new Option('--api-url <url>', `API base URL (default ${DEFAULT_API_URL})`).env(
        'RETEN_API_URL',
      ),
    )
    .addOption(new Option('--api-key <key>', 'API key or JWT').env('RETEN_API_KEY'))
    .addOption(
      new Option(
        '--stream-url <url>',
        'stream URL (default: the API host, ws, port 8080 → 8081, /events/stream)',
      ).env('RETEN_STREAM_URL'),
    )
    .addOption(
      new Option(
        '--timeout-ms <ms>',
        `bound of every request and connection attempt (default ${DEFAULT_TIMEOUT_MS})`,
      )
        .argParser(timeoutMs)
        .env('RETEN_TIMEOUT_MS'),
    )
    .option('--json', 'print JSON (one object or line per result) instead of tables')
    .addHelpText('after', EXIT_HELP);
  registerSend(program);
  registerEvents(program);
  registerTail(program);
  registerListen(program);
  registerWebhooks(program);
  registerKeys(program);
  return program;
}
