import pg from 'pg';
import type { RecipientKind } from '@passage/consent-policy';
import type { EvaluationReader } from '../../app/ports.ts';
import { toRecord, type ConsentRow } from './consent-repository.ts';

/**
 * Evaluate runs on every read of a victim's data anywhere in the network, so its query is
 * a named prepared statement on a small pool of its own: planned once per connection, one
 * round trip, no ORM in between. It reads committed rows directly; there is no cache that
 * could serve an allow after a revocation.
 */
export class PgEvaluationReader implements EvaluationReader {
  readonly #pool: pg.Pool;

  /** A pool of its own (platform's databasePool, so a lost connection never ends the process). */
  constructor(pool: pg.Pool) {
    this.#pool = pool;
  }

  async inputs(
    subjectRef: string,
    agencyId: string,
  ): Promise<{ consents: ReturnType<typeof toRecord>[]; kind: RecipientKind | undefined }> {
    const { rows } = await this.#pool.query<ConsentRow & { agency_kind: RecipientKind | null }>({
      name: 'consent-evaluation-inputs',
      text: `select k.kind as agency_kind, c.id, c.subject_ref, c.captured_by, c.method, c.interpreter_language, c.language,
                    c.granted_at, c.expires_at, c.revoked_at, c.scopes
             from (select $1::text as agency_id) a
             left join consent.agencies k on k.agency_id = a.agency_id
             left join consent.consents c on c.subject_ref = $2::uuid`,
      values: [agencyId, subjectRef],
    });
    return { kind: rows[0]?.agency_kind ?? undefined, consents: rows.filter((r) => r.id !== null).map(toRecord) };
  }

  close(): Promise<void> {
    return this.#pool.end();
  }
}
