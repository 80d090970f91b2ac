import { readFileSync } from 'node:fs';
import { UsageError } from './exit-codes';

/**
 * The JSON body of `reten send`: `--data` text, or the content of `--data-file` (`-` reads
 * stdin), `{}` without either. Checked to be JSON here, then sent exactly as written.
 */
export function readData(options: { data?: string; dataFile?: string }): string {
  if (options.data !== undefined && options.dataFile !== undefined) {
    throw new UsageError('give --data or --data-file, not both');
  }
  let text = '{}';
  let source = '--data';
  if (options.data !== undefined) {
    text = options.data;
  } else if (options.dataFile !== undefined) {
    source = `--data-file ${options.dataFile}`;
    try {
      text = readFileSync(options.dataFile === '-' ? 0 : options.dataFile, 'utf8');
    } catch (err) {
      throw new UsageError(`cannot read ${source}: ${(err as Error).message}`);
    }
  }
  try {
    JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${source} is not valid JSON: ${(err as Error).message}`);
  }
  return text;
}
