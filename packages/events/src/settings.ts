import { z } from 'zod';
import type { EventRetention } from './prune.ts';

const days = (fallback: number) => z.coerce.number().min(0.001).max(3650).default(fallback);

/**
 * The pruning settings every service with an outbox or an inbox takes (consent, referrals,
 * escalation): spread into its config schema. Defaults and their reasons:
 * docs/adr/0033-retention.md and docs/operations.md.
 */
export const pruningSettings = {
  /** Days a published outbox row is kept (it is needed only until the NATS duplicate window has passed). */
  OUTBOX_RETENTION_DAYS: days(7),
  /** Days an inbox row is kept: the longest a redelivery of an applied event can arrive. */
  INBOX_RETENTION_DAYS: days(30),
  /** Time between pruning rounds. */
  PRUNE_INTERVAL_MS: z.coerce.number().int().min(1000).default(600_000),
  /** Rows per DELETE statement. */
  PRUNE_BATCH_SIZE: z.coerce.number().int().min(1).max(100_000).default(500),
};

/** The idempotency keys' retention setting (consent, referrals). */
export const idempotencyKeyRetentionSetting = {
  /** Days an idempotency key is kept (consent, referrals): a retry after that is a new request. */
  IDEMPOTENCY_KEY_RETENTION_DAYS: days(7),
};

export const dayMs = 86_400_000;

export function eventRetention(config: {
  readonly OUTBOX_RETENTION_DAYS: number;
  readonly INBOX_RETENTION_DAYS: number;
}): EventRetention {
  return { outboxMs: config.OUTBOX_RETENTION_DAYS * dayMs, inboxMs: config.INBOX_RETENTION_DAYS * dayMs };
}
