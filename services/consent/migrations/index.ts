import type { MigrationObject } from '@mikro-orm/core';
import { keyStoreDatabase, moveLegacyKeys } from '@passage/crypto';
import { eventTableGrants } from '@passage/events';
import type { ServiceDatabases } from '@passage/platform';
import { Migration20261128100000Consent } from './Migration20261128100000Consent.ts';
import { Migration20261130100000IdempotencyKeys } from './Migration20261130100000IdempotencyKeys.ts';

/** Every migration of the consent schema, in order. Add new ones at the end. */
export const consentMigrations: MigrationObject[] = [
  { name: 'Migration20261128100000Consent', class: Migration20261128100000Consent },
  { name: 'Migration20261130100000IdempotencyKeys', class: Migration20261130100000IdempotencyKeys },
];

/**
 * The consent service's schemas and what its runtime roles may do, table by table; the
 * migration job grants exactly this after every run (docs/adr/0028-database-login-roles.md).
 * Consents are changed (revoked, blanked by an erasure), never deleted; the history of
 * changes and the erasures are only added to; idempotency keys are deleted once expired
 * (docs/adr/0033-retention.md). Its data keys live in a key store of their own
 * (docs/adr/0023-key-store.md), where the job also moves keys the data schema still holds.
 */
export const consentDatabases: ServiceDatabases = {
  service: 'consent',
  schemas: [
    {
      schema: 'consent',
      migrations: consentMigrations,
      grants: {
        consents: ['select', 'insert', 'update'],
        changes: ['select', 'insert'],
        erasures: ['select', 'insert'],
        agencies: ['select', 'insert', 'update'],
        idempotency_keys: ['select', 'insert', 'update', 'delete'],
        ...eventTableGrants,
      },
    },
    keyStoreDatabase('consent'),
  ],
  afterMigrations: async (owners, log) => {
    await moveLegacyKeys(owners, 'consent', log);
  },
};
