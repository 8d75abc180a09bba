import pg from 'pg';
import { MikroORM, type EntityManager, type Options } from '@mikro-orm/postgresql';
import { Migrator } from '@mikro-orm/migrations';
import type { MigrationObject } from '@mikro-orm/core';
import type { Logger } from './logger.ts';

export type { EntityManager, MikroORM };

export interface DatabaseOptions {
  /** Usually from `serviceDatabaseUrl`, so the connection acts as the service's own role. */
  readonly url: string;
  /** The service's own Postgres schema (DESIGN.md, "Storage"): one per service. */
  readonly schema: string;
  readonly entities: NonNullable<Options['entities']>;
  /** Listed explicitly, in order: no folder scanning, so a bundle or a rename cannot skip one. */
  readonly migrations: readonly MigrationObject[];
  readonly poolMax?: number;
}

const identifier = /^[a-z_][a-z0-9_]*$/;

/** The database role that owns a service's schema and reaches nothing else. */
export function schemaRole(schema: string): string {
  if (!identifier.test(schema)) throw new Error(`unsafe schema name "${schema}"`);
  return `passage_${schema}`;
}

/** The service cannot act as its own database role: it refuses to run rather than run as another. */
export class DatabaseRoleError extends Error {
  constructor(role: string, reason: string) {
    super(
      `cannot act as the database role ${role}: ${reason}. Connect as a user allowed to create roles (development), ` +
        `or create the role and its schema ahead and grant the login user membership (docs/adr/0015-database-roles.md)`,
    );
    this.name = 'DatabaseRoleError';
  }
}

/**
 * Makes sure the service's schema exists and belongs to its own role (`passage_<schema>`,
 * no login), then returns a connection URL that acts as that role (`options=-c role=…`):
 * the service can reach its schema and nothing of another service's. A developer's or CI's
 * superuser creates the role and schema here; a deployment provisions both ahead and grants
 * the login user membership. Fails closed: when the connection cannot act as the role, it
 * throws DatabaseRoleError rather than carry on as the login user.
 */
export async function serviceDatabaseUrl(url: string, schema: string, log?: Logger): Promise<string> {
  const role = schemaRole(schema);
  const client = new pg.Client({ connectionString: url });
  client.on('error', (error) => log?.warn({ err: error }, 'database connection lost while preparing the service role'));
  await client.connect();
  try {
    const existing = await client.query('select 1 from pg_roles where rolname = $1', [role]);
    if (existing.rowCount === 0) {
      try {
        await client.query(`create role ${role} nologin`);
      } catch (error) {
        const code = (error as { code?: string }).code;
        // 42710/23505: another service instance created it first; 42501: not ours to create.
        if (code === '42501')
          throw new DatabaseRoleError(role, 'the role does not exist and this user may not create it');
        if (code !== '42710' && code !== '23505') throw error;
      }
    }
    try {
      await client.query(`create schema if not exists "${schema}" authorization ${role}`);
      await client.query(`alter schema "${schema}" owner to ${role}`);
    } catch (error) {
      // Without the right to create or give schemas, a schema provisioned ahead is still fine: checked below.
      if ((error as { code?: string }).code !== '42501') throw error;
      log?.info({ role, schema }, 'the schema is not ours to create; using the one provisioned ahead');
    }
  } finally {
    await client.end().catch(() => undefined);
  }
  const withRole = new URL(url);
  withRole.searchParams.set('options', `-c role=${role}`);
  await verifyRole(withRole.toString(), role, schema, log);
  return withRole.toString();
}

