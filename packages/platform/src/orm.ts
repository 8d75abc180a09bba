import { MikroORM, type EntityManager, type Options } from '@mikro-orm/postgresql';
import { Migrator } from '@mikro-orm/migrations';
import type { MigrationObject } from '@mikro-orm/core';
import { databaseClientClass, parseDatabaseUrl } from './database-url.ts';
import { isTransientDependencyError } from './errors.ts';

export type { EntityManager, MikroORM };

export interface DatabaseOptions {
  /** The service's runtime login (see serviceLogins); the owner's, when migrating. */
  readonly url: string;
  /** The service's own Postgres schema (DESIGN.md, "Storage"): one per service. */
  readonly schema: string;
  readonly entities: NonNullable<Options['entities']>;
  /** Listed explicitly, in order: no folder scanning, so a bundle or a rename cannot skip one. */
  readonly migrations: readonly MigrationObject[];
  readonly poolMax?: number;
}

const identifier = /^[a-z_][a-z0-9_]*$/;

function checkedSchema(schema: string): string {
  if (!identifier.test(schema)) throw new Error(`unsafe schema name "${schema}"`);
  return schema;
}

/**
 * The database is not ready for this build yet: the login role, the schema, its migrations
 * or grants are missing. The migration job makes them; a service waits for it (NOT_SERVING,
 * a log line per try) rather than exit, as a pod started before the Job finished would.
 */
export class DatabaseNotReadyError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DatabaseNotReadyError';
  }
}

export const runTheJob = 'run the migration job (`pnpm migrate` / the migrate Job)';

/** What a service waits out at start: Postgres away, or the migration job not yet run. */
export function isWorthWaitingFor(error: unknown): boolean {
  return error instanceof DatabaseNotReadyError || isTransientDependencyError(error);
}

/** MikroORM reads host, port, user and database from a one-host URL; the connections come from our Client. */
function ormConnection(url: string): Pick<Options, 'clientUrl' | 'driverOptions'> {
  const parsed = parseDatabaseUrl(url);
  const first = parsed.hosts[0]!;
  const host = first.host.includes(':') ? `[${first.host}]` : first.host;
  return {
    clientUrl: `postgresql://${encodeURIComponent(parsed.user)}@${host}:${first.port}/${encodeURIComponent(parsed.database)}`,
    driverOptions: { Client: databaseClientClass(url) },
  };
}

async function connectOrm(options: DatabaseOptions, migrations: boolean): Promise<MikroORM> {
  return MikroORM.init({
    ...ormConnection(options.url),
    schema: checkedSchema(options.schema),
    entities: options.entities,
    // Some schemas (an event relay's, a test lab's) hold only tables reached with SQL.
    discovery: { warnWhenNoEntities: false },
    ...(migrations ? { extensions: [Migrator] } : {}),
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
}

/**
 * Applies a schema's pending migrations and returns their names. The migration job runs it
 * as the schema's owner (migrateServiceDatabases); a test lab of its own, as a superuser.
 * Never a service at start outside development.
 */
export async function migrateDatabase(options: DatabaseOptions): Promise<string[]> {
  const orm = await connectOrm(options, true);
  try {
    const [exists] = await orm.em
      .getConnection()
      .execute<{ found: number }[]>('select 1 as found from pg_namespace where nspname = ?', [options.schema]);
    if (!exists) await orm.em.getConnection().execute(`create schema "${options.schema}"`);
    const applied = await orm.migrator.up();
    return applied.map((migration) => migration.name);
  } finally {
    await orm.close(true);
  }
}

/** Where a schema's migrations stand against this build's: a DatabaseNotReadyError when behind. */
export async function checkMigrations(
  query: (sql: string) => Promise<{ name: string }[]>,
  schema: string,
  migrations: readonly MigrationObject[],
): Promise<void> {
  const needed = migrations.at(-1)?.name;
  if (!needed) return;
  let applied: string[];
  try {
    applied = (await query(`select name from "${checkedSchema(schema)}".mikro_orm_migrations order by id`)).map((row) =>
      row.name.replace(/\.[jt]s$/, ''),
    );
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === '42P01' || code === '3F000') {
      throw new DatabaseNotReadyError(
        `schema ${schema}: database is at no migration, this build needs ${needed}: ${runTheJob}`,
      );
    }
    throw error;
  }
  const missing = migrations.filter((m) => !applied.includes(m.name));
  if (missing.length > 0) {
    throw new DatabaseNotReadyError(
      `schema ${schema}: database is at migration ${applied.at(-1) ?? 'none'}, this build needs ${needed}: ${runTheJob}`,
    );
  }
}

/**
 * Connects MikroORM to the service's schema. It changes nothing: the schema must be at this
 * build's migrations already (the migration job's work), else a DatabaseNotReadyError.
 */
export async function openDatabase(options: DatabaseOptions): Promise<MikroORM> {
  const orm = await connectOrm(options, false);
  try {
    await checkMigrations((sql) => orm.em.getConnection().execute(sql), options.schema, options.migrations);
  } catch (error) {
    await orm.close(true);
    throw error;
  }
  return orm;
}
