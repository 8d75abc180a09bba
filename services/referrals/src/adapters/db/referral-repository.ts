import type { DataCategory } from '@passage/consent-policy';
import { PassageError, type EntityManager } from '@passage/platform';
import type { Actor, ConsentGrant, Priority, Referral, State, Transition } from '../../domain/referral.ts';
import type {
  IdempotencyRecord,
  IdempotencyStore,
  ListQuery,
  ReferralRepository,
  SealedSection,
} from '../../app/ports.ts';

export const referralSchema = 'referrals';

type Timestamp = Date | string | null;

interface ReferralRow {
  id: string;
  subject_ref: string;
  from_agency: string;
  to_agency: string;
  priority: Priority;
  state: State;
  version: number;
  needs: string[];
  language: string;
  interpreter_needed: boolean;
  do_not_contact: boolean;
  categories: DataCategory[];
  grants: ConsentGrant[];
  previous_referral_id: string | null;
  sent_by: Actor;
  sent_at: Timestamp;
  acknowledged_at: Timestamp;
  accepted_at: Timestamp;
  contact_at: Timestamp;
  closed_at: Timestamp;
  declined_at: Timestamp;
  withdrawn_at: Timestamp;
  acknowledge_due_at: Timestamp;
  accept_due_at: Timestamp;
  reason: string;
  suggested_agency: string;
  contact_method: string;
  escalated: boolean;
  linked_referral_id: string | null;
  linked_agency: string;
  clock_starts_at: Timestamp;
}

export const referralColumns = `id, subject_ref, from_agency, to_agency, priority, state, version, needs, language, interpreter_needed,
  do_not_contact, categories, grants, previous_referral_id, sent_by, sent_at, acknowledged_at, accepted_at, contact_at,
  closed_at, declined_at, withdrawn_at, acknowledge_due_at, accept_due_at, reason, suggested_agency, contact_method, escalated,
  linked_referral_id, linked_agency, clock_starts_at`;

const date = (value: Timestamp): Date | undefined => (value === null ? undefined : new Date(value));

function toReferral(row: ReferralRow): Referral {
  return {
    id: row.id,
    subjectRef: row.subject_ref,
    fromAgency: row.from_agency,
    toAgency: row.to_agency,
    priority: row.priority,
    state: row.state,
    version: row.version,
    needs: row.needs,
    language: row.language,
    interpreterNeeded: row.interpreter_needed,
    doNotContact: row.do_not_contact,
    categories: row.categories,
    grants: row.grants,
    previousReferralId: row.previous_referral_id ?? '',
    sentBy: row.sent_by,
    sentAt: date(row.sent_at)!,
    acknowledgedAt: date(row.acknowledged_at),
    acceptedAt: date(row.accepted_at),
    contactAt: date(row.contact_at),
    closedAt: date(row.closed_at),
    declinedAt: date(row.declined_at),
    withdrawnAt: date(row.withdrawn_at),
    acknowledgeDueAt: date(row.acknowledge_due_at)!,
    acceptDueAt: date(row.accept_due_at)!,
    reason: row.reason,
    suggestedAgency: row.suggested_agency,
    contactMethod: row.contact_method,
    escalated: row.escalated,
    linkedReferralId: row.linked_referral_id ?? '',
    linkedAgency: row.linked_agency,
    clockStartsAt: date(row.clock_starts_at),
  };
}

/** Revives a referral kept as JSON (idempotency results). */
export function referralFromJson(json: Record<string, unknown>): Referral {
  const dates = [
    'sentAt',
    'acknowledgedAt',
    'acceptedAt',
    'contactAt',
    'closedAt',
    'declinedAt',
    'withdrawnAt',
    'acknowledgeDueAt',
    'acceptDueAt',
    'clockStartsAt',
  ];
  const revived = { ...json };
  for (const key of dates) if (typeof revived[key] === 'string') revived[key] = new Date(revived[key]);
  return revived as unknown as Referral;
}

