import pg from 'pg';
import { outboxRows, type Topology } from '@passage/events';
import type { Transition } from '../../domain/referral.ts';
import type { SendRecord } from '../../app/ports.ts';
import { referralChangedEvent } from '../events/outbox-events.ts';
import { receiptRefsOf, referralValues, subjectLock } from './referral-repository.ts';

const { escapeLiteral } = pg;

/**
 * A Send's statements (docs/adr/0049-send-on-prepared-statements.md): the idempotency look-up
 * as a named prepared statement; the transaction in two round trips — begin with the
 * person's lock and reference number, then the writes (one function call) with the commit.
 * The send benchmark runs these same statements straight through `pg` as its ceiling.
 */

/** The caller's earlier command under its idempotency key, if any. */
export const findIdempotencyKey = {
  name: 'referrals-find-idempotency-key',
  text: 'select command, request_hash, result from referrals.idempotency_keys where agency_id = $1 and key = $2',
} as const;

/**
 * Opens a Send's transaction with the person's lock, held to commit (a consent change handled
 * meanwhile waits, and one handled before is seen by recordSend), and the next reference
 * number: one round trip, as a simple query (the subject is a literal).
 */
export function beginAndLock(subjectRef: string): string {
  return `begin; select ${subjectLock(escapeLiteral(subjectRef))} as locked,
    nextval('referrals.reference_numbers')::text as n`;
}

/** Argument types of referrals.record_send (Migration20261204000000RecordSend), in order. */
const recordSendTypes = [
  'uuid[]', // grants: consent ids
  'text[]', // grants: scope ids
  'text', // idempotency: agency, key, command, request hash
  'text',
  'text',
  'text',
  'jsonb', // idempotency: result
  'uuid', // the referral's columns from here (referralColumns, referralValues): id
  'uuid', // subject_ref
  'text', // from_agency
  'text', // to_agency
  'text', // priority
  'text', // state
  'integer', // version
  'jsonb', // needs
  'text', // language
  'boolean', // interpreter_needed
  'boolean', // do_not_contact
  'jsonb', // categories
  'jsonb', // grants
  'uuid', // previous_referral_id
  'jsonb', // sent_by
  ...Array.from({ length: 9 }, () => 'timestamptz'), // sent_at … accept_due_at
  'text', // reason
  'text', // suggested_agency
  'text', // contact_method
  'boolean', // escalated
  'text', // taken_over_by
  'timestamptz', // taken_over_at
  'bigint', // reference_no
  'text', // assigned_user
  'timestamptz', // assigned_at
  'uuid', // linked_referral_id
  'text', // linked_agency
  'timestamptz', // clock_starts_at
  'text[]', // receipt_refs
  'text[]', // packet: categories
  'bytea[]', // packet: sealed sections
  'text', // transition: from, to, event
  'text',
  'text',
  'jsonb', // transition: actor
  'timestamptz', // transition: at
  'text', // transition: reason
  'uuid', // outbox row: id, subject, payload, trace context
  'text',
  'bytea',
  'jsonb',
];

/**
 * The writes of a Send — consent scopes ended meanwhile (none may be), the idempotency key,
 * the referral, its sealed packet, its first transition, its outbox row and the relay's
 * wake-up — as one call of referrals.record_send, whose plan each connection keeps; with
 * `andCommit`, the commit travels in the same round trip. A simple query: its values are
 * literals (escaped by pg's escapeLiteral, typed by the function's argument types).
 */
export function recordSend(values: readonly unknown[], andCommit: boolean): string {
  if (values.length !== recordSendTypes.length) {
    throw new Error(`record_send takes ${recordSendTypes.length} values, not ${values.length}`);
  }
  const args = values.map((value, i) => `${literal(value)}::${recordSendTypes[i]!}`).join(', ');
  return `select scope_ended, key_inserted from referrals.record_send(${args})${andCommit ? '; commit' : ''}`;
}

/** A SQL literal of a Send's value: text, a number, a boolean, an instant, bytes, an array of those, or null. */
function literal(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'string') return escapeLiteral(value);
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error(`not a number SQL holds: ${value}`);
    return String(value);
  }
  if (value instanceof Date) return escapeLiteral(value.toISOString());
  if (Buffer.isBuffer(value)) return `'\\x${value.toString('hex')}'`;
  if (Array.isArray(value)) return value.length === 0 ? `'{}'` : `array[${value.map(literal).join(', ')}]`;
  throw new Error(`no SQL literal for a ${typeof value}`);
}

/** The values of recordSend for one Send, in record_send's order. */
export function recordSendValues(send: SendRecord, topology: Topology): unknown[] {
  const { referral, packet, transition, idempotency } = send;
  const event = outboxRows([referralChangedEvent(referral, transition, topology)]);
  return [
    referral.grants.map((g) => g.consentId),
    referral.grants.map((g) => g.scopeId),
    idempotency.agencyId,
    idempotency.key,
    idempotency.command,
    idempotency.requestHash,
    JSON.stringify(referral),
    ...referralValues(referral),
    receiptRefsOf(referral),
    packet.map((section) => section.category),
    packet.map((section) => section.sealed),
    ...transitionValues(transition),
    ...event.params,
  ];
}

function transitionValues(t: Transition): unknown[] {
  return [t.from, t.to, t.event, JSON.stringify(t.actor), t.at, t.reason];
}
