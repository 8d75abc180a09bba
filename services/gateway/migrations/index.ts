import type { MigrationObject } from '@mikro-orm/core';
import { eventTableGrants } from '@passage/events';
import type { ServiceDatabases } from '@passage/platform';
import { Migration20261128230000Gateway } from './Migration20261128230000Gateway.ts';
import { Migration20261130070000SignInThrottle } from './Migration20261130070000SignInThrottle.ts';
import { Migration20261130150000People } from './Migration20261130150000People.ts';
import { Migration20261130160000ScimClients } from './Migration20261130160000ScimClients.ts';
import { Migration20261130170000TemporaryPasswordExpiry } from './Migration20261130170000TemporaryPasswordExpiry.ts';
import { Migration20261130180000SessionIdleLock } from './Migration20261130180000SessionIdleLock.ts';
import { Migration20261202060000Notifications } from './Migration20261202060000Notifications.ts';
import { Migration20261202080000NotifyReference } from './Migration20261202080000NotifyReference.ts';
import { Migration20261203020000IntegrationClients } from './Migration20261203020000IntegrationClients.ts';
import { Migration20261203030000Webhooks } from './Migration20261203030000Webhooks.ts';

/** Every migration of the gateway schema, in order. Add new ones at the end. */
export const gatewayMigrations: MigrationObject[] = [
  { name: 'Migration20261128230000Gateway', class: Migration20261128230000Gateway },
  { name: 'Migration20261130070000SignInThrottle', class: Migration20261130070000SignInThrottle },
  { name: 'Migration20261130150000People', class: Migration20261130150000People },
  { name: 'Migration20261130160000ScimClients', class: Migration20261130160000ScimClients },
  { name: 'Migration20261130170000TemporaryPasswordExpiry', class: Migration20261130170000TemporaryPasswordExpiry },
  { name: 'Migration20261130180000SessionIdleLock', class: Migration20261130180000SessionIdleLock },
  { name: 'Migration20261202060000Notifications', class: Migration20261202060000Notifications },
  { name: 'Migration20261202080000NotifyReference', class: Migration20261202080000NotifyReference },
  { name: 'Migration20261203020000IntegrationClients', class: Migration20261203020000IntegrationClients },
  { name: 'Migration20261203030000Webhooks', class: Migration20261203030000Webhooks },
];

/**
 * What the gateway's runtime role (passage_gateway) may do, table by table; the migration job
 * grants exactly this after every run (docs/adr/0028-database-login-roles.md). Sessions are
 * revoked in place; unfinished sign-ins and old failure counts are deleted; OpenID Connect
 * links are removed when unlinked; set-password links are marked used, never deleted.
 */
export const gatewayDatabases: ServiceDatabases = {
  service: 'gateway',
  schemas: [
    {
      schema: 'gateway',
      migrations: gatewayMigrations,
      grants: {
        users: ['select', 'insert', 'update'],
        sessions: ['select', 'insert', 'update'],
        oidc_logins: ['select', 'insert', 'delete'],
        sign_in_failures: ['select', 'insert', 'update', 'delete'],
        oidc_subjects: ['select', 'insert', 'delete'],
        password_links: ['select', 'insert', 'update'],
        scim_clients: ['select', 'insert', 'update'],
        // Notifications (ADR 40): notices are marked read, mail rows marked sent, never deleted here.
        notify_referrals: ['select', 'insert', 'update'],
        notifications: ['select', 'insert', 'update'],
        notification_preferences: ['select', 'insert', 'update'],
        notification_mail: ['select', 'insert', 'update'],
        // Integration clients (ADR 45): revoked and rotated in place; spent tokens and assertion
        // ids are deleted once expired (or, tokens, when their client is revoked).
        integration_clients: ['select', 'insert', 'update'],
        integration_client_credentials: ['select', 'insert', 'update'],
        integration_client_tokens: ['select', 'insert', 'delete'],
        integration_client_assertions: ['select', 'insert', 'delete'],
        // Webhooks (ADR 46): subscriptions are marked deleted, deliveries marked sent or failed.
        webhook_subscriptions: ['select', 'insert', 'update'],
        webhook_deliveries: ['select', 'insert', 'update'],
        ...eventTableGrants,
      },
    },
  ],
};
