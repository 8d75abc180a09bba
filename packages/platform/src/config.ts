import { z } from 'zod';

/**
 * Every service reads the same base settings from the environment, with defaults that
 * match a developer machine (Postgres and NATS on localhost). A bad value stops the
 * process at start-up with a message naming the variable.
 */
export const baseConfigSchema = z.object({
  DATABASE_URL: z.url().default('postgres://postgres@localhost:5432/passage'),
  NATS_URL: z.string().min(1).default('nats://localhost:4222'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  OTEL_EXPORTER_OTLP_ENDPOINT: z.url().optional(),
  /** Listening port for gRPC; 0 picks a free one (tests). */
  GRPC_PORT: z.coerce.number().int().min(0).max(65535).default(0),
  GRPC_HOST: z.string().default('127.0.0.1'),
  /**
   * Prefix for stream names and subjects, so that tests (and side-by-side demos) can share
   * one NATS server without sharing state. Empty in a real deployment.
   */
  NATS_NAMESPACE: z
    .string()
    .regex(/^[a-z0-9_]*$/, 'lowercase letters, digits and underscores only')
    .default(''),
  /**
   * Bearer token that grants the admin role until packages/auth issues signed identities.
   * Unset means no caller is an admin.
   */
  SERVICE_ADMIN_TOKEN: z.string().min(16).optional(),
  SHUTDOWN_GRACE_MS: z.coerce.number().int().positive().default(10_000),
});

export type BaseConfig = z.infer<typeof baseConfigSchema>;

export class ConfigError extends Error {
  constructor(issues: readonly string[]) {
    super(`invalid configuration:\n  ${issues.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

export function loadConfig<S extends z.ZodObject>(
  schema: S,
  env: Record<string, string | undefined> = process.env,
): z.infer<S> {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`));
  }
  return parsed.data;
}
