import { z } from 'zod';
import { idempotencyKeyRetentionSetting, pruningSettings, serviceSettingChecks } from '@passage/events';
import { verifierFromEnv } from '@passage/auth';
import { keyRingFromEnv } from '@passage/crypto';
import { type SettingsCheck, baseConfigSchema, databaseUrlSetting } from '@passage/platform';

export const referralsConfigSchema = baseConfigSchema.extend({
  GRPC_PORT: z.coerce.number().int().min(0).max(65535).default(50053),
  PASSAGE_KEK: z.string().optional(),
  /** The key store's own login (schema `<service>_keys`, role `passage_<service>_keys`), perhaps on a cluster backed up apart from the data; required outside development. */
  KEYSTORE_DATABASE_URL: databaseUrlSetting.optional(),
  /** Caller tokens' verification keys, "<key id>:<base64 Ed25519 public key>", comma-separated; required outside development. */
  AUTH_PUBLIC_KEYS: z.string().optional(),
  DIRECTORY_ADDRESS: z.string().default('127.0.0.1:50051'),
  CONSENT_ADDRESS: z.string().default('127.0.0.1:50052'),
  /** Off only for a process that must not publish (a relay may run elsewhere; fault tests). */
  OUTBOX_RELAY: z.enum(['on', 'off']).default('on'),
  /** Connections of the Send path's own pool (docs/adr/0049-send-on-prepared-statements.md); opened as sends need them. */
  SEND_POOL_SIZE: z.coerce.number().int().min(1).max(64).default(8),
  /**
   * Days a closed, declined or withdrawn referral keeps its sealed packet and notes; its
   * metadata, transitions and audit entries stay (docs/adr/0033-retention.md).
   */
  REFERRAL_PACKET_RETENTION_DAYS: z.coerce.number().min(0.001).max(36500).default(400),
  ...pruningSettings,
  ...idempotencyKeyRetentionSetting,
});

export type ReferralsConfig = z.infer<typeof referralsConfigSchema>;

/** Everything the service checks of its settings at start, reported at once (loadServiceConfig). */
export const referralsSettingChecks: SettingsCheck<ReferralsConfig>[] = [
  ...serviceSettingChecks('referrals', { keyStore: true }),
  keyRingFromEnv,
  verifierFromEnv,
];
