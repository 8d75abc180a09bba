import type { MigrationObject } from '@mikro-orm/core';
import { Migration20261128200000Referrals } from './Migration20261128200000Referrals.ts';

/** Every migration of the referrals schema, in order. Add new ones at the end. */
export const referralMigrations: MigrationObject[] = [
  { name: 'Migration20261128200000Referrals', class: Migration20261128200000Referrals },
];
