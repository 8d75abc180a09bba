import type { EntityManager } from '@passage/platform';
import { erasedRequestHash } from '../../domain/idempotency.ts';
import {
  scopeFromJson,
  type Actor,
  type CaptureMethod,
  type Change,
  type ChangeKind,
  type ConsentRecord,
  type ConsentScope,
} from '../../domain/consent.ts';
import type { ConsentRepository, IdempotencyRecord, IdempotencyStore, SealedFields } from '../../app/ports.ts';

export const consentSchema = 'consent';

export interface ConsentRow {
  id: string;
  subject_ref: string;
  captured_by: Actor;
  method: CaptureMethod;
  interpreter_language: string;
  language: string;
  granted_at: Date | string;
  expires_at: Date | string;
  revoked_at: Date | string | null;
  scopes: unknown[];
}

export const columns =
  'id, subject_ref, captured_by, method, interpreter_language, language, granted_at, expires_at, revoked_at, scopes';

export function toRecord(row: ConsentRow): ConsentRecord {
  return {
    id: row.id,
    subjectRef: row.subject_ref,
    capturedBy: row.captured_by,
    method: row.method,
    interpreterLanguage: row.interpreter_language,
    language: row.language,
    grantedAt: new Date(row.granted_at),
    expiresAt: new Date(row.expires_at),
    revokedAt: row.revoked_at ? new Date(row.revoked_at) : undefined,
    scopes: row.scopes.map(scopeFromJson),
  };
}

/** Consent rows in the consent schema, through the caller's EntityManager (and its transaction). */
export class SqlConsentRepository implements ConsentRepository {
  readonly #em: EntityManager;

  constructor(em: EntityManager) {
    this.#em = em;
  }

  async lockSubject(subjectRef: string): Promise<void> {
    await this.#em.execute("select pg_advisory_xact_lock(hashtext('consent:' || ?))", [subjectRef]);
  }

