import type { MigrationObject } from '@mikro-orm/core';
import { eventTableGrants } from '@passage/events';
import type { ServiceDatabases } from '@passage/platform';
import { Migration20261128220000Escalation } from './Migration20261128220000Escalation.ts';
import { Migration20261130070000ReferralVersions } from './Migration20261130070000ReferralVersions.ts';

/** Every migration of the escalation schema, in order. Add new ones at the end. */
export const escalationMigrations: MigrationObject[] = [
  { name: 'Migration20261128220000Escalation', class: Migration20261128220000Escalation },
  { name: 'Migration20261130070000ReferralVersions', class: Migration20261130070000ReferralVersions },
];

/**
 * What the escalation service's runtime role (passage_escalation) may do, table by table; the
 * migration job grants exactly this after every run (docs/adr/0028-database-login-roles.md).
 * Timers are settled in place; escalation items are only added; both are deleted once settled
 * longer ago than ESCALATION_TIMER_RETENTION_DAYS (docs/adr/0033-retention.md).
 */
export const escalationDatabases: ServiceDatabases = {
  service: 'escalation',
  schemas: [
    {
      schema: 'escalation',
      migrations: escalationMigrations,
      grants: {
        timers: ['select', 'insert', 'update', 'delete'],
        items: ['select', 'insert', 'delete'],
        referrals: ['select', 'insert', 'update'],
        ...eventTableGrants,
      },
    },
  ],
};
