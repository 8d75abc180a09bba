import type { MigrationObject } from '@mikro-orm/core';
import { Migration20261128000000Directory } from './Migration20261128000000Directory.ts';

/** Every migration of the directory schema, in order. Add new ones at the end. */
export const directoryMigrations: MigrationObject[] = [
  { name: 'Migration20261128000000Directory', class: Migration20261128000000Directory },
];
