import type pg from 'pg';
import type { Topology } from '@passage/events';
import type { ConsentGrant } from '../../domain/referral.ts';
import type {
  IdempotencyRecord,
  SendOutcome,
  SendRecord,
  SendStorage,
  SendTransaction,
  Vault,
} from '../../app/ports.ts';
import { referralFromJson, refuseSecondResend } from './referral-repository.ts';
import { beginAndLock, findIdempotencyKey, recordSend, recordSendValues } from './send-statements.ts';

/**
 * The hot path of the network on a pool of its own (docs/adr/0049-send-on-prepared-statements.md),
 * straight through `pg`, no ORM: the idempotency look-up as a named statement, the transaction
 * in two round trips (send-statements.ts). Same tables, same transaction rules as the rest of
 * the service.
 */
export class PgSendStorage implements SendStorage {
  readonly #pool: pg.Pool;
  readonly #vault: () => Vault;
  readonly #topology: Topology;

  /** `pool`: platform's databasePool on the service's own login. */
  constructor(pool: pg.Pool, vault: () => Vault, topology: Topology) {
    this.#pool = pool;
    this.#vault = vault;
    this.#topology = topology;
  }

  async findKey(agencyId: string, key: string): Promise<IdempotencyRecord | undefined> {
    const { rows } = await this.#pool.query<{
      command: string;
      request_hash: string;
      result: Record<string, unknown>;
    }>({ ...findIdempotencyKey, values: [agencyId, key] });
    const [row] = rows;
    return row
      ? { command: row.command, requestHash: row.request_hash, referral: referralFromJson(row.result) }
      : undefined;
  }

  async transaction<T>(work: (tx: SendTransaction) => Promise<T>): Promise<T> {
    const client = await this.#pool.connect();
    const tx = new PgSendTransaction(client, this.#vault(), this.#topology);
    let broken: unknown;
    try {
      const result = await work(tx);
      await tx.end();
      return result;
    } catch (error) {
      // A rollback on a lost connection fails too; that connection is then not reused.
      if (tx.open) await client.query('rollback').catch((lost: unknown) => (broken = lost));
      throw error;
    } finally {
      client.release(broken instanceof Error ? broken : undefined);
    }
  }

  close(): Promise<void> {
    return this.#pool.end();
  }
}

/** Begins with its first statement and commits with its last when it can: a round trip each. */
class PgSendTransaction implements SendTransaction {
  readonly #client: pg.PoolClient;
  readonly #topology: Topology;
  readonly vault: Vault;
  /** Begun and not yet committed. */
  open = false;

  constructor(client: pg.PoolClient, vault: Vault, topology: Topology) {
    this.#client = client;
    this.vault = vault;
    this.#topology = topology;
  }

  async lockAndNumber(subjectRef: string): Promise<number> {
    if (this.open) throw new Error('lockAndNumber opens the transaction; it comes first');
    this.open = true;
    const results = (await this.#client.query(beginAndLock(subjectRef))) as unknown as pg.QueryResult<{ n: string }>[];
    return Number(results[1]!.rows[0]!.n);
  }

  async record(send: SendRecord, andCommit: boolean): Promise<SendOutcome> {
    if (send.referral.grants.length === 0 || send.packet.length === 0) return 'grants_ended';
    this.#mustBeOpen();
    const result = await this.#client
      .query(recordSend(recordSendValues(send, this.#topology), andCommit))
      .catch(refuseSecondResend);
    if (andCommit) this.open = false;
    const [written] = (andCommit ? (result as unknown as pg.QueryResult[])[0]! : result).rows as Array<{
      scope_ended: boolean;
      key_inserted: boolean;
    }>;
    if (written?.scope_ended) return 'grants_ended';
    return written?.key_inserted ? 'sent' : 'key_taken';
  }

  async withoutEndedGrants(grants: readonly ConsentGrant[]): Promise<ConsentGrant[]> {
    if (grants.length === 0) return [];
    this.#mustBeOpen();
    const { rows: ended } = await this.#client.query<{ consent_id: string; scope_id: string }>(
      'select consent_id, scope_id from referrals.ended_grants where consent_id = any($1::uuid[])',
      [grants.map((g) => g.consentId)],
    );
    return grants.filter(
      (g) => !ended.some((e) => e.consent_id === g.consentId && (e.scope_id === '*' || e.scope_id === g.scopeId)),
    );
  }

  async link(referralId: string, linkedReferralId: string, linkedAgency: string): Promise<boolean> {
    this.#mustBeOpen();
    const { rowCount } = await this.#client.query(
      `update referrals.referrals set linked_referral_id = $1, linked_agency = $2
       where id = $3 and linked_referral_id is null`,
      [linkedReferralId, linkedAgency, referralId],
    );
    return rowCount === 1;
  }

  /** Commits what is still open (the work ended without committing with its last write). */
  async end(): Promise<void> {
    if (!this.open) return;
    await this.#client.query('commit');
    this.open = false;
  }

  #mustBeOpen(): void {
    if (!this.open) throw new Error('a Send transaction begins with lockAndNumber, and nothing follows its commit');
  }
}