export function referralValues(r: Referral): unknown[] {
  return [
    r.id,
    r.subjectRef,
    r.fromAgency,
    r.toAgency,
    r.priority,
    r.state,
    r.version,
    JSON.stringify(r.needs),
    r.language,
    r.interpreterNeeded,
    r.doNotContact,
    JSON.stringify(r.categories),
    JSON.stringify(r.grants),
    r.previousReferralId || null,
    JSON.stringify(r.sentBy),
    r.sentAt,
    r.acknowledgedAt ?? null,
    r.acceptedAt ?? null,
    r.contactAt ?? null,
    r.closedAt ?? null,
    r.declinedAt ?? null,
    r.withdrawnAt ?? null,
    r.acknowledgeDueAt,
    r.acceptDueAt,
    r.reason,
    r.suggestedAgency,
    r.contactMethod,
    r.escalated,
    r.linkedReferralId || null,
    r.linkedAgency ?? '',
    r.clockStartsAt ?? null,
  ];
}

/** The unique index that allows one resend per declined referral, as the error a caller can act on. */
export function refuseSecondResend(error: unknown): never {
  if (error instanceof Error && error.message.includes('referrals_one_resend')) {
    throw new PassageError('failed_precondition', 'this declined referral was already resent');
  }
  throw error;
}

export class SqlReferralRepository implements ReferralRepository {
  readonly #em: EntityManager;

  constructor(em: EntityManager) {
    this.#em = em;
  }

  async lockSubject(subjectRef: string): Promise<void> {
    await this.#em.execute("select pg_advisory_xact_lock(hashtext('referrals:' || ?))", [subjectRef]);
  }

