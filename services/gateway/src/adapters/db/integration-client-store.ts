import type { Topology } from '@passage/events';
import type { EntityManager, MikroORM } from '@passage/platform';
import type {
  CallAudit,
  ClientRecord,
  ClientStore,
  ClientTransaction,
  NewCredential,
  TokenAudit,
  TokenHolder,
  UsableCredential,
} from '../../app/integration-clients.ts';
import type { AdminAudit } from '../../app/people.ts';
import type { AuthMethod, KeyAlgorithm } from '../../domain/integration-clients.ts';
import { enqueueAdminAction, enqueueClientCall, enqueueClientToken } from './audit-events.ts';

interface ClientRow {
  client_id: string;
  agency_id: string;
  name: string;
  auth_method: AuthMethod;
  created_by: string;
  created_at: Date | string;
  rotated_at: Date | string | null;
  revoked_at: Date | string | null;
  revoked_by: string;
  key_thumbprint: string | null;
  key_algorithm: string | null;
  previous_valid_until: Date | string | null;
}

// Each client with its current credential's key, and until when a rotated-out one still works.
const selectClients = `select c.*,
    (select k.key_thumbprint from gateway.integration_client_credentials k
      where k.client_id = c.client_id and k.valid_until is null) as key_thumbprint,
    (select k.key_algorithm from gateway.integration_client_credentials k
      where k.client_id = c.client_id and k.valid_until is null) as key_algorithm,
    (select max(k.valid_until) from gateway.integration_client_credentials k
      where k.client_id = c.client_id and k.valid_until > ?) as previous_valid_until
  from gateway.integration_clients c`;

// The ORM's raw queries may answer times as text.
const time = (value: Date | string | null): Date | undefined => (value === null ? undefined : new Date(value));

const clientOf = (row: ClientRow): ClientRecord => ({
  clientId: row.client_id,
  agencyId: row.agency_id,
  name: row.name,
  authMethod: row.auth_method,
  keyThumbprint: row.key_thumbprint ?? '',
  keyAlgorithm: row.key_algorithm ?? '',
  createdBy: row.created_by,
  createdAt: new Date(row.created_at),
  rotatedAt: time(row.rotated_at),
  previousValidUntil: time(row.previous_valid_until),
  revokedAt: time(row.revoked_at),
  revokedBy: row.revoked_by,
});

/**
 * Integration clients in the gateway's schema (ADR 45): each change in one transaction with its
 * audit event in the outbox, relayed to the bus.
 */
export class PgIntegrationClientStore implements ClientStore {
  readonly #orm: MikroORM;
  readonly #topology: Topology;

  constructor(orm: MikroORM, topology: Topology) {
    this.#orm = orm;
    this.#topology = topology;
  }

  async client(clientId: string, now: Date): Promise<ClientRecord | undefined> {
    const [row] = await this.#orm.em
      .fork()
      .execute<ClientRow[]>(`${selectClients} where c.client_id = ?`, [now.toISOString(), clientId]);
    return row ? clientOf(row) : undefined;
  }

  async list(agencyId: string | undefined, includeRevoked: boolean, now: Date): Promise<ClientRecord[]> {
    const rows = await this.#orm.em.fork().execute<ClientRow[]>(
      `${selectClients} where (?::text is null or c.agency_id = ?) and (? or c.revoked_at is null)
        order by c.agency_id, c.client_id limit 1000`,
      [now.toISOString(), agencyId ?? null, agencyId ?? null, includeRevoked],
    );
    return rows.map(clientOf);
  }

  async usableCredentials(clientId: string, now: Date): Promise<UsableCredential[]> {
    const rows = await this.#orm.em.fork().execute<
      {
        credential_id: string;
        secret_hash: Buffer | null;
        public_jwk: Record<string, string> | string | null;
        key_algorithm: KeyAlgorithm | '';
      }[]
    >(
      `select credential_id, secret_hash, public_jwk, key_algorithm from gateway.integration_client_credentials
        where client_id = ? and (valid_until is null or valid_until > ?) order by created_at desc`,
      [clientId, now.toISOString()],
    );
    return rows.map((row) => ({
      credentialId: row.credential_id,
      secretHash: row.secret_hash ?? undefined,
      publicJwk:
        row.public_jwk === null
          ? undefined
          : typeof row.public_jwk === 'string'
            ? (JSON.parse(row.public_jwk) as Record<string, string>)
            : row.public_jwk,
      keyAlgorithm: row.key_algorithm === 'ES256' || row.key_algorithm === 'RS256' ? row.key_algorithm : undefined,
    }));
  }

  async token(tokenHash: Buffer, now: Date): Promise<TokenHolder | undefined> {
    const [row] = await this.#orm.em.fork().execute<{ client_id: string; agency_id: string; live: boolean }[]>(
      `select t.client_id, c.agency_id,
          (t.expires_at > ? and c.revoked_at is null and (k.valid_until is null or k.valid_until > ?)) as live
        from gateway.integration_client_tokens t
        join gateway.integration_clients c on c.client_id = t.client_id
        join gateway.integration_client_credentials k on k.credential_id = t.credential_id
        where t.token_hash = ?`,
      [now.toISOString(), now.toISOString(), tokenHash],
    );
    return row ? { clientId: row.client_id, agencyId: row.agency_id, live: row.live } : undefined;
  }

  transaction<T>(work: (tx: ClientTransaction) => Promise<T>): Promise<T> {
    return this.#orm.em.fork().transactional((em) => work(new PgClientTransaction(em, this.#topology)));
  }

  async recordCall(audit: CallAudit): Promise<void> {
    await this.#orm.em.fork().transactional((em) => enqueueClientCall(em, this.#topology, audit));
  }
}

