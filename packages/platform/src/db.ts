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

/**
 * Makes sure the service's schema exists and belongs to its own role (`passage_<schema>`,
 * no login), then returns a connection URL that acts as that role (`options=-c role=…`):
 * the service can reach its schema and nothing of another service's. Needs a connecting
 * user allowed to create roles (a developer's or CI's superuser; a deployment provisions
 * the roles ahead and grants membership). Without that right the URL is returned as given.
 */
export async function serviceDatabaseUrl(url: string, schema: string, log?: Logger): Promise<string> {
  const role = schemaRole(schema);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const existing = await client.query('select 1 from pg_roles where rolname = $1', [role]);
    if (existing.rowCount === 0) {
      try {
        await client.query(`create role ${role} nologin`);
      } catch (error) {
        const code = (error as { code?: string }).code;
        // 42710/23505: another service instance created it first; 42501: not ours to create.
        if (code === '42501') {
          log?.warn({ role }, 'cannot create the service database role; connecting as the login user');
          return url;
        }
        if (code !== '42710' && code !== '23505') throw error;
      }
    }
    try {
      await client.query(`create schema if not exists "${schema}" authorization ${role}`);
      await client.query(`alter schema "${schema}" owner to ${role}`);
    } catch (error) {
      if ((error as { code?: string }).code === '42501') {
        log?.warn({ role, schema }, 'cannot give the schema to the service role; connecting as the login user');
        return url;
      }
      throw error;
    }
  } finally {
    await client.end();
  }
  const withRole = new URL(url);
  withRole.searchParams.set('options', `-c role=${role}`);
  return withRole.toString();
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
  // Normally serviceDatabaseUrl made it (owned by the service's role, which may not create schemas).
  const [exists] = await orm.em
    .getConnection()
    .execute<{ found: number }[]>(`select 1 as found from pg_namespace where nspname = '${options.schema}'`);
  if (!exists) await orm.em.getConnection().execute(`create schema "${options.schema}"`);
  await orm.migrator.up();
  return orm;
}
