import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { parseDatabaseUrl } from './database-url.ts';

/**
 * A Postgres URL setting (DATABASE_URL, KEYSTORE_DATABASE_URL, DATABASE_ADMIN_URL), read as
 * libpq reads it: several hosts for failover, sslmode and the rest (database-url.ts).
 */
export const databaseUrlSetting = z.string().superRefine((value, ctx) => {
  try {
    parseDatabaseUrl(value);
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: (error as Error).message });
  }
});

/**
 * Every service reads the same base settings from the environment, with defaults that
 * match a developer machine (Postgres and NATS on localhost). A bad value stops the
 * process at start-up with a message naming the variable.
 */
export const baseConfigSchema = z.object({
  DATABASE_URL: databaseUrlSetting.default('postgres://postgres@localhost:5432/passage'),
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
  SHUTDOWN_GRACE_MS: z.coerce.number().int().positive().default(10_000),
  /** JetStream replicas of every stream: 1 on a laptop, 3 on a cluster (ADR 25). */
  PASSAGE_STREAM_REPLICAS: z.coerce.number().int().min(1).max(5).default(1),
  /**
   * "development" allows what is only for a developer machine (built-in keys, demo users,
   * plaintext gRPC); anything else requires the real thing.
   */
  PASSAGE_ENV: z.enum(['development', 'production']).default('production'),
  /**
   * Mutual TLS for gRPC (ADR 26), PEM text, usually from files (`GRPC_TLS_CERT_FILE=/run/certs/tls.crt`):
   * the CA that issues every party's certificate, this party's certificate and its private key.
   * All three, or none (empty counts as unset) with PASSAGE_ENV=development: plaintext.
   */
  GRPC_TLS_CA: z.string().optional(),
  GRPC_TLS_CERT: z.string().optional(),
  GRPC_TLS_KEY: z.string().optional(),
  /**
   * A plaintext HTTP port answering only GET /livez and /readyz, for Kubernetes probes (which
   * cannot present a client certificate); unset: none. 0 picks a free one (tests).
   */
  HEALTH_PORT: z.preprocess(
    (value) => (value === '' ? undefined : value),
    z.coerce.number().int().min(0).max(65535).optional(),
  ),
  /** Where the health port listens; GRPC_HOST if unset. */
  HEALTH_HOST: z.string().min(1).optional(),
  /**
   * A plaintext HTTP port answering only GET /metrics for Prometheus (docs/adr/0031-metrics-and-alerts.md);
   * unset: none. 0 picks a free one (tests). Where it listens: METRICS_HOST, else HEALTH_HOST, else GRPC_HOST.
   */
  METRICS_PORT: z.preprocess(
    (value) => (value === '' ? undefined : value),
    z.coerce.number().int().min(0).max(65535).optional(),
  ),
  METRICS_HOST: z.string().min(1).optional(),
  /** How often a service asks Postgres `select 1` for its health; NATS is followed as its connection changes. */
  DEPENDENCY_CHECK_MS: z.coerce.number().int().min(10).default(5_000),
  /** OTLP/HTTP endpoint for metrics alone; OTEL_EXPORTER_OTLP_ENDPOINT (+ /v1/metrics) if unset. */
  OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: z.url().optional(),
  /**
   * NATS over TLS, as this service's own NATS user (docs/adr/0027-nats-credentials.md): the CA
   * that signed the servers' certificates, and this service's client certificate and key, as
   * PEM text (or `<NAME>_FILE` paths); the user and password. The CA, user and password are
   * required outside PASSAGE_ENV=development (checked when the service connects).
   */
  NATS_TLS_CA: z.string().optional(),
  NATS_TLS_CERT: z.string().optional(),
  NATS_TLS_KEY: z.string().optional(),
  NATS_USER: z.string().optional(),
  NATS_PASSWORD: z.string().optional(),
});

export type BaseConfig = z.infer<typeof baseConfigSchema>;

export class ConfigError extends Error {
  constructor(issues: readonly string[]) {
    super(`invalid configuration:\n  ${issues.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Any setting may instead be read from a file — `<NAME>_FILE=/run/secrets/…` — as mounted
 * secrets are (keys, tokens, database URLs); the variable itself wins when both are set.
 * The file's content is taken whole but for a trailing line break.
 */
function withFiles(
  schema: z.ZodObject,
  env: Record<string, string | undefined>,
): { values: Record<string, string | undefined>; issues: string[] } {
  const values = { ...env };
  const issues: string[] = [];
  for (const name of Object.keys(schema.shape)) {
    const file = env[`${name}_FILE`];
    if (values[name] !== undefined || !file) continue;
    try {
      values[name] = readFileSync(file, 'utf8').replace(/\r?\n$/, '');
    } catch (error) {
      issues.push(`${name}_FILE: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  }
  return { values, issues };
}

export function loadConfig<S extends z.ZodObject>(
  schema: S,
  env: Record<string, string | undefined> = process.env,
): z.infer<S> {
  const { values, issues } = withFiles(schema, env);
  if (issues.length > 0) throw new ConfigError(issues);
  const parsed = schema.safeParse(values);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`));
  }
  return parsed.data;
}
