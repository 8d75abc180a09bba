import { MikroORM, type EntityManager, type Options } from '@mikro-orm/postgresql';
import { Migrator } from '@mikro-orm/migrations';
import type { MigrationObject } from '@mikro-orm/core';

export type { EntityManager, MikroORM };

export interface DatabaseOptions {
  readonly url: string;
  /** The service's own Postgres schema (DESIGN.md, "Storage"): one per service. */
  readonly schema: string;
  readonly entities: NonNullable<Options['entities']>;
  /** Listed explicitly, in order: no folder scanning, so a bundle or a rename cannot skip one. */
  readonly migrations: readonly MigrationObject[];
  readonly poolMax?: number;
}

/** Connects MikroORM to the service's schema and applies its pending migrations. */
export async function openDatabase(options: DatabaseOptions): Promise<MikroORM> {
  const orm = await MikroORM.init({
    clientUrl: options.url,
    schema: options.schema,
    entities: options.entities,
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
  await orm.em.getConnection().execute(`create schema if not exists "${options.schema}"`);
  await orm.migrator.up();
  return orm;
}