class PgClientTransaction implements ClientTransaction {
  readonly #em: EntityManager;
  readonly #topology: Topology;

  constructor(em: EntityManager, topology: Topology) {
    this.#em = em;
    this.#topology = topology;
  }

  async lock(clientId: string, now: Date): Promise<ClientRecord | undefined> {
    await this.#em.execute('select 1 from gateway.integration_clients where client_id = ? for update', [clientId]);
    const [row] = await this.#em.execute<ClientRow[]>(`${selectClients} where c.client_id = ?`, [
      now.toISOString(),
      clientId,
    ]);
    return row ? clientOf(row) : undefined;
  }

  async insert(
    client: Pick<ClientRecord, 'clientId' | 'agencyId' | 'name' | 'authMethod' | 'createdBy'>,
    credential: NewCredential,
    now: Date,
  ): Promise<void> {
    await this.#em.execute(
      `insert into gateway.integration_clients (client_id, agency_id, name, auth_method, created_by, created_at)
        values (?, ?, ?, ?, ?, ?)`,
      [client.clientId, client.agencyId, client.name, client.authMethod, client.createdBy, now.toISOString()],
    );
    await this.#addCredential(client.clientId, credential, now);
  }

  async rotate(clientId: string, credential: NewCredential, previousUntil: Date, now: Date): Promise<void> {
    await this.#em.execute(
      `update gateway.integration_client_credentials set valid_until = least(coalesce(valid_until, ?), ?)
        where client_id = ? and (valid_until is null or valid_until > ?)`,
      [previousUntil.toISOString(), previousUntil.toISOString(), clientId, now.toISOString()],
    );
    await this.#em.execute('update gateway.integration_clients set rotated_at = ? where client_id = ?', [
      now.toISOString(),
      clientId,
    ]);
    await this.#addCredential(clientId, credential, now);
  }

  async revoke(clientId: string, by: string, now: Date): Promise<number> {
    await this.#em.execute(
      'update gateway.integration_clients set revoked_at = ?, revoked_by = ? where client_id = ?',
      [now.toISOString(), by, clientId],
    );
    // Every token goes; those that still worked (unexpired, of a credential still in force) are counted.
    const [ended] = await this.#em.execute<{ n: number }[]>(
      `with ended as (
         delete from gateway.integration_client_tokens where client_id = ? returning expires_at, credential_id
       )
       select count(*)::int as n from ended e
         join gateway.integration_client_credentials k on k.credential_id = e.credential_id
         where e.expires_at > ? and (k.valid_until is null or k.valid_until > ?)`,
      [clientId, now.toISOString(), now.toISOString()],
    );
    return ended?.n ?? 0;
  }

  async spendJti(clientId: string, jti: string, until: Date, now: Date): Promise<boolean> {
    await this.#em.execute('delete from gateway.integration_client_assertions where client_id = ? and expires_at < ?', [
      clientId,
      now.toISOString(),
    ]);
    const spent = await this.#em.execute<{ jti: string }[]>(
      `insert into gateway.integration_client_assertions (client_id, jti, expires_at) values (?, ?, ?)
        on conflict do nothing returning jti`,
      [clientId, jti, until.toISOString()],
    );
    return spent.length === 1;
  }

  async insertToken(tokenHash: Buffer, clientId: string, credentialId: string, expiresAt: Date, now: Date) {
    // The client's expired tokens go as it gets a new one: the table holds about one live token per client.
    await this.#em.execute('delete from gateway.integration_client_tokens where client_id = ? and expires_at < ?', [
      clientId,
      now.toISOString(),
    ]);
    await this.#em.execute(
      `insert into gateway.integration_client_tokens (token_hash, client_id, credential_id, created_at, expires_at)
        values (?, ?, ?, ?, ?)`,
      [tokenHash, clientId, credentialId, now.toISOString(), expiresAt.toISOString()],
    );
  }

  async record(audit: AdminAudit): Promise<void> {
    await enqueueAdminAction(this.#em, this.#topology, audit);
  }

  async recordToken(audit: TokenAudit): Promise<void> {
    await enqueueClientToken(this.#em, this.#topology, audit);
  }

  async #addCredential(clientId: string, credential: NewCredential, now: Date): Promise<void> {
    await this.#em.execute(
      `insert into gateway.integration_client_credentials
        (credential_id, client_id, secret_hash, public_jwk, key_algorithm, key_thumbprint, created_at)
        values (?, ?, ?, ?::jsonb, ?, ?, ?)`,
      [
        credential.credentialId,
        clientId,
        credential.secretHash ?? null,
        credential.publicJwk ? JSON.stringify(credential.publicJwk.members) : null,
        credential.publicJwk?.algorithm ?? '',
        credential.keyThumbprint ?? '',
        now.toISOString(),
      ],
    );
  }
}
