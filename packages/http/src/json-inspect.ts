import type { ErrorDetail } from '@reten/contracts';

/** Deepest nesting of arrays and objects a request body may have (`[[1]]` is 2 levels). */
export const MAX_JSON_DEPTH = 100;

interface Frame {
  array: boolean;
  /** Index of the current element (arrays). */
  index: number;
  /** Start and end (exclusive, quotes included) of the current key in the text (objects). */
  keyStart: number;
  keyEnd: number;
  expectKey: boolean;
}

/** An escape sequence inside a JSON string: `\uXXXX` (group 1) or any other `\x`. */
const ESCAPE = /\\(?:u([0-9a-fA-F]{4})|[^u])/g;

/** Index of the quote closing the string that opens at `start`. */
function endOfString(text: string, start: number): number {
  let end = text.indexOf('"', start + 1);
  for (;;) {
    let backslashes = 0;
    while (text.charCodeAt(end - 1 - backslashes) === 0x5c) backslashes++;
    if (backslashes % 2 === 0) return end;
    end = text.indexOf('"', end + 1);
  }
}

/**
 * Why the escapes of a JSON string's inner text make it unstorable, or undefined. PostgreSQL
 * can store neither U+0000 nor a UTF-16 surrogate without its pair (text and jsonb alike), and
 * turning them into U+FFFD would change the data silently. Raw characters need no check:
 * the body is valid UTF-8, which has neither surrogates nor (inside JSON strings) U+0000.
 */
function escapeProblem(raw: string): string | undefined {
  if (!raw.includes('\\u')) return undefined;
  let pendingHighEnd = -1;
  ESCAPE.lastIndex = 0;
  for (let m = ESCAPE.exec(raw); m; m = ESCAPE.exec(raw)) {
    const hex = m[1];
    const code = hex === undefined ? -1 : parseInt(hex, 16);
    const isLow = code >= 0xdc00 && code <= 0xdfff;
    if (pendingHighEnd >= 0) {
      if (!(isLow && m.index === pendingHighEnd)) return 'contains an unpaired UTF-16 surrogate';
      pendingHighEnd = -1;
      continue;
    }
    if (code === 0) return 'contains the character U+0000';
    if (isLow) return 'contains an unpaired UTF-16 surrogate';
    if (code >= 0xd800 && code <= 0xdbff) pendingHighEnd = m.index + m[0].length;
  }
  return pendingHighEnd >= 0 ? 'contains an unpaired UTF-16 surrogate' : undefined;
}

/**
 * Why a JSON number literal cannot be kept as written, or undefined. JSON.parse turns 1e400
 * into Infinity (stored as null), 1e-400 into 0 and a 30-digit integer into a rounded one;
 * Reten refuses them rather than store another number. Decimals with more digits than a
 * double holds are stored as the nearest double, as every JSON parser does.
 */
function numberProblem(literal: string): string | undefined {
  const value = Number(literal);
  if (!Number.isFinite(value)) return 'is beyond the range of a double (about ±1.8e308)';
  if (value === 0) {
    const mantissa = literal.split(/[eE]/)[0] ?? '';
    return /[1-9]/.test(mantissa)
      ? 'is too close to 0 for a double (it would become 0)'
      : undefined;
  }
  if (!/[.eE]/.test(literal) && !Number.isSafeInteger(value)) {
    return 'is an integer beyond ±9007199254740991, which a double cannot hold exactly';
  }
  return undefined;
}

function pathOf(text: string, frames: readonly Frame[], location: string): string {
  const parts = [location];
  for (const f of frames) {
    parts.push(f.array ? String(f.index) : String(JSON.parse(text.slice(f.keyStart, f.keyEnd))));
  }
  return parts.join('.');
}

/**
 * The first reason the JSON `text` (already accepted by JSON.parse) cannot be stored as sent,
 * with its path (`body.data.items.3`), or undefined: nesting deeper than `maxDepth`, a number a
 * double cannot hold, U+0000 or an unpaired surrogate in a string or key. One pass, no recursion,
 * so a body nested a million levels deep is refused without exhausting the stack.
 */
export function inspectJson(
  text: string,
  maxDepth: number,
  location = 'body',
): ErrorDetail | undefined {
  const frames: Frame[] = [];
  const n = text.length;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      const end = endOfString(text, i);
      const top = frames[frames.length - 1];
      const isKey = top !== undefined && !top.array && top.expectKey;
      const problem = escapeProblem(text.slice(i + 1, end));
      if (problem) {
        return {
          path: pathOf(text, isKey ? frames.slice(0, -1) : frames, location),
          message: isKey ? `has a key that ${problem}` : problem,
        };
      }
      if (isKey) {
        top.keyStart = i;
        top.keyEnd = end + 1;
        top.expectKey = false;
      }
      i = end + 1;
      continue;
    }
    if (c === 0x7b || c === 0x5b) {
      if (frames.length >= maxDepth) {
        return {
          path: location,
          message: `is nested deeper than ${maxDepth} levels of arrays and objects`,
        };
      }
      frames.push({ array: c === 0x5b, index: 0, keyStart: 0, keyEnd: 0, expectKey: c === 0x7b });
    } else if (c === 0x7d || c === 0x5d) {
      frames.pop();
    } else if (c === 0x2c) {
      const top = frames[frames.length - 1];
      if (top?.array) top.index++;
      else if (top) top.expectKey = true;
    } else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
      let end = i + 1;
      while (end < n && /[0-9eE+\-.]/.test(text[end]!)) end++;
      const problem = numberProblem(text.slice(i, end));
      if (problem) return { path: pathOf(text, frames, location), message: problem };
      i = end;
      continue;
    }
    i++;
  }
  return undefined;
}
