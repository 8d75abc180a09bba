import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeEntry, encodeEntry, type Canonical } from './canonical.ts';
import { canonicalEntrySeq } from './canonical-bytes.ts';

// The verdict of the reference: decode, re-encode, compare (any throw is a refusal).
function reference(bytes: Uint8Array): number | 'refused' {
  try {
    return decodeEntry(bytes).seq;
  } catch {
    return 'refused';
  }
}

function onBytes(bytes: Uint8Array): number | 'refused' {
  try {
    return canonicalEntrySeq(bytes);
  } catch {
    return 'refused';
  }
}

// Any UTF-16 code unit, lone surrogates and control characters included.
const anyText = fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((u) => String.fromCharCode(u)) });
const text = fc.oneof(
  anyText,
  fc.string(),
  fc.string({ unit: 'grapheme' }),
  fc.constantFrom('', 'a', 'é', '😀', '\u2028'),
);
const value: fc.Arbitrary<Canonical> = fc.letrec<{ value: Canonical }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    text,
    fc.maxSafeInteger(),
    fc.integer({ min: -1000, max: 1000 }),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(text, tie('value'), { maxKeys: 5 }),
  ),
})).value;
const entry = fc.record({
  seq: fc.nat(),
  receivedAt: fc.oneof(
    fc.date({ min: new Date(-8.64e15), max: new Date(8.64e15), noInvalidDate: true }),
    fc.date({
      min: new Date('0000-01-01T00:00:00.000Z'),
      max: new Date('9999-12-31T23:59:59.999Z'),
      noInvalidDate: true,
    }),
  ),
  subject: text,
  event: value,
});

// Ways to write the same JSON that are not canonical, and ways to break it.
const variant = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({
    kind: fc.constant('insert' as const),
    at: fc.nat(),
    byte: fc.constantFrom(0x20, 0x0a, 0x2c, 0x5c, 0x22, 0x30, 0x2d, 0x80, 0xc3, 0xed),
  }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant('rewrite' as const),
    from: fc.constantFrom(
      '":',
      ',"',
      '"a"',
      '0',
      '1',
      '-',
      'é',
      '\\n',
      '\\"',
      '\\u00',
      '"v":1',
      '"seq":',
      'true',
      '}',
      ']',
    ),
    to: fc.constantFrom(
      '": ',
      ', "',
      '"\\u0061"',
      '0.0',
      '1e0',
      '-0',
      '\\u00e9',
      '\\u000a',
      '\\u0022',
      '\\u00',
      '"v":1.0',
      '"seq":01',
      'True',
      '} ',
      '\\/',
      '\\U00',
      '9007199254740993',
      '\\ud83d\\ude00',
    ),
  }),
);

function apply(
  bytes: Buffer,
  change:
    | { kind: 'flip'; at: number; byte: number }
    | { kind: 'insert'; at: number; byte: number }
    | { kind: 'delete'; at: number }
    | { kind: 'rewrite'; from: string; to: string },
): Buffer {
  if (change.kind === 'rewrite') return Buffer.from(bytes.toString('utf8').replace(change.from, change.to), 'utf8');
  const at = change.at % (bytes.length + 1);
  if (change.kind === 'insert')
    return Buffer.concat([bytes.subarray(0, at), Buffer.from([change.byte]), bytes.subarray(at)]);
  if (at >= bytes.length) return bytes;
  if (change.kind === 'delete') return Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + 1)]);
  const copy = Buffer.from(bytes);
  copy[at] = change.byte;
  return copy;
}

