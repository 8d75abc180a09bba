/**
 * The canonical encoding of an audit entry: JSON with object keys sorted by UTF-16 code
 * units, no whitespace, strings escaped as JSON.stringify does, integers only (RFC 8785's
 * rules for the values an entry holds). The same entry always gives the same bytes, so a
 * leaf hash can be recomputed from what is stored, by anyone, in any language.
 */
export type Canonical = string | number | boolean | null | readonly Canonical[] | { readonly [key: string]: Canonical };

export function canonicalJson(value: unknown): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isSafeInteger(value)) throw new TypeError(`canonical entries hold integers only, not ${value}`);
      return String(value);
    case 'object': {
      if (Array.isArray(value)) return `[${value.map((item: unknown) => canonicalJson(item)).join(',')}]`;
      const record = value as Record<string, unknown>;
      const keys = Object.keys(record)
        .filter((key) => record[key] !== undefined)
        .sort();
      return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJson(record[key])}`).join(',')}}`;
    }
    default:
      throw new TypeError(`a canonical entry cannot hold a ${typeof value}`);
  }
}

/** One audit log entry: the event as the bus carried it, where and when it was received. */
export interface AuditEntry {
  /** The leaf index: 0, 1, 2, … */
  readonly seq: number;
  /** When JetStream stored the event. */
  readonly receivedAt: Date;
  /** The NATS subject without a deployment namespace, e.g. referral.v1.peel.london.sent. */
  readonly subject: string;
  /** The event envelope in its protobuf JSON mapping (ids, agencies, states; no personal data). */
  readonly event: Canonical;
}

export const entryVersion = 1;

export function encodeEntry(entry: AuditEntry): Buffer {
  return Buffer.from(
    canonicalJson({
      v: entryVersion,
      seq: entry.seq,
      received_at: entry.receivedAt.toISOString(),
      subject: entry.subject,
      event: entry.event,
    }),
    'utf8',
  );
}

export class EntryEncodingError extends Error {}

/** Reads stored bytes back, refusing anything that is not exactly the canonical encoding. */
export function decodeEntry(bytes: Uint8Array): AuditEntry {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    throw new EntryEncodingError('not JSON');
  }
  const record = parsed as Record<string, unknown>;
  if (typeof record !== 'object' || record === null || record['v'] !== entryVersion) {
    throw new EntryEncodingError('not a version 1 entry');
  }
  const { seq, received_at: receivedAt, subject, event } = record;
  if (typeof seq !== 'number' || typeof receivedAt !== 'string' || typeof subject !== 'string') {
    throw new EntryEncodingError('seq, received_at or subject missing');
  }
  const entry: AuditEntry = { seq, receivedAt: new Date(receivedAt), subject, event: event as Canonical };
  if (Number.isNaN(entry.receivedAt.getTime()) || !encodeEntry(entry).equals(Buffer.from(bytes))) {
    throw new EntryEncodingError('not in canonical form');
  }
  return entry;
}
