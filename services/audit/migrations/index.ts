import type { MigrationObject } from '@mikro-orm/core';
import type { ServiceDatabases } from '@passage/platform';
import { Migration20261128210000AuditLog } from './Migration20261128210000AuditLog.ts';
import { Migration20261130070000AuditStreamGaps } from './Migration20261130070000AuditStreamGaps.ts';
import { Migration20261202070000LoopClosure } from './Migration20261202070000LoopClosure.ts';
import { Migration20261203060000ReferralReference } from './Migration20261203060000ReferralReference.ts';

/** Every migration of the audit schema, in order. Add new ones at the end. */
export const auditMigrations: MigrationObject[] = [
  { name: 'Migration20261128210000AuditLog', class: Migration20261128210000AuditLog },
  { name: 'Migration20261130070000AuditStreamGaps', class: Migration20261130070000AuditStreamGaps },
  { name: 'Migration20261202070000LoopClosure', class: Migration20261202070000LoopClosure },
  { name: 'Migration20261203060000ReferralReference', class: Migration20261203060000ReferralReference },
];

/**
 * What the audit service's runtime role (passage_audit) may do, table by table; the migration
 * job grants exactly this after every run (docs/adr/0028-database-login-roles.md). The log —
 * entries, tree nodes, checkpoints, parked events — is append-only: INSERT and SELECT, never
 * UPDATE or DELETE, and the role owns none of it, so it cannot grant itself more. The
 * projections the reports read are updated in place.
 */
export const auditDatabases: ServiceDatabases = {
  service: 'audit',
  schemas: [
    {
      schema: 'audit',
      migrations: auditMigrations,
      grants: {
        entries: ['select', 'insert'],
        tree_nodes: ['select', 'insert'],
        checkpoints: ['select', 'insert'],
        parked_events: ['select', 'insert'],
        agencies: ['select', 'insert', 'update'],
        referrals: ['select', 'insert', 'update'],
        handoff_rollup: ['select', 'insert', 'update'],
      },
    },
  ],
};
