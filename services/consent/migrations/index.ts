import type { MigrationObject } from '@mikro-orm/core';
import { Migration20261128100000Consent } from './Migration20261128100000Consent.ts';

/** Every migration of the consent schema, in order. Add new ones at the end. */
export const consentMigrations: MigrationObject[] = [
  { name: 'Migration20261128100000Consent', class: Migration20261128100000Consent },
];
