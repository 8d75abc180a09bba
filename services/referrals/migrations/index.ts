import type { MigrationObject } from '@mikro-orm/core';
import { keyStoreDatabase, moveLegacyKeys } from '@passage/crypto';
import { eventTableGrants } from '@passage/events';
import type { ServiceDatabases } from '@passage/platform';
import { Migration20261128200000Referrals } from './Migration20261128200000Referrals.ts';
import { Migration20261201000000PacketRetention } from './Migration20261201000000PacketRetention.ts';
import { Migration20261202020000TakeOver } from './Migration20261202020000TakeOver.ts';
import { Migration20261202030000ListsAndAssignment } from './Migration20261202030000ListsAndAssignment.ts';
import { Migration20261202040000Messages } from './Migration20261202040000Messages.ts';
import { Migration20261202050000AfterHoursLink } from './Migration20261202050000AfterHoursLink.ts';
import { Migration20261204000000RecordSend } from './Migration20261204000000RecordSend.ts';

/** Every migration of the referrals schema, in order. Add new ones at the end. */
export const referralMigrations: MigrationObject[] = [
  { name: 'Migration20261128200000Referrals', class: Migration20261128200000Referrals },
  { name: 'Migration20261201000000PacketRetention', class: Migration20261201000000PacketRetention },
  { name: 'Migration20261202020000TakeOver', class: Migration20261202020000TakeOver },
  { name: 'Migration20261202030000ListsAndAssignment', class: Migration20261202030000ListsAndAssignment },
  { name: 'Migration20261202040000Messages', class: Migration20261202040000Messages },
  { name: 'Migration20261202050000AfterHoursLink', class: Migration20261202050000AfterHoursLink },
  { name: 'Migration20261204000000RecordSend', class: Migration20261204000000RecordSend },
];

/**
 * The referrals service's schemas and what its runtime roles may do, table by table; the
 * migration job grants exactly this after every run (docs/adr/0028-database-login-roles.md).
 * Packets are deleted (messages' bodies nulled) by an erasure or the retention schedule; transitions and ended grants are
 * only added to; idempotency keys are deleted once expired (docs/adr/0033-retention.md). Its
 * data keys live in a key store of their own (docs/adr/0023-key-store.md), where the job also
 * moves keys the data schema still holds.
 */
export const referralsDatabases: ServiceDatabases = {
  service: 'referrals',
  schemas: [
    {
      schema: 'referrals',
      migrations: referralMigrations,
      grants: {
        referrals: ['select', 'insert', 'update'],
        packets: ['select', 'insert', 'delete'],
        transitions: ['select', 'insert'],
        idempotency_keys: ['select', 'insert', 'delete'],
        ended_grants: ['select', 'insert'],
        // A message's body is nulled by an erasure or the retention schedule; the row stays.
        messages: ['select', 'insert', 'update'],
        ...eventTableGrants,
      },
    },
    keyStoreDatabase('referrals'),
  ],
  afterMigrations: async (owners, log) => {
    await moveLegacyKeys(owners, 'referrals', log);
  },
};
