import type { MigrationObject } from '@mikro-orm/core';
import { Migration20261128210000AuditLog } from './Migration20261128210000AuditLog.ts';
import { Migration20261130070000AuditStreamGaps } from './Migration20261130070000AuditStreamGaps.ts';

/** Every migration of the audit schema, in order. Add new ones at the end. */
export const auditMigrations: MigrationObject[] = [
  { name: 'Migration20261128210000AuditLog', class: Migration20261128210000AuditLog },
  { name: 'Migration20261130070000AuditStreamGaps', class: Migration20261130070000AuditStreamGaps },
];
