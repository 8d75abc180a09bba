import type pg from 'pg';
import type { Topology } from '@passage/events';
import type { ConsentGrant } from '../../domain/referral.ts';
import type { IdempotencyRecord, SendOutcome, SendRecord, SendStorage, SendTransaction, Vault } from '../../app/ports.ts';
import { referralFromJson, refuseSecondResend } from './referral-repository.ts';
import { findIdempotencyKey, lockAndNumber, recordSend, recordSendValues } from './send-statements.ts';

/**
 * The hot path of the network on a pool of its own (docs/adr/0049-send-on-prepared-statements.md):
 * named prepared statements through `pg`, planned once per connection, no query building or
 * client-side formatting. Same tables, same transaction rules as the rest of the service.
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
    let broken: unknown;
    try {
      await client.query('begin');
      const result = await work(new PgSendTransaction(client, this.#vault(), this.#topology));
      await client.query('commit');
      return result;
    } catch (error) {
      // A rollback on a lost connection fails too; that connection is then not reused.
      await client.query('rollback').catch((lost: unknown) => (broken = lost));
      throw error;
    } finally {
      client.release(broken instanceof Error ? broken : undefined);
    }
  }

  close(): Promise<void> {
    return this.#pool.end();
  }
}

class PgSendTransaction implements SendTransaction {
  readonly #client: pg.PoolClient;
  readonly #topology: Topology;
  readonly vault: Vault;

  constructor(client: pg.PoolClient, vault: Vault, topology: Topology) {
    this.#client = client;
    this.vault = vault;
    this.#topology = topology;
  }

  async lockAndNumber(subjectRef: string): Promise<number> {
    const { rows } = await this.#client.query<{ n: string }>({ ...lockAndNumber, values: [subjectRef] });
    return Number(rows[0]!.n);
  }

  async record(send: SendRecord): Promise<SendOutcome> {
    if (send.referral.grants.length === 0 || send.packet.length === 0) return 'grants_ended';
    const { rows } = await this.#client
      .query<{ ended: boolean; inserted: boolean }>({ ...recordSend, values: recordSendValues(send, this.#topology) })
      .catch(refuseSecondResend);
    const [row] = rows;
    if (row?.ended) return 'grants_ended';
    return row?.inserted ? 'sent' : 'key_taken';
  }

  async withoutEndedGrants(grants: readonly ConsentGrant[]): Promise<ConsentGrant[]> {
    if (grants.length === 0) return [];
    const { rows: ended } = await this.#client.query<{ consent_id: string; scope_id: string }>(
      'select consent_id, scope_id from referrals.ended_grants where consent_id = any($1::uuid[])',
      [grants.map((g) => g.consentId)],
    );
    return grants.filter(
      (g) => !ended.some((e) => e.consent_id === g.consentId && (e.scope_id === '*' || e.scope_id === g.scopeId)),
    );
  }

  async link(referralId: string, linkedReferralId: string, linkedAgency: string): Promise<boolean> {
    const { rowCount } = await this.#client.query(
      `update referrals.referrals set linked_referral_id = $1, linked_agency = $2
       where id = $3 and linked_referral_id is null`,
      [linkedReferralId, linkedAgency, referralId],
    );
    return rowCount === 1;
  }
}
