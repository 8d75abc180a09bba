import type { MigrationObject } from '@mikro-orm/core';
import { Migration20261128100000Consent } from './Migration20261128100000Consent.ts';
import { Migration20261130100000IdempotencyKeys } from './Migration20261130100000IdempotencyKeys.ts';

/** Every migration of the consent schema, in order. Add new ones at the end. */
export const consentMigrations: MigrationObject[] = [
  { name: 'Migration20261128100000Consent', class: Migration20261128100000Consent },
  { name: 'Migration20261130100000IdempotencyKeys', class: Migration20261130100000IdempotencyKeys },
];