describe('the canonical check on bytes', () => {
  it('accepts every encoded entry and reads its seq', () => {
    fc.assert(
      fc.property(entry, (e) => {
        const bytes = encodeEntry(e);
        expect(onBytes(bytes)).toBe(e.seq);
        expect(reference(bytes)).toBe(e.seq);
      }),
      { numRuns: 2000 },
    );
  });

  it('gives the verdict of decoding and re-encoding for any change to an entry', () => {
    fc.assert(
      fc.property(entry, fc.array(variant, { minLength: 1, maxLength: 3 }), (e, changes) => {
        const bytes = changes.reduce((b, change) => apply(b, change), encodeEntry(e));
        expect(onBytes(bytes)).toBe(reference(bytes));
      }),
      { numRuns: 5000 },
    );
  });

  it('gives the verdict of decoding and re-encoding for any bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        expect(onBytes(bytes)).toBe(reference(bytes));
      }),
    );
  });

  it('refuses each way of writing the same JSON that is not canonical, naming it', () => {
    const base = {
      seq: 7,
      receivedAt: new Date('2026-11-28T15:04:05.123Z'),
      subject: 's',
      event: { a: 'x', b: [1, -2, true, null], c: '\u0001\ud800é' },
    };
    const bytes = encodeEntry(base).toString('utf8');
    expect(bytes).toContain('"c":"\\u0001\\ud800é"');
    expect(canonicalEntrySeq(Buffer.from(bytes))).toBe(7);
    const refusals: [string, string, RegExp][] = [
      ['"a":"x"', '"a": "x"', /expected|unexpected/],
      ['"a":"x","b"', '"b":[1,-2,true,null],"a":"x","b"', /out of order/],
      ['"a":"x"', '"a":"\\u0078"', /escaped that JSON.stringify/],
      ['\\ud800', '\\uD800', /four lowercase hex/],
      ['1,-2', '1.0,-2', /unexpected/],
      ['1,-2', '-0,-2', /-0/],
      ['1,-2', '9007199254740992,-2', /beyond/],
      ['"s"', '"\\/"', /escape JSON.stringify does not write/],
      ['é', '\\u00e9', /escaped that JSON.stringify/],
      ['15:04:05.123Z', '15:04:05.12Z', /ISO instant/],
      ['"v":1}', '"v":1} ', /after the entry/],
      ['"a":"x"', '"a":"x","a":"x"', /out of order or repeated/],
    ];
    for (const [from, to, reason] of refusals) {
      const changed = Buffer.from(bytes.replace(from, to), 'utf8');
      expect(() => canonicalEntrySeq(changed), to).toThrow(reason);
      expect(reference(changed), to).toBe('refused');
    }
    const surrogatePair = Buffer.from(bytes.replace('\\ud800', '\\ud83d\\ude00'), 'utf8');
    expect(() => canonicalEntrySeq(surrogatePair)).toThrow('surrogate pair');
    const overlong = Buffer.concat([Buffer.from(bytes.slice(0, bytes.indexOf('é'))), Buffer.from([0xc0, 0xa9])]);
    expect(() => canonicalEntrySeq(overlong)).toThrow('UTF-8');
  });

  it('reads received_at as decoding does, impossible dates and times included', () => {
    const pad = (n: number, width: number) => String(n).padStart(width, '0');
    fc.assert(
      fc.property(
        fc.tuple(
          fc.integer({ min: 0, max: 9999 }),
          fc.integer({ min: 0, max: 13 }),
          fc.integer({ min: 0, max: 32 }),
          fc.integer({ min: 0, max: 25 }),
          fc.integer({ min: 0, max: 61 }),
          fc.integer({ min: 0, max: 61 }),
          fc.integer({ min: 0, max: 999 }),
        ),
        ([year, month, day, hour, minute, second, ms]) => {
          const at = `${pad(year, 4)}-${pad(month, 2)}-${pad(day, 2)}T${pad(hour, 2)}:${pad(minute, 2)}:${pad(second, 2)}.${pad(ms, 3)}Z`;
          const bytes = Buffer.from(`{"received_at":"${at}","seq":0,"subject":"s","v":1}`);
          expect(onBytes(bytes), at).toBe(reference(bytes));
        },
      ),
      { numRuns: 3000 },
    );
    for (const at of [
      '2024-02-29T00:00:00.000Z',
      '2100-02-29T00:00:00.000Z',
      '2000-02-29T23:59:59.999Z',
      '0000-01-01T00:00:00.000Z',
    ]) {
      const bytes = Buffer.from(`{"received_at":"${at}","seq":0,"subject":"s","v":1}`);
      expect(onBytes(bytes), at).toBe(reference(bytes));
    }
  });

  it('takes an entry without an event, as decoding does', () => {
    const bytes = Buffer.from('{"received_at":"2026-11-28T15:04:05.123Z","seq":4,"subject":"s","v":1}');
    expect(canonicalEntrySeq(bytes)).toBe(4);
    expect(reference(bytes)).toBe(4);
  });

  it('reads nesting of any depth', () => {
    const bytes = Buffer.from(
      `{"event":${'['.repeat(20_000)}0${']'.repeat(20_000)},"received_at":"2026-11-28T15:04:05.123Z","seq":1,"subject":"s","v":1}`,
    );
    expect(canonicalEntrySeq(bytes)).toBe(1);
  });
});
