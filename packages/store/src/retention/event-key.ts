/** Crockford base32, the ULID alphabet: its order is the order of the values. */
export const ULID_ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const ALPHABET = ULID_ALPHABET;
const TIME_CHARS = 10;

/**
 * The event-id bound of an instant: `evt_` + the ten time characters of a ULID made at `ms`.
 * Every id made at or after `ms` sorts at or above it, every id made before sorts below (the
 * same as the migrations' `reten_event_key`).
 */
export function eventKeyAt(ms: number): string {
  let rest = Math.max(0, Math.floor(ms));
  let out = '';
  for (let i = 0; i < TIME_CHARS; i++) {
    out = ALPHABET.charAt(rest % 32) + out;
    rest = Math.floor(rest / 32);
  }
  return `evt_${out}`;
}

/** The creation time (ms) encoded in an `evt_` + ULID id or bound, undefined for any other. */
export function timeOfEventKey(key: string): number | undefined {
  if (!key.startsWith('evt_') || key.length < 4 + TIME_CHARS) return undefined;
  let ms = 0;
  for (const ch of key.slice(4, 4 + TIME_CHARS)) {
    const v = ALPHABET.indexOf(ch);
    if (v < 0) return undefined;
    ms = ms * 32 + v;
  }
  return ms;
}
