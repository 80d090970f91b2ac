import { once } from 'node:events';
import type { Command } from 'commander';
import { contextOf } from '../context';
import { commaList } from '../option-parsers';
import { runUntilSignal } from '../stream-command';

/** Writes one line to stdout, waiting when its buffer is full (a slow pipe slows the stream). */
async function writeLine(line: string): Promise<void> {
  if (!process.stdout.write(`${line}\n`)) await once(process.stdout, 'drain');
}

/** `reten tail`: the tenant's live stream, one JSON envelope per line, resuming by itself. */
export function registerTail(program: Command): void {
  program
    .command('tail')
    .description(
      'print the live stream of events, one JSON line each; reconnects and resumes by itself',
    )
    .option('-t, --types <types>', 'comma-separated types or wildcards (default *)', commaList)
    .option('--since-id <id>', 'first replay every event after this one (evt_… or evt_…:revision)')
    .action(async (options: { types?: string[]; sinceId?: string }, command: Command) => {
      const { config, out } = contextOf(command);
      await runUntilSignal({
        url: config.streamUrl,
        apiKey: config.apiKey,
        types: options.types ?? ['*'],
        sinceId: options.sinceId,
        handshakeTimeoutMs: config.timeoutMs,
        onStatus: (message) => out.note(message),
        // the frame is the envelope exactly as stored; re-encoded only if it spans lines
        onEvent: (_event, raw) =>
          writeLine(raw.includes('\n') ? JSON.stringify(JSON.parse(raw)) : raw),
      });
    });
}
