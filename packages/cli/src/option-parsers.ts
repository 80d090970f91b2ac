import { InvalidArgumentError } from 'commander';

/** Commander parser for options such as `--limit`: a whole number ≥ 1. */
export function positiveInt(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < 1) {
    throw new InvalidArgumentError('must be a whole number of at least 1');
  }
  return n;
}

/** Commander parser for comma lists such as `--types 'order.*,log:ClientLog'`. */
export function commaList(value: string, previous: string[] = []): string[] {
  return [
    ...previous,
    ...value
      .split(',')
      .map((v) => v.trim())
      .filter((v) => v !== ''),
  ];
}
