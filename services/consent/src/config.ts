import { z } from 'zod';
import { idempotencyKeyRetentionSetting, pruningSettings, serviceSettingChecks } from '@passage/events';
import { verifierFromEnv } from '@passage/auth';
import { keyRingFromEnv } from '@passage/crypto';
import { developmentReceiptKey, receiptSigner } from './adapters/receipt-signer.ts';
import { type SettingsCheck, baseConfigSchema, databaseUrlSetting } from '@passage/platform';

export const consentConfigSchema = baseConfigSchema.extend({
  GRPC_PORT: z.coerce.number().int().min(0).max(65535).default(50052),
  /** The key-encryption keys that wrap the data keys, "<key id>:<base64 of 32 bytes>", comma-separated: the first wraps, the others only unwrap (rotation); required outside development. */
  PASSAGE_KEK: z.string().optional(),
  /** The key store's own login (schema `<service>_keys`, role `passage_<service>_keys`), perhaps on a cluster backed up apart from the data; required outside development. */
  KEYSTORE_DATABASE_URL: databaseUrlSetting.optional(),
  /** Caller tokens' verification keys, "<key id>:<base64 Ed25519 public key>", comma-separated; required outside development. */
  AUTH_PUBLIC_KEYS: z.string().optional(),
  /** "<key id>:<base64 32-byte Ed25519 seed>": signs consent receipts (JWS); required outside development. */
  RECEIPT_SIGNING_KEY: z.string().optional(),
  /** How often expired consents are looked for and announced. */
  EXPIRY_SWEEP_MS: z.coerce.number().int().positive().default(30_000),
  ...pruningSettings,
  ...idempotencyKeyRetentionSetting,
});

export type ConsentConfig = z.infer<typeof consentConfigSchema>;

/** Everything the service checks of its settings at start, reported at once (loadServiceConfig). */
export const consentSettingChecks: SettingsCheck<ConsentConfig>[] = [
  ...serviceSettingChecks('consent', { keyStore: true }),
  keyRingFromEnv,
  verifierFromEnv,
  (config) => {
    const development = config.PASSAGE_ENV === 'development';
    if (!config.RECEIPT_SIGNING_KEY) {
      if (development) return;
      throw new Error('RECEIPT_SIGNING_KEY is required outside development ("<key id>:<base64 32-byte seed>")');
    }
    // The development key is public (it is in this repository): outside development anyone could forge receipts.
    if (
      !development &&
      receiptSigner(config.RECEIPT_SIGNING_KEY).publicKey === receiptSigner(developmentReceiptKey).publicKey
    )
      throw new Error('RECEIPT_SIGNING_KEY is the published development key: outside development use your own');
  },
];
