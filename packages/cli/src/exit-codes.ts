/**
 * Exit statuses of `reten`, one per kind of failure, so a script can tell a mistake in its
 * own command line from a refusal by the API and from an unreachable server.
 */
export const EXIT = {
  /** Success. */
  ok: 0,
  /** A bug or an unexpected failure inside the CLI. */
  internal: 1,
  /** Bad command line: unknown command or option, invalid JSON or time, no API key found. */
  usage: 2,
  /** The API (or the stream) refused the request or answered something unexpected. */
  api: 3,
  /** The server could not be reached or did not answer in time. */
  network: 4,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** A failure the CLI reports in one line on stderr and turns into its exit status. */
export class CliError extends Error {
  constructor(
    readonly exitCode: ExitCode,
    message: string,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** The command line itself is wrong (exit 2). */
export class UsageError extends CliError {
  constructor(message: string) {
    super(EXIT.usage, message);
    this.name = 'UsageError';
  }
}

/** The server answered with an error envelope (exit 3); `code` is the API's stable code. */
export class ApiError extends CliError {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number | undefined,
    readonly details: readonly { path: string; message: string }[] = [],
  ) {
    super(EXIT.api, message);
    this.name = 'ApiError';
  }
}

/** The server could not be reached, or stopped answering before the timeout (exit 4). */
export class NetworkError extends CliError {
  constructor(message: string) {
    super(EXIT.network, message);
    this.name = 'NetworkError';
  }
}

/** The line printed on stderr for a failure: the API's code first when there is one. */
export function errorLine(err: CliError): string {
  if (err instanceof ApiError) {
    const status = err.status === undefined ? '' : ` (HTTP ${err.status})`;
    const details = err.details.map((d) => `\n  ${d.path}: ${d.message}`).join('');
    return `error: ${err.code}${status}: ${err.message}${details}`;
  }
  return `error: ${err.message}`;
}
