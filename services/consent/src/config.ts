import { z } from 'zod';
import { baseConfigSchema } from '@passage/platform';

export const consentConfigSchema = baseConfigSchema.extend({
  GRPC_PORT: z.coerce.number().int().min(0).max(65535).default(50052),
  PASSAGE_KEK: z.string().optional(),
  /** Where the data keys live (schema `<service>_keys`): a cluster backed up apart from the data; DATABASE_URL if unset. */
  KEYSTORE_DATABASE_URL: z.url().optional(),
  AUTH_PUBLIC_KEYS: z.string().optional(),
  RECEIPT_SIGNING_KEY: z.string().optional(),
  /** How often expired consents are looked for and announced. */
  EXPIRY_SWEEP_MS: z.coerce.number().int().positive().default(30_000),
});

export type ConsentConfig = z.infer<typeof consentConfigSchema>;
