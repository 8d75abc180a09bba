import { EntryEncodingError, entryVersion } from './canonical.ts';

/**
 * The canonical check of `decodeEntry` done on the bytes themselves, for `verify` (ADR 48):
 * the same verdict as decoding the entry and re-encoding it (a property test holds the two
 * together), without building the value or the string. What canonical means, byte by byte:
 *
 * - the object `{"event":…,"received_at":"…","seq":…,"subject":"…","v":1}` exactly, `event`
 *   optional, no whitespace anywhere, nothing after it;
 * - `received_at` what `Date.prototype.toISOString` writes for the instant it reads as;
 * - in any object, keys in strictly increasing UTF-16 code-unit order (no duplicate);
 * - numbers: integers in their shortest form (`0`, `-12`), no `-0`, within ±(2⁵³ − 1);
 * - strings: well-formed UTF-8; escaped exactly as `JSON.stringify` escapes — `\"`, `\\`,
 *   `\b \t \n \f \r`, `\u00xx` (lowercase) for the other control characters, `\udxxx` for a
 *   lone surrogate — and nothing else escaped;
 * - `true`, `false`, `null`.
 *
 * Returns the entry's `seq`; throws EntryEncodingError naming what is not canonical.
 */
export function canonicalEntrySeq(bytes: Uint8Array): number {
  let i = literal(bytes, 0, openEntry);
  if (startsWith(bytes, i, eventKey)) {
    i = value(bytes, i + eventKey.length);
    i = literal(bytes, i, comma);
  }
  i = literal(bytes, i, receivedAtKey);
  i = isoInstant(bytes, i);
  i = literal(bytes, i, seqKey);
  const seqEnd = integer(bytes, i);
  const seq = parsedInteger;
  i = literal(bytes, seqEnd, subjectKey);
  i = string(bytes, i);
  i = literal(bytes, i, closeEntry);
  if (i !== bytes.length) fail('bytes after the entry');
  return seq;
}

const ascii = (text: string): Uint8Array => Uint8Array.from(text, (c) => c.charCodeAt(0));
const openEntry = ascii('{');
const eventKey = ascii('"event":');
const comma = ascii(',');
const receivedAtKey = ascii('"received_at":');
const seqKey = ascii(',"seq":');
const subjectKey = ascii(',"subject":');
const closeEntry = ascii(`,"v":${entryVersion}}`);

const quote = 0x22;
const backslash = 0x5c;

function fail(reason: string): never {
  throw new EntryEncodingError(`not in canonical form: ${reason}`);
}

function startsWith(b: Uint8Array, at: number, expected: Uint8Array): boolean {
  if (at + expected.length > b.length) return false;
  for (let k = 0; k < expected.length; k += 1) if (b[at + k] !== expected[k]) return false;
  return true;
}

function literal(b: Uint8Array, at: number, expected: Uint8Array): number {
  if (!startsWith(b, at, expected)) fail(`expected ${String.fromCharCode(...expected)} at byte ${at}`);
  return at + expected.length;
}

/** `received_at`: a string with no escape that `new Date(…).toISOString()` gives back unchanged. */
function isoInstant(b: Uint8Array, at: number): number {
  if (b[at] !== quote) fail('received_at is not a string');
  // The common form, years 0000–9999, read in place: YYYY-MM-DDTHH:mm:ss.sssZ with every field in range.
  if (b[at + 25] === quote && plainInstant(b, at + 1)) return at + 26;
  // Anything else (±YYYYYY years, or not an instant at all) the slow way, as decoding does.
  let end = at + 1;
  let text = '';
  for (; end < b.length && b[end] !== quote; end += 1) {
    const c = b[end]!;
    if (c === backslash || c < 0x20 || c >= 0x80) fail('received_at is not an ISO instant');
    text += String.fromCharCode(c);
  }
  if (end >= b.length) fail('received_at is not closed');
  const instant = new Date(text);
  if (Number.isNaN(instant.getTime()) || instant.toISOString() !== text) fail('received_at is not an ISO instant');
  return end + 1;
}