  async recordEndedGrants(consentId: string, scopeIds: readonly string[] | 'all'): Promise<void> {
    const ids = scopeIds === 'all' ? ['*'] : scopeIds;
    if (ids.length === 0) return;
    await this.#em.execute(
      `insert into referrals.ended_grants (consent_id, scope_id) values ${ids.map(() => '(?, ?)').join(', ')} on conflict do nothing`,
      ids.flatMap((id) => [consentId, id]),
    );
  }

  async withoutEndedGrants(grants: readonly ConsentGrant[]): Promise<ConsentGrant[]> {
    if (grants.length === 0) return [];
    const ended = await this.#em.execute<{ consent_id: string; scope_id: string }[]>(
      `select consent_id, scope_id from referrals.ended_grants where consent_id in (${grants.map(() => '?').join(', ')})`,
      grants.map((g) => g.consentId),
    );
    return grants.filter(
      (g) => !ended.some((e) => e.consent_id === g.consentId && (e.scope_id === '*' || e.scope_id === g.scopeId)),
    );
  }

  async link(referralId: string, linkedReferralId: string, linkedAgency: string): Promise<boolean> {
    const updated = await this.#em.execute<{ id: string }[]>(
      `update referrals.referrals set linked_referral_id = ?, linked_agency = ?
       where id = ? and linked_referral_id is null returning id`,
      [linkedReferralId, linkedAgency, referralId],
    );
    return updated.length === 1;
  }

  async setGrants(referralId: string, grants: readonly ConsentGrant[]): Promise<void> {
    await this.#em.execute('update referrals.referrals set grants = ?::jsonb where id = ?', [
      JSON.stringify(grants),
      referralId,
    ]);
  }

  async get(id: string): Promise<Referral | undefined> {
    const [row] = await this.#em.execute<ReferralRow[]>(
      `select ${referralColumns} from referrals.referrals where id = ?`,
      [id],
    );
    return row ? toReferral(row) : undefined;
  }

  async update(referral: Referral, expectedVersion: number): Promise<boolean> {
    const [, , , , , ...rest] = referralValues(referral);
    const updated = await this.#em.execute<{ id: string }[]>(
      `update referrals.referrals set state = ?, version = ?, needs = ?::jsonb, language = ?, interpreter_needed = ?,
         do_not_contact = ?, categories = ?::jsonb, grants = ?::jsonb, previous_referral_id = ?, sent_by = ?::jsonb,
         sent_at = ?, acknowledged_at = ?, accepted_at = ?, contact_at = ?, closed_at = ?, declined_at = ?, withdrawn_at = ?,
         acknowledge_due_at = ?, accept_due_at = ?, reason = ?, suggested_agency = ?, contact_method = ?, escalated = ?,
         linked_referral_id = ?, linked_agency = ?, clock_starts_at = ?
       where id = ? and version = ? returning id`,
      [...rest, referral.id, expectedVersion],
    );
    return updated.length === 1;
  }

  async appendTransition(referralId: string, t: Transition): Promise<void> {
    await this.#em.execute(
      'insert into referrals.transitions (referral_id, from_state, to_state, event, actor, at, reason) values (?, ?, ?, ?, ?::jsonb, ?, ?)',
      [referralId, t.from, t.to, t.event, JSON.stringify(t.actor), t.at, t.reason],
    );
  }

  async timeline(referralId: string): Promise<Transition[]> {
    const rows = await this.#em.execute<
      {
        from_state: State | '';
        to_state: State;
        event: Transition['event'];
        actor: Actor;
        at: Date | string;
        reason: string;
      }[]
    >(
      'select from_state, to_state, event, actor, at, reason from referrals.transitions where referral_id = ? order by seq',
      [referralId],
    );
    return rows.map((r) => ({
      from: r.from_state,
      to: r.to_state,
      event: r.event,
      actor: r.actor,
      at: new Date(r.at),
      reason: r.reason,
    }));
  }

  async list(query: ListQuery): Promise<Referral[]> {
    const agencyColumn = query.side === 'inbox' ? 'to_agency' : 'from_agency';
    const stateFilter = query.states.length > 0 ? `and state in (${query.states.map(() => '?').join(', ')})` : '';
    const rows = await this.#em.execute<ReferralRow[]>(
      `select ${referralColumns} from referrals.referrals where ${agencyColumn} = ? ${stateFilter}
       order by (priority = 'urgent') desc, acknowledge_due_at, id limit ? offset ?`,
      [query.agencyId, ...query.states, query.limit, query.offset],
    );
    return rows.map(toReferral);
  }

  async packet(referralId: string): Promise<SealedSection[]> {
    const rows = await this.#em.execute<{ category: DataCategory; sealed: Buffer }[]>(
      'select category, sealed from referrals.packets where referral_id = ? order by category',
      [referralId],
    );
    return rows;
  }

  async setNote(referralId: string, sealed: Buffer): Promise<void> {
    await this.#em.execute('update referrals.referrals set note = ? where id = ?', [sealed, referralId]);
  }

  async note(referralId: string): Promise<Buffer | undefined> {
    const [row] = await this.#em.execute<{ note: Buffer | null }[]>(
      'select note from referrals.referrals where id = ?',
      [referralId],
    );
    return row?.note ?? undefined;
  }

  async openCitingConsent(consentId: string): Promise<Referral[]> {
    const rows = await this.#em.execute<ReferralRow[]>(
      `select ${referralColumns} from referrals.referrals
       where grants @> ?::jsonb and state in ('sent', 'acknowledged', 'accepted', 'in_contact') for update`,
      [JSON.stringify([{ consentId }])],
    );
    return rows.map(toReferral);
  }

  async openForSubject(subjectRef: string): Promise<Referral[]> {
    const rows = await this.#em.execute<ReferralRow[]>(
      `select ${referralColumns} from referrals.referrals
       where subject_ref = ? and state in ('sent', 'acknowledged', 'accepted', 'in_contact') for update`,
      [subjectRef],
    );
    return rows.map(toReferral);
  }

  async dropSubjectData(subjectRef: string): Promise<void> {
    await this.#em.execute(
      'delete from referrals.packets where referral_id in (select id from referrals.referrals where subject_ref = ?)',
      [subjectRef],
    );
    await this.#em.execute('update referrals.referrals set note = null where subject_ref = ?', [subjectRef]);
  }
}

export class SqlIdempotencyStore implements IdempotencyStore {
  readonly #em: EntityManager;

  constructor(em: EntityManager) {
    this.#em = em;
  }

  async find(agencyId: string, key: string): Promise<IdempotencyRecord | undefined> {
    const [row] = await this.#em.execute<{ command: string; request_hash: string; result: Record<string, unknown> }[]>(
      'select command, request_hash, result from referrals.idempotency_keys where agency_id = ? and key = ?',
      [agencyId, key],
    );
    return row
      ? { command: row.command, requestHash: row.request_hash, referral: referralFromJson(row.result) }
      : undefined;
  }

  async save(agencyId: string, key: string, record: IdempotencyRecord): Promise<boolean> {
    const inserted = await this.#em.execute<{ key: string }[]>(
      `insert into referrals.idempotency_keys (agency_id, key, command, request_hash, result) values (?, ?, ?, ?, ?::jsonb)
       on conflict do nothing returning key`,
      [agencyId, key, record.command, record.requestHash, JSON.stringify(record.referral)],
    );
    return inserted.length === 1;
  }
}
