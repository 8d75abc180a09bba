import type { MigrationObject } from '@mikro-orm/core';
import { eventTableGrants } from '@passage/events';
import type { ServiceDatabases } from '@passage/platform';
import { Migration20261128000000Directory } from './Migration20261128000000Directory.ts';

/** Every migration of the directory schema, in order. Add new ones at the end. */
export const directoryMigrations: MigrationObject[] = [
  { name: 'Migration20261128000000Directory', class: Migration20261128000000Directory },
];

/**
 * What the directory's runtime role (passage_directory) may do, table by table; the migration
 * job grants exactly this after every run (docs/adr/0028-database-login-roles.md).
 */
export const directoryDatabases: ServiceDatabases = {
  service: 'directory',
  schemas: [
    {
      schema: 'directory',
      migrations: directoryMigrations,
      grants: { agencies: ['select', 'insert', 'update'], ...eventTableGrants },
    },
  ],
};
