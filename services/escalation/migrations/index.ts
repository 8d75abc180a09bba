import type { MigrationObject } from '@mikro-orm/core';
import { Migration20261128220000Escalation } from './Migration20261128220000Escalation.ts';
import { Migration20261130070000ReferralVersions } from './Migration20261130070000ReferralVersions.ts';

/** Every migration of the escalation schema, in order. Add new ones at the end. */
export const escalationMigrations: MigrationObject[] = [
  { name: 'Migration20261128220000Escalation', class: Migration20261128220000Escalation },
  { name: 'Migration20261130070000ReferralVersions', class: Migration20261130070000ReferralVersions },
];
