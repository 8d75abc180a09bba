import { z } from 'zod';
import { idempotencyKeyRetentionSetting, pruningSettings } from '@passage/events';
import { baseConfigSchema, databaseUrlSetting } from '@passage/platform';

export const consentConfigSchema = baseConfigSchema.extend({
  GRPC_PORT: z.coerce.number().int().min(0).max(65535).default(50052),
  PASSAGE_KEK: z.string().optional(),
  /** The key store's own login (schema `<service>_keys`, role `passage_<service>_keys`), perhaps on a cluster backed up apart from the data; required outside development. */
  KEYSTORE_DATABASE_URL: databaseUrlSetting.optional(),
  AUTH_PUBLIC_KEYS: z.string().optional(),
  RECEIPT_SIGNING_KEY: z.string().optional(),
  /** How often expired consents are looked for and announced. */
  EXPIRY_SWEEP_MS: z.coerce.number().int().positive().default(30_000),
  ...pruningSettings,
  ...idempotencyKeyRetentionSetting,
});

export type ConsentConfig = z.infer<typeof consentConfigSchema>;
