import type { MigrationObject } from '@mikro-orm/core';
import { Migration20261128230000Gateway } from './Migration20261128230000Gateway.ts';
import { Migration20261130070000SignInThrottle } from './Migration20261130070000SignInThrottle.ts';

/** Every migration of the gateway schema, in order. Add new ones at the end. */
export const gatewayMigrations: MigrationObject[] = [
  { name: 'Migration20261128230000Gateway', class: Migration20261128230000Gateway },
  { name: 'Migration20261130070000SignInThrottle', class: Migration20261130070000SignInThrottle },
];
