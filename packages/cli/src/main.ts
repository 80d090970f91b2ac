#!/usr/bin/env node
import { CommanderError } from 'commander';
import { CliError, EXIT, errorLine } from './exit-codes';
import { buildProgram } from './program';

/** Entry point of `reten`: runs one command, prints a failure on stderr, sets the exit status. */
async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return EXIT.ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      // commander printed the message (or the help) already
      return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    if (err instanceof CliError) {
      process.stderr.write(`${errorLine(err)}\n`);
      return err.exitCode;
    }
    process.stderr.write(
      `error: unexpected failure: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    return EXIT.internal;
  }
}

// `reten tail | head -1`: the reader went away, which ends the command, not an error
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code !== 'EPIPE') throw err;
  process.exit(EXIT.ok);
});

void main(process.argv).then((code) => {
  // exitCode rather than exit(): stdout is flushed before the process ends
  process.exitCode = code;
});
