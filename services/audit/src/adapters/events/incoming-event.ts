import type { Canonical } from '@passage/audit-log';
import { events } from '@passage/contracts';
import { decodeEnvelope, type Envelope, type Topology } from '@passage/events';
import { formatReference, parseReference } from '@passage/vocabulary';
import type { IncomingEvent, ParkedEvent, ReferralFact } from '../../app/ports.ts';

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface BusMessage {
  readonly subject: string;
  readonly stream: string;
  readonly data: Uint8Array;
  readonly streamSeq: number;
  readonly receivedAt: Date;
}

/** An event from the bus as a log entry, or parked with why it cannot be one. */
export function toIncoming(message: BusMessage, topology: Topology): IncomingEvent | ParkedEvent {
  const park = (error: string): ParkedEvent => ({
    subject: message.subject,
    stream: message.stream,
    streamSeq: message.streamSeq,
    payload: message.data,
    error,
  });
  let envelope: Envelope;
  try {
    envelope = decodeEnvelope(message.data);
  } catch (error) {
    return park(`undecodable event: ${(error as Error).message}`);
  }
  if (!uuid.test(envelope.id)) return park(`event id "${envelope.id.slice(0, 40)}" is not a UUID`);
  if (!/^[a-z]+\.v1\.[a-z_]+$/.test(envelope.type))
    return park(`event type "${envelope.type.slice(0, 60)}" is malformed`);
  if (!envelope.occurredAt) return park('event has no occurred_at');
  let json: Canonical;
  try {
    json = JSON.parse(JSON.stringify(events.Envelope.toJSON(envelope))) as Canonical;
  } catch (error) {
    return park(`event cannot be encoded: ${(error as Error).message}`);
  }
  const payload = envelope.payload;
  return {
    eventId: envelope.id.toLowerCase(),
    subject: topology.typeOf(message.subject),
    stream: message.stream,
    streamSeq: message.streamSeq,
    receivedAt: message.receivedAt,
    event: json,
    fields: {
      action: envelope.type,
      occurredAt: envelope.occurredAt,
      actorAgency: envelope.actor?.agency ?? '',
      actorUser: envelope.actor?.user ?? '',
      actorRole: envelope.actor?.role ?? '',
      referralId: envelope.referralId,
      subjectRef: envelope.subjectRef,
      fromAgency: envelope.fromAgency,
      toAgency: envelope.toAgency,
    },
    agency:
      payload?.$case === 'agencyChanged'
        ? {
            agencyId: payload.value.agencyId,
            kind: payload.value.kind,
            region: payload.value.region || 'unknown',
            version: payload.value.version,
            hours: { alwaysOpen: payload.value.alwaysOpen, periods: payload.value.hours.map((p) => ({ ...p })) },
          }
        : undefined,
    referral: payload?.$case === 'referralChanged' ? referralFact(envelope, payload.value) : undefined,
  };
}

export function isParked(value: IncomingEvent | ParkedEvent): value is ParkedEvent {
  return 'error' in value;
}

function referralFact(envelope: Envelope, changed: events.ReferralChanged): ReferralFact | undefined {
  if (!changed.sentAt || !uuid.test(changed.referralId)) return undefined;
  return {
    referralId: changed.referralId,
    fromAgency: envelope.fromAgency,
    toAgency: envelope.toAgency,
    priority: envelope.priority,
    state: changed.state,
    reason: changed.reason,
    needs: changed.needs.filter((need) => /^[a-z_]+$/.test(need)),
    version: changed.version,
    sentAt: changed.sentAt,
    acknowledgedAt: changed.acknowledgedAt,
    acceptedAt: changed.acceptedAt,
    contactAt: changed.contactAt,
    closedAt: changed.closedAt,
    declinedAt: changed.declinedAt,
    withdrawnAt: changed.withdrawnAt,
    acknowledgeDueAt: changed.acknowledgeDueAt,
    acceptDueAt: changed.acceptDueAt,
    previousReferralId: uuid.test(changed.previousReferralId) ? changed.previousReferralId.toLowerCase() : '',
    reference: canonicalReference(changed.reference),
    escalated:
      envelope.type !== 'referral.v1.escalated'
        ? undefined
        : changed.reason === 'accept_overdue'
          ? 'accept'
          : 'acknowledge',
  };
}

/** A well-formed short reference in its written form; anything else is not kept. */
function canonicalReference(reference: string): string {
  const n = reference ? parseReference(reference) : undefined;
  return n === undefined ? '' : formatReference(n);
}
