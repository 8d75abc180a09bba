import type { DataCategory } from '@passage/consent-policy';
import { PassageError, type EntityManager } from '@passage/platform';
import type { Actor, ConsentGrant, Priority, Referral, State, Transition } from '../../domain/referral.ts';
import type { MessageKind } from '../../domain/messages.ts';
import { formatReference, parseReference, receiptReference } from '@passage/vocabulary';
import type { Rank } from '../../domain/list-order.ts';
import type {
  IdempotencyRecord,
  IdempotencyStore,
  ListQuery,
  MessageRepository,
  ReferralRepository,
  SealedMessage,
  SealedSection,
  Workload,
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
  taken_over_by: string;
  taken_over_at: Timestamp;
  reference_no: string | number;
  assigned_user: string;
  assigned_at: Timestamp;
  linked_referral_id: string | null;
  linked_agency: string;
  clock_starts_at: Timestamp;
}

export const referralColumns = `id, subject_ref, from_agency, to_agency, priority, state, version, needs, language, interpreter_needed,
  do_not_contact, categories, grants, previous_referral_id, sent_by, sent_at, acknowledged_at, accepted_at, contact_at,
  closed_at, declined_at, withdrawn_at, acknowledge_due_at, accept_due_at, reason, suggested_agency, contact_method, escalated,
  taken_over_by, taken_over_at, reference_no, assigned_user, assigned_at, linked_referral_id, linked_agency, clock_starts_at`;

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
    takenOverBy: row.taken_over_by,
    takenOverAt: date(row.taken_over_at),
    reference: formatReference(Number(row.reference_no)),
    assignedUser: row.assigned_user,
    assignedAt: date(row.assigned_at),
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
    'takenOverAt',
    'assignedAt',
    'clockStartsAt',
  ];
  // A result kept before take-over existed has no takenOverBy.
  const revived: Record<string, unknown> = { takenOverBy: '', ...json };
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
    r.takenOverBy,
    r.takenOverAt ?? null,
    referenceNumber(r.reference),
    r.assignedUser,
    r.assignedAt ?? null,
    r.linkedReferralId || null,
    r.linkedAgency ?? '',
    r.clockStartsAt ?? null,
  ];
}

function referenceNumber(reference: string): number {
  const n = parseReference(reference);
  if (n === undefined) throw new Error(`referral reference "${reference}" is not one this service gives`);
  return n;
}

/** The references of the consent receipts behind a referral (kept at sending, for search). */
export function receiptRefsOf(r: Referral): string[] {
  return [...new Set(r.grants.map((g) => receiptReference(g.consentId)))];
}

/** referralColumns of the table named r. */
const qualifiedColumns = referralColumns.replace(/(^|,\s*)([a-z_]+)/g, '$1r.$2');

/**
 * The rank of listRank (domain/list-order.ts) in SQL, for the agency bound to both `?`:
 * received and waiting (escalated 0, urgent 1, other 2), sent and declined with no resend 0, else 3.
 */
const rankSql = `case
    when coalesce(nullif(r.taken_over_by, ''), r.to_agency) = ? then case when r.state in ('sent', 'acknowledged')
      then case when r.escalated then 0 when r.priority = 'urgent' then 1 else 2 end else 3 end
    when r.state = 'declined' and r.from_agency = ?
      and not exists (select 1 from referrals.referrals n where n.previous_referral_id = r.id) then 0
    else 3 end`;

/** The unique index that allows one resend per declined referral, as the error a caller can act on. */
/**
 * The person's lock, held to the end of the transaction: every Send and consent change of one
 * subject takes it (`subject`: the SQL of the subject id — a placeholder or a literal).
 */
