import { z } from 'zod';
import { baseConfigSchema } from '@passage/platform';

export const directoryConfigSchema = baseConfigSchema.extend({
  GRPC_PORT: z.coerce.number().int().min(0).max(65535).default(50051),
  /** "ontario" loads the seeded Ontario directory at start (idempotent); empty loads nothing. */
  DIRECTORY_SEED: z.enum(['ontario', '']).default(''),
  /** Verification keys for caller tokens (changes need the admin role); the development key only in development. */
  AUTH_PUBLIC_KEYS: z.string().optional(),
});

export type DirectoryConfig = z.infer<typeof directoryConfigSchema>;