/** Connects as the service will and checks that it acts as its role, which owns its schema. */
async function verifyRole(url: string, role: string, schema: string, log?: Logger): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', (error) => log?.warn({ err: error }, 'database connection lost while checking the service role'));
  try {
    await client.connect();
  } catch (error) {
    const code = (error as { code?: string }).code;
    // 42501: the login user is not a member of the role; 22023/42704: no such role.
    if (code === '42501' || code === '22023' || code === '42704') {
      throw new DatabaseRoleError(role, 'the login user may not set this role');
    }
    throw error;
  }
  try {
    const result = await client.query<{ me: string; owner: string | null }>(
      'select current_user as me, (select pg_get_userbyid(nspowner) from pg_namespace where nspname = $1) as owner',
      [schema],
    );
    const row = result.rows[0];
    if (row?.me !== role) throw new DatabaseRoleError(role, `the connection acts as ${row?.me ?? 'nobody'}`);
    if (row.owner !== role) {
      throw new DatabaseRoleError(
        role,
        row.owner ? `the schema ${schema} belongs to ${row.owner}` : `no schema ${schema}`,
      );
    }
  } finally {
    await client.end().catch(() => undefined);
  }
}

export interface PoolOptions {
  readonly max: number;
  /** Shown in pg_stat_activity. */
  readonly applicationName?: string;
}

/**
 * A pg pool whose lost connections are logged, never thrown: without an `error` listener, a
 * restarted Postgres or a terminated backend ends the process. The call using a lost
 * connection fails and the next one gets a fresh connection.
 */
export function databasePool(url: string, options: PoolOptions, log: Logger): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.max,
    ...(options.applicationName ? { application_name: options.applicationName } : {}),
    connectionTimeoutMillis: 5_000,
  });
  pool.on('error', (error) => log.warn({ err: error }, 'an idle database connection was lost'));
  // A connection lost while checked out (in a transaction, or between a worker's queries) emits
  // on the client, not the pool: the query in flight fails, the process goes on.
  pool.on('connect', (client) => {
    client.on('error', (error) => log.warn({ err: error }, 'a database connection in use was lost'));
  });
  return pool;
}

/** Connects MikroORM to the service's schema and applies its pending migrations. */
export async function openDatabase(options: DatabaseOptions): Promise<MikroORM> {
  schemaRole(options.schema); // validates the name, which is written into SQL below
  // MikroORM builds its pool from the URL's parts; the role travels as a pool option.
  const url = new URL(options.url);
  const startup = url.searchParams.get('options');
  url.searchParams.delete('options');
  const orm = await MikroORM.init({
    clientUrl: url.toString(),
    schema: options.schema,
    entities: options.entities,
    ...(startup ? { driverOptions: { options: startup } } : {}),
    // Some schemas (an event relay's, a test lab's) hold only tables reached with SQL.
    discovery: { warnWhenNoEntities: false },
    extensions: [Migrator],
    pool: { min: 0, max: options.poolMax ?? 10 },
    migrations: {
      tableName: 'mikro_orm_migrations',
      migrationsList: [...options.migrations],
      transactional: true,
      allOrNothing: true,
      snapshot: false,
      silent: true,
    },
    // Timestamps are timestamptz and read back as UTC instants.
    timezone: 'Z',
    forceUtcTimezone: true,
    debug: false,
    allowGlobalContext: false,
  });
  try {
    // Two instances of a service starting at once would both create the same tables: one
    // migrates while the other waits, then finds nothing left to do.
    await whileLocked(options.url, `passage.migrate.${options.schema}`, async () => {
      // Normally serviceDatabaseUrl made it (owned by the service's role, which may not create schemas).
      const [exists] = await orm.em
        .getConnection()
        .execute<{ found: number }[]>(`select 1 as found from pg_namespace where nspname = '${options.schema}'`);
      if (!exists) await orm.em.getConnection().execute(`create schema "${options.schema}"`);
      await orm.migrator.up();
    });
  } catch (error) {
    await orm.close(true).catch(() => undefined);
    throw error;
  }
  return orm;
}

/** Runs `work` holding a Postgres advisory lock named `name`, on a connection of its own. */
async function whileLocked(url: string, name: string, work: () => Promise<void>): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => undefined); // a lost connection fails the query below instead
  await client.connect();
  try {
    await client.query('select pg_advisory_lock(hashtext($1))', [name]);
    await work();
  } finally {
    // Ending the session releases the lock.
    await client.end().catch(() => undefined);
  }
}
