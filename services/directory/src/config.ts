import { z } from 'zod';
import { verifierFromEnv } from '@passage/auth';
import { serviceSettingChecks } from '@passage/events';
import { type SettingsCheck, baseConfigSchema } from '@passage/platform';

export const directoryConfigSchema = baseConfigSchema.extend({
  GRPC_PORT: z.coerce.number().int().min(0).max(65535).default(50051),
  /** "ontario" loads the seeded Ontario directory at start (idempotent); empty loads nothing. */
  DIRECTORY_SEED: z.enum(['ontario', '']).default(''),
  /** Verification keys for caller tokens (changes need the admin role); the development key only in development. */
  AUTH_PUBLIC_KEYS: z.string().optional(),
});

export type DirectoryConfig = z.infer<typeof directoryConfigSchema>;

/** Everything the service checks of its settings at start, reported at once (loadServiceConfig). */
export const directorySettingChecks: SettingsCheck<DirectoryConfig>[] = [
  ...serviceSettingChecks('directory'),
  verifierFromEnv,
];
