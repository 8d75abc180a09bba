import { randomBytes } from 'node:crypto';
import { events } from '@passage/contracts';

export type Envelope = events.Envelope;
export type EventPayload = NonNullable<Envelope['payload']>;

/** UUIDv7 (RFC 9562): time-ordered, so event ids sort by creation. */
export function uuidv7(now = Date.now()): string {
  const bytes = randomBytes(16);
  bytes.writeUIntBE(now, 0, 6);
  bytes[6] = 0x70 | (bytes[6]! & 0x0f);
  bytes[8] = 0x80 | (bytes[8]! & 0x3f);
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export interface NewEvent {
  /** e.g. "directory.v1.agency_upserted" */
  readonly type: string;
  readonly actor?: { agency: string; user: string; role: string };
  readonly payload: EventPayload;
  readonly referralId?: string;
  readonly subjectRef?: string;
  readonly fromAgency?: string;
  readonly toAgency?: string;
  readonly priority?: string;
  readonly consentId?: string;
  readonly allowedCategories?: readonly string[];
  readonly occurredAt?: Date;
}

export function createEnvelope(event: NewEvent): Envelope {
  return {
    id: uuidv7(),
    type: event.type,
    occurredAt: event.occurredAt ?? new Date(),
    actor: event.actor ?? { agency: '', user: '', role: '' },
    referralId: event.referralId ?? '',
    subjectRef: event.subjectRef ?? '',
    fromAgency: event.fromAgency ?? '',
    toAgency: event.toAgency ?? '',
    priority: event.priority ?? '',
    consentId: event.consentId ?? '',
    allowedCategories: [...(event.allowedCategories ?? [])],
    payload: event.payload,
  };
}

export function encodeEnvelope(envelope: Envelope): Uint8Array {
  return events.Envelope.encode(envelope).finish();
}

export function decodeEnvelope(bytes: Uint8Array): Envelope {
  return events.Envelope.decode(bytes);
}