export function subjectLock(subject: string): string {
  return `pg_advisory_xact_lock(hashtext('referrals:' || ${subject}))`;
}

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
    await this.#em.execute(`select ${subjectLock('?')}`, [subjectRef]);
  }

  async recordEndedGrants(consentId: string, scopeIds: readonly string[] | 'all'): Promise<void> {
    const ids = scopeIds === 'all' ? ['*'] : scopeIds;
    if (ids.length === 0) return;
    await this.#em.execute(
      `insert into referrals.ended_grants (consent_id, scope_id) values ${ids.map(() => '(?, ?)').join(', ')} on conflict do nothing`,
      ids.flatMap((id) => [consentId, id]),
    );
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
         taken_over_by = ?, taken_over_at = ?, reference_no = ?, assigned_user = ?, assigned_at = ?, linked_referral_id = ?, linked_agency = ?, clock_starts_at = ?
       where id = ? and version = ? returning id`,
      [...rest, referral.id, expectedVersion],
    );
    return updated.length === 1;
  }

  async appendTransition(referralId: string, t: Transition): Promise<void> {
    await this.#em.execute(
      `insert into referrals.transitions (referral_id, from_state, to_state, event, actor, at, reason, assigned_user)
       values (?, ?, ?, ?, ?::jsonb, ?, ?, ?)`,
      [referralId, t.from, t.to, t.event, JSON.stringify(t.actor), t.at, t.reason, t.assignedUser ?? null],
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
        assigned_user: string | null;
      }[]
    >(
      'select from_state, to_state, event, actor, at, reason, assigned_user from referrals.transitions where referral_id = ? order by seq',
      [referralId],
    );
    return rows.map((r) => ({
      from: r.from_state,
      to: r.to_state,
      event: r.event,
      actor: r.actor,
      at: new Date(r.at),
      reason: r.reason,
      ...(r.assigned_user !== null ? { assignedUser: r.assigned_user } : {}),
    }));
  }

  async list(query: ListQuery): Promise<Array<{ referral: Referral; rank: Rank }>> {
    const where: string[] = [];
    const params: unknown[] = [query.agencyId, query.agencyId];
    // An inbox holds what the agency received and what it took over (the crisis line).
    if (query.side === 'inbox') where.push('(r.to_agency = ? or r.taken_over_by = ?)');
    else if (query.side === 'outbox') where.push('r.from_agency = ?');
    else where.push('(r.to_agency = ? or r.from_agency = ? or r.taken_over_by = ?)');
    params.push(query.agencyId);
    if (query.side !== 'outbox') params.push(query.agencyId);
    if (query.side === 'both') params.push(query.agencyId);
    if (query.states.length > 0) {
      where.push(`r.state in (${query.states.map(() => '?').join(', ')})`);
      params.push(...query.states);
    }
    if (query.referenceNumber !== undefined) {
      where.push('r.reference_no = ?');
      params.push(query.referenceNumber);
    }
    if (query.receiptReference !== undefined) {
      where.push('r.receipt_refs @> array[?]::text[]');
      params.push(query.receiptReference);
    }
    if (query.sentFrom) {
      where.push('r.sent_at >= ?');
      params.push(query.sentFrom);
    }
    if (query.sentTo) {
      where.push('r.sent_at < ?');
      params.push(query.sentTo);
    }
    if (query.assignedTo !== undefined) {
      where.push(`coalesce(nullif(r.taken_over_by, ''), r.to_agency) = ? and r.assigned_user = ?`);
      params.push(query.agencyId, query.assignedTo);
    }
    let after = '';
    if (query.after) {
      // Keyset: past the last row of the previous page in (rank, sent_at desc, id desc).
      after = `where x.rank > ? or (x.rank = ? and (x.sent_at, x.id) <
        (select c.sent_at, c.id from referrals.referrals c where c.id = ?))`;
      params.push(query.after.rank, query.after.rank, query.after.id);
    }
    params.push(query.limit);
    const rows = await this.#em.execute<Array<ReferralRow & { rank: number }>>(
      `select * from (
         select ${qualifiedColumns}, ${rankSql} as rank
         from referrals.referrals r where ${where.join(' and ')}
       ) x ${after}
       order by x.rank, x.sent_at desc, x.id desc limit ?`,
      params,
    );
    return rows.map((row) => ({ referral: toReferral(row), rank: row.rank as Rank }));
  }

  async caseload(agencyId: string): Promise<{ workloads: Workload[]; unassigned: number }> {
    const rows = await this.#em.execute<
      { assigned_user: string; open: string; needs_action: string; urgent: string; escalated: string }[]
    >(
      `select assigned_user, count(*) as open,
              count(*) filter (where state in ('sent', 'acknowledged')) as needs_action,
              count(*) filter (where priority = 'urgent') as urgent,
              count(*) filter (where escalated) as escalated
         from referrals.referrals
        where coalesce(nullif(taken_over_by, ''), to_agency) = ? and state in ('sent', 'acknowledged', 'accepted', 'in_contact')
        group by assigned_user
        order by count(*) desc, assigned_user`,
      [agencyId],
    );
    const workloads = rows
      .filter((r) => r.assigned_user !== '')
      .map((r) => ({
        userId: r.assigned_user,
        open: Number(r.open),
        needsAction: Number(r.needs_action),
        urgent: Number(r.urgent),
        escalated: Number(r.escalated),
      }));
    return { workloads, unassigned: Number(rows.find((r) => r.assigned_user === '')?.open ?? 0) };
  }

  async packet(referralId: string): Promise<SealedSection[]> {
    const rows = await this.#em.execute<{ category: DataCategory; sealed: Buffer }[]>(
      'select category, sealed from referrals.packets where referral_id = ? order by category',
      [referralId],
    );
    return rows;
  }

  async setNote(referralId: string, sealed: Buffer, agencyId: string): Promise<void> {
    await this.#em.execute('update referrals.referrals set note = ?, note_agency = ? where id = ?', [
      sealed,
      agencyId,
      referralId,
    ]);
  }

  async note(referralId: string): Promise<{ sealed: Buffer; agencyId: string } | undefined> {
    const [row] = await this.#em.execute<{ note: Buffer | null; note_agency: string | null }[]>(
      'select note, note_agency from referrals.referrals where id = ?',
      [referralId],
    );
    return row?.note ? { sealed: row.note, agencyId: row.note_agency ?? '' } : undefined;
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
    await this.#em.execute(
      'update referrals.messages set sealed = null where referral_id in (select id from referrals.referrals where subject_ref = ?)',
      [subjectRef],
    );
  }
}

interface MessageRow {
  id: string;
  referral_id: string;
  author_agency: string;
  author_user: string;
  author_role: string;
  kind: MessageKind;
  posted_at: Date | string;
  sealed: Buffer | null;
  request_hash: string;
}

const messageColumns =
  'id, referral_id, author_agency, author_user, author_role, kind, posted_at, sealed, request_hash';

function toSealedMessage(row: MessageRow): SealedMessage {
  return {
    message: {
      id: row.id,
      referralId: row.referral_id,
      author: { agencyId: row.author_agency, userId: row.author_user, role: row.author_role },
      postedAt: new Date(row.posted_at),
      kind: row.kind,
    },
    sealed: row.sealed,
  };
}

export class SqlMessageRepository implements MessageRepository {
  readonly #em: EntityManager;

  constructor(em: EntityManager) {
    this.#em = em;
  }

  async insert(
    record: SealedMessage & { readonly idempotencyKey: string; readonly requestHash: string },
  ): Promise<boolean> {
    const { message } = record;
    const inserted = await this.#em.execute<{ id: string }[]>(
      `insert into referrals.messages
         (id, referral_id, author_agency, author_user, author_role, kind, posted_at, sealed, idempotency_key, request_hash)
       values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) on conflict (author_agency, idempotency_key) do nothing returning id`,
      [
        message.id,
        message.referralId,
        message.author.agencyId,
        message.author.userId,
        message.author.role,
        message.kind,
        message.postedAt,
        record.sealed,
        record.idempotencyKey,
        record.requestHash,
      ],
    );
    return inserted.length === 1;
  }

  async byKey(agencyId: string, key: string): Promise<(SealedMessage & { readonly requestHash: string }) | undefined> {
    const [row] = await this.#em.execute<MessageRow[]>(
      `select ${messageColumns} from referrals.messages where author_agency = ? and idempotency_key = ?`,
      [agencyId, key],
    );
    return row ? { ...toSealedMessage(row), requestHash: row.request_hash } : undefined;
  }

  async thread(referralId: string): Promise<SealedMessage[]> {
    const rows = await this.#em.execute<MessageRow[]>(
      `select ${messageColumns} from referrals.messages where referral_id = ? order by posted_at, id`,
      [referralId],
    );
    return rows.map(toSealedMessage);
  }

  async count(referralId: string): Promise<number> {
    const [row] = await this.#em.execute<{ n: number }[]>(
      'select count(*)::int as n from referrals.messages where referral_id = ?',
      [referralId],
    );
    return row!.n;
  }

  async sealedDataDestroyed(referralId: string): Promise<boolean> {
    const [row] = await this.#em.execute<{ destroyed: boolean }[]>(
      'select packet_destroyed_at is not null as destroyed from referrals.referrals where id = ?',
      [referralId],
    );
    return row?.destroyed ?? false;
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