  async bySubject(subjectRef: string): Promise<ConsentRecord[]> {
    const rows = await this.#em.execute<ConsentRow[]>(
      `select ${columns} from consent.consents where subject_ref = ? order by granted_at, id`,
      [subjectRef],
    );
    return rows.map(toRecord);
  }

  async get(consentId: string, forUpdate = false): Promise<ConsentRecord | undefined> {
    const [row] = await this.#em.execute<ConsentRow[]>(
      `select ${columns} from consent.consents where id = ?${forUpdate ? ' for update' : ''}`,
      [consentId],
    );
    return row ? toRecord(row) : undefined;
  }

  async insert(record: ConsentRecord, sealed: SealedFields): Promise<void> {
    await this.#em.execute(
      `insert into consent.consents (${columns}, receipt_name, notes) values (?, ?, ?::jsonb, ?, ?, ?, ?, ?, ?, ?::jsonb, ?, ?)`,
      [
        record.id,
        record.subjectRef,
        JSON.stringify(record.capturedBy),
        record.method,
        record.interpreterLanguage,
        record.language,
        record.grantedAt,
        record.expiresAt,
        record.revokedAt ?? null,
        JSON.stringify(record.scopes),
        sealed.receiptName ?? null,
        sealed.notes ?? null,
      ],
    );
  }

  async sealedFields(consentId: string): Promise<SealedFields> {
    const [row] = await this.#em.execute<{ receipt_name: Buffer | null; notes: Buffer | null }[]>(
      'select receipt_name, notes from consent.consents where id = ?',
      [consentId],
    );
    return { receiptName: row?.receipt_name ?? undefined, notes: row?.notes ?? undefined };
  }

  async saveRevocation(consentId: string, scopeIds: readonly string[], whole: boolean, at: Date): Promise<void> {
    const consent = await this.get(consentId);
    if (!consent) return;
    const scopes = consent.scopes.map((s) => (scopeIds.includes(s.id) && !s.revokedAt ? { ...s, revokedAt: at } : s));
    await this.#em.execute(
      'update consent.consents set scopes = ?::jsonb, revoked_at = coalesce(revoked_at, ?) where id = ?',
      [JSON.stringify(scopes), whole ? at : null, consentId],
    );
  }

  async addScopes(consentId: string, scopes: readonly ConsentScope[]): Promise<void> {
    await this.#em.execute('update consent.consents set scopes = scopes || ?::jsonb where id = ?', [
      JSON.stringify(scopes),
      consentId,
    ]);
  }

  async confirmScope(consentId: string, scopeId: string, actor: Actor, at: Date): Promise<void> {
    const consent = await this.get(consentId);
    if (!consent) return;
    const scopes = consent.scopes.map((s) =>
      s.id === scopeId && !s.confirmedAt ? { ...s, confirmedAt: at, confirmedBy: actor } : s,
    );
    await this.#em.execute('update consent.consents set scopes = ?::jsonb where id = ?', [
      JSON.stringify(scopes),
      consentId,
    ]);
  }

  async closeSubject(subjectRef: string, at: Date): Promise<string[]> {
    const rows = await this.#em.execute<{ id: string }[]>(
      `update consent.consents set revoked_at = coalesce(revoked_at, ?), receipt_name = null, notes = null
       where subject_ref = ? returning id`,
      [at, subjectRef],
    );
    return rows.map((r) => r.id);
  }

  async appendChange(subjectRef: string, change: Change): Promise<void> {
    await this.#em.execute(
      'insert into consent.changes (subject_ref, consent_id, change, scope_ids, actor, at, reason) values (?, ?, ?, ?::jsonb, ?::jsonb, ?, ?)',
      [
        subjectRef,
        change.consentId || null,
        change.change,
        JSON.stringify(change.scopeIds),
        JSON.stringify(change.actor),
        change.at,
        change.reason,
      ],
    );
  }

  async changes(subjectRef: string): Promise<Change[]> {
    const rows = await this.#em.execute<
      {
        consent_id: string | null;
        change: ChangeKind;
        scope_ids: string[];
        actor: Actor;
        at: Date | string;
        reason: string;
      }[]
    >(
      'select consent_id, change, scope_ids, actor, at, reason from consent.changes where subject_ref = ? order by seq',
      [subjectRef],
    );
    return rows.map((r) => ({
      change: r.change,
      consentId: r.consent_id ?? '',
      scopeIds: r.scope_ids,
      actor: r.actor,
      at: new Date(r.at),
      reason: r.reason,
    }));
  }

  async erasure(subjectRef: string): Promise<{ actor: Actor; at: Date } | undefined> {
    const [row] = await this.#em.execute<{ actor: Actor; erased_at: Date | string }[]>(
      'select actor, erased_at from consent.erasures where subject_ref = ?',
      [subjectRef],
    );
    return row ? { actor: row.actor, at: new Date(row.erased_at) } : undefined;
  }

  async recordErasure(subjectRef: string, actor: Actor, reason: string, at: Date): Promise<void> {
    await this.#em.execute(
      'insert into consent.erasures (subject_ref, actor, reason, erased_at) values (?, ?::jsonb, ?, ?)',
      [subjectRef, JSON.stringify(actor), reason, at],
    );
  }

  async claimExpired(now: Date, limit: number): Promise<ConsentRecord[]> {
    const rows = await this.#em.execute<ConsentRow[]>(
      `update consent.consents set expiry_published_at = ?
       where id in (
         select id from consent.consents
         where expiry_published_at is null and expires_at <= ? and revoked_at is null
         order by expires_at limit ? for update skip locked
       ) returning ${columns}`,
      [now, now, limit],
    );
    return rows.map(toRecord);
  }
}

export class SqlIdempotencyStore implements IdempotencyStore {
  readonly #em: EntityManager;

  constructor(em: EntityManager) {
    this.#em = em;
  }

  async find(agencyId: string, key: string): Promise<IdempotencyRecord | undefined> {
    const [row] = await this.#em.execute<{ command: string; request_hash: string; result: unknown }[]>(
      'select command, request_hash, result from consent.idempotency_keys where agency_id = ? and key = ?',
      [agencyId, key],
    );
    return row ? { command: row.command, requestHash: row.request_hash, result: row.result } : undefined;
  }

  async save(agencyId: string, key: string, subjectRef: string, record: IdempotencyRecord): Promise<boolean> {
    const inserted = await this.#em.execute<{ key: string }[]>(
      `insert into consent.idempotency_keys (agency_id, key, command, request_hash, subject_ref, result)
       values (?, ?, ?, ?, ?, ?::jsonb) on conflict do nothing returning key`,
      [agencyId, key, record.command, record.requestHash, subjectRef || null, JSON.stringify(record.result)],
    );
    return inserted.length === 1;
  }

  async forgetRequests(subjectRef: string): Promise<void> {
    await this.#em.execute('update consent.idempotency_keys set request_hash = ? where subject_ref = ?', [
      erasedRequestHash,
      subjectRef,
    ]);
  }
}