const digits = (b: Uint8Array, at: number, count: number): number => {
  let n = 0;
  for (let k = 0; k < count; k += 1) {
    const d = b[at + k]! - 0x30;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
};
const separators: [number, number][] = [
  [4, 0x2d],
  [7, 0x2d],
  [10, 0x54],
  [13, 0x3a],
  [16, 0x3a],
  [19, 0x2e],
  [23, 0x5a],
];

/** Whether the 24 bytes from `at` are what toISOString writes for an instant of years 0000–9999. */
function plainInstant(b: Uint8Array, at: number): boolean {
  for (const [offset, byte] of separators) if (b[at + offset] !== byte) return false;
  const year = digits(b, at, 4);
  const month = digits(b, at + 5, 2);
  const day = digits(b, at + 8, 2);
  const hour = digits(b, at + 11, 2);
  const minute = digits(b, at + 14, 2);
  const second = digits(b, at + 17, 2);
  const millisecond = digits(b, at + 20, 3);
  if (year < 0 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23) return false;
  if (minute < 0 || minute > 59 || second < 0 || second > 59 || millisecond < 0) return false;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  return day <= (month === 2 ? (leap ? 29 : 28) : month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31);
}

/** Set by `integer`: the value it read (kept out of a returned pair to allocate nothing). */
let parsedInteger = 0;

function integer(b: Uint8Array, at: number): number {
  let i = at;
  const negative = b[i] === 0x2d;
  if (negative) i += 1;
  const first = b[i];
  if (first === 0x30) {
    if (negative) fail('-0');
    parsedInteger = 0;
    return i + 1;
  }
  if (first === undefined || first < 0x31 || first > 0x39) fail(`a value was expected at byte ${at}`);
  let n = 0;
  const start = i;
  for (; i < b.length && b[i]! >= 0x30 && b[i]! <= 0x39; i += 1) n = n * 10 + (b[i]! - 0x30);
  if (i - start > 16 || n > Number.MAX_SAFE_INTEGER) fail('an integer beyond ±(2^53 − 1)');
  parsedInteger = negative ? -n : n;
  return i;
}

/** Set by `string`: whether the string it read held only ASCII and no escape (its bytes compare as its code units). */
let plainString = true;

const hexValue = (c: number | undefined): number =>
  c === undefined ? -1 : c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x61 && c <= 0x66 ? c - 0x57 : -1;

function string(b: Uint8Array, at: number): number {
  if (b[at] !== quote) fail(`a string was expected at byte ${at}`);
  let i = at + 1;
  let plain = true;
  // Whether the code unit just before was an escaped high surrogate: \ud83d\ude00 is a pair,
  // which JSON.stringify writes as the character itself.
  let afterHighEscape = false;
  for (;;) {
    const c = b[i];
    if (c === undefined) fail('a string is not closed');
    if (c === quote) break;
    if (c < 0x20) fail('a raw control character in a string');
    if (c === backslash) {
      plain = false;
      const e = b[i + 1];
      if (e === 0x75) {
        const h0 = hexValue(b[i + 2]);
        const h1 = hexValue(b[i + 3]);
        const h2 = hexValue(b[i + 4]);
        const h3 = hexValue(b[i + 5]);
        if ((h0 | h1 | h2 | h3) < 0) fail('\\u without four lowercase hex digits');
        const unit = (h0 << 12) | (h1 << 8) | (h2 << 4) | h3;
        if (unit >= 0xdc00 && unit <= 0xdfff) {
          if (afterHighEscape) fail('an escaped surrogate pair');
          afterHighEscape = false;
        } else if (unit >= 0xd800 && unit <= 0xdbff) {
          afterHighEscape = true;
        } else if (unit < 0x20 && unit !== 0x08 && unit !== 0x09 && unit !== 0x0a && unit !== 0x0c && unit !== 0x0d) {
          afterHighEscape = false;
        } else {
          fail('a character escaped that JSON.stringify writes as itself or with a short escape');
        }
        i += 6;
        continue;
      }
      if (e === quote || e === backslash || e === 0x62 || e === 0x66 || e === 0x6e || e === 0x72 || e === 0x74) {
        afterHighEscape = false;
        i += 2;
        continue;
      }
      fail('an escape JSON.stringify does not write');
    }
    afterHighEscape = false;
    if (c < 0x80) {
      i += 1;
      continue;
    }
    plain = false;
    i = utf8Sequence(b, i, c);
  }
  plainString = plain;
  return i + 1;
}

const continuation = (c: number | undefined): boolean => c !== undefined && c >= 0x80 && c <= 0xbf;

/** One well-formed multi-byte UTF-8 sequence (RFC 3629: no overlong form, no surrogate, ≤ U+10FFFF). */
function utf8Sequence(b: Uint8Array, i: number, c: number): number {
  const c1 = b[i + 1];
  if (c >= 0xc2 && c <= 0xdf) {
    if (continuation(c1)) return i + 2;
  } else if (c >= 0xe0 && c <= 0xef) {
    const low = c === 0xe0 ? 0xa0 : 0x80;
    const high = c === 0xed ? 0x9f : 0xbf;
    if (c1 !== undefined && c1 >= low && c1 <= high && continuation(b[i + 2])) return i + 3;
  } else if (c >= 0xf0 && c <= 0xf4) {
    const low = c === 0xf0 ? 0x90 : 0x80;
    const high = c === 0xf4 ? 0x8f : 0xbf;
    if (c1 !== undefined && c1 >= low && c1 <= high && continuation(b[i + 2]) && continuation(b[i + 3])) return i + 4;
  }
  return fail('not well-formed UTF-8');
}

/** Whether the key b[aStart, aEnd) sorts strictly before b[bStart, bEnd) (both quoted JSON strings). */
function keyBefore(
  b: Uint8Array,
  aStart: number,
  aEnd: number,
  aPlain: boolean,
  bStart: number,
  bEnd: number,
  bPlain: boolean,
): boolean {
  if (aPlain && bPlain) {
    const n = Math.min(aEnd - aStart, bEnd - bStart) - 1; // through the shorter's closing quote
    for (let k = 1; k < n; k += 1) {
      const x = b[aStart + k]!;
      const y = b[bStart + k]!;
      if (x !== y) return x < y;
    }
    return aEnd - aStart < bEnd - bStart;
  }
  // Escapes or non-ASCII: compare the strings themselves, as the encoder's sort does.
  const text = (start: number, end: number): string =>
    JSON.parse(Buffer.from(b.buffer, b.byteOffset + start, end - start).toString('utf8')) as string;
  return text(aStart, aEnd) < text(bStart, bEnd);
}

const inArray = 0;
const inObject = 1;
// The containers open around the value being read (reused: `value` allocates nothing per call
// until an entry nests deeper than any before it).
const kinds: number[] = [];
const keyStarts: number[] = [];
const keyEnds: number[] = [];
const keyPlain: boolean[] = [];

/** One canonical JSON value from byte `at`; returns the byte after it. Iterative: any depth. */
function value(b: Uint8Array, at: number): number {
  let i = at;
  let depth = 0;
  for (;;) {
    // A value starts at i.
    const c = b[i];
    if (c === 0x7b) {
      if (b[i + 1] === 0x7d) {
        i += 2;
      } else {
        kinds[depth] = inObject;
        keyStarts[depth] = -1;
        depth += 1;
        i = key(b, i + 1, depth - 1);
        continue;
      }
    } else if (c === 0x5b) {
      if (b[i + 1] === 0x5d) {
        i += 2;
      } else {
        kinds[depth] = inArray;
        depth += 1;
        i += 1;
        continue;
      }
    } else if (c === quote) {
      i = string(b, i);
    } else if (c === 0x74 && startsWith(b, i, trueBytes)) {
      i += 4;
    } else if (c === 0x66 && startsWith(b, i, falseBytes)) {
      i += 5;
    } else if (c === 0x6e && startsWith(b, i, nullBytes)) {
      i += 4;
    } else {
      i = integer(b, i);
    }
    // After a value: close what it ended, or go on to the next element or member.
    for (;;) {
      if (depth === 0) return i;
      const kind = kinds[depth - 1];
      const next = b[i];
      if (next === 0x2c) {
        i = kind === inObject ? key(b, i + 1, depth - 1) : i + 1;
        break;
      }
      if (next !== (kind === inObject ? 0x7d : 0x5d)) fail(`unexpected byte at ${i}`);
      i += 1;
      depth -= 1;
    }
  }
}

/** A member's key and its colon, in order after the object's previous key; returns where its value starts. */
function key(b: Uint8Array, at: number, level: number): number {
  const end = string(b, at);
  const plain = plainString;
  const previous = keyStarts[level]!;
  if (previous >= 0 && !keyBefore(b, previous, keyEnds[level]!, keyPlain[level]!, at, end, plain)) {
    fail('object keys out of order or repeated');
  }
  keyStarts[level] = at;
  keyEnds[level] = end;
  keyPlain[level] = plain;
  if (b[end] !== 0x3a) fail(`expected : at byte ${end}`);
  return end + 1;
}

const trueBytes = ascii('true');
const falseBytes = ascii('false');
const nullBytes = ascii('null');
