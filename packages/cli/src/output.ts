/** One column of a table: its header and how to get a cell from a row. */
export interface Column<T> {
  header: string;
  cell: (row: T) => string | number | boolean | null | undefined;
}

/**
 * Where a command writes: stdout for results (tables, or JSON with `--json`), stderr for
 * progress and errors, so `reten … --json | jq` only ever sees JSON.
 */
export class Output {
  constructor(
    readonly json: boolean,
    private readonly stdout: NodeJS.WritableStream = process.stdout,
    private readonly stderr: NodeJS.WritableStream = process.stderr,
  ) {}

  /** One line of result text on stdout. */
  line(text: string): void {
    this.stdout.write(`${text}\n`);
  }

  /** A JSON value on one line of stdout. */
  jsonLine(value: unknown): void {
    this.line(JSON.stringify(value));
  }

  /** One line on stderr (progress, notices, errors). */
  note(text: string): void {
    this.stderr.write(`${text}\n`);
  }

  /** Rows as an aligned table with an upper-case header; `(none)` when there are none. */
  table<T>(rows: readonly T[], columns: readonly Column<T>[]): void {
    if (rows.length === 0) {
      this.line('(none)');
      return;
    }
    const cells = rows.map((row) => columns.map((c) => text(c.cell(row))));
    const headers = columns.map((c) => c.header.toUpperCase());
    const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i]!.length)));
    const format = (values: string[]) =>
      values
        .map((v, i) => (i === values.length - 1 ? v : v.padEnd(widths[i]!)))
        .join('  ')
        .trimEnd();
    this.line(format(headers));
    for (const row of cells) this.line(format(row));
  }

  /** `name  value` lines, names aligned. */
  fields(pairs: readonly [string, string | number | boolean | null | undefined][]): void {
    const width = Math.max(...pairs.map(([name]) => name.length));
    for (const [name, value] of pairs) this.line(`${name.padEnd(width)}  ${text(value)}`);
  }
}

function text(value: string | number | boolean | null | undefined): string {
  if (value === null || value === undefined || value === '') return '-';
  return String(value).replace(/\s+/g, ' ');
}
