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
  /** This service's Postgres login (its runtime role), as a libpq URL; outside development over TLS (sslmode=verify-full or verify-ca). */
  DATABASE_URL: databaseUrlSetting.default('postgres://postgres@localhost:5432/passage'),
  /** The NATS servers, comma-separated (`nats://host:4222,…`). */
  NATS_URL: z.string().min(1).default('nats://localhost:4222'),
  /** The least severe log level written (JSON lines on stdout). */
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Where traces go (OTLP over HTTP); unset: none are exported. */
  OTEL_EXPORTER_OTLP_ENDPOINT: z.url().optional(),
  /** Listening port for gRPC; 0 picks a free one (tests). */
  GRPC_PORT: z.coerce.number().int().min(0).max(65535).default(0),
  /** The address the gRPC server listens on (0.0.0.0 in a container). */
  GRPC_HOST: z.string().default('127.0.0.1'),
  /**
   * Prefix for stream names and subjects, so that tests (and side-by-side demos) can share
   * one NATS server without sharing state. Empty in a real deployment.
   */
  NATS_NAMESPACE: z
    .string()
    .regex(/^[a-z0-9_]*$/, 'lowercase letters, digits and underscores only')
    .default(''),
  /** How long calls in flight may finish after SIGTERM before the server closes them. */
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
  /** This party's certificate (PEM), issued by GRPC_TLS_CA for server and client authentication. */
  GRPC_TLS_CERT: z.string().optional(),
  /** The private key (PEM) of GRPC_TLS_CERT. */
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
  /** Where the metrics port listens; HEALTH_HOST, else GRPC_HOST (the gateway: HTTP_HOST), if unset. */
  METRICS_HOST: z.string().min(1).optional(),
  /** How often a service asks Postgres `select 1` for its health; NATS is followed as its connection changes. */
  DEPENDENCY_CHECK_MS: z.coerce.number().int().min(10).default(5_000),
  /** OTLP/HTTP endpoint for metrics alone; OTEL_EXPORTER_OTLP_ENDPOINT (+ /v1/metrics) if unset. */
  OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: z.url().optional(),
  /**
   * NATS over TLS, as this service's own NATS user (docs/adr/0027-nats-credentials.md): the CA
   * that signed the servers' certificates, and this service's client certificate and key, as
   * PEM text (or `<NAME>_FILE` paths); the user and password. The CA, user and password are
   * required outside PASSAGE_ENV=development (checked at start).
   */
  NATS_TLS_CA: z.string().optional(),
  /** This service's NATS client certificate (PEM), with NATS_TLS_KEY; optional. */
  NATS_TLS_CERT: z.string().optional(),
  /** The private key (PEM) of NATS_TLS_CERT. */
  NATS_TLS_KEY: z.string().optional(),
  /** This service's NATS user (deploy/nats/authorization.conf); required outside development. */
  NATS_USER: z.string().optional(),
  /** NATS_USER's password; required outside development. */
  NATS_PASSWORD: z.string().optional(),
});

export type BaseConfig = z.infer<typeof baseConfigSchema>;

export class ConfigError extends Error {
  /** One line each: the setting, and what it needs. */
  readonly issues: readonly string[];
  constructor(issues: readonly string[]) {
    super(`invalid configuration:\n  ${issues.join('\n  ')}`);
    this.name = 'ConfigError';
    this.issues = issues;
  }
}

/**
 * A check of settings beyond each value's own schema — required outside development, keys that
 * parse, settings that go together: it throws (a ConfigError naming the settings, or any error
 * whose message does) or returns. loadConfig runs every check and reports every problem at once.
 */
export type SettingsCheck<C> = (config: C) => unknown;

/** The one-line problems of an error thrown by a check. */
function issuesOf(error: unknown): string[] {
  if (error instanceof ConfigError) return [...error.issues];
  const message = error instanceof Error ? error.message : String(error);
  return [message.replace(/\s*\n\s*/g, ' ')];
}

const present = (value: string | undefined): boolean => value !== undefined && value !== '';

/**
 * Any setting may instead be read from a file — `<NAME>_FILE=/run/secrets/…` — as mounted
 * secrets are (keys, tokens, database URLs). Both set is a mistake (which one was meant?), named
 * as such; an empty variable counts as unset. The file's content is taken whole but for a
 * trailing line break.
 */
function withFiles(
  schema: z.ZodObject,
  env: Record<string, string | undefined>,
): { values: Record<string, string | undefined>; issues: string[] } {
  const values = { ...env };
  const issues: string[] = [];
  for (const name of Object.keys(schema.shape)) {
    const file = env[`${name}_FILE`];
    if (!present(file)) continue;
    if (present(values[name])) {
      issues.push(`${name} and ${name}_FILE are both set: give the value in one of them only`);
      continue;
    }
    try {
      values[name] = readFileSync(file!, 'utf8').replace(/\r?\n$/, '');
    } catch (error) {
      issues.push(`${name}_FILE: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  }
  return { values, issues };
}

/**
 * The settings of `schema` from the environment (or `<NAME>_FILE`), then `checks` run on them;
 * a ConfigError listing every problem found — each value the schema refuses, each file that
 * cannot be read, each check that fails — not only the first.
 */
export function loadConfig<S extends z.ZodObject>(
  schema: S,
  env: Record<string, string | undefined> = process.env,
  checks: readonly SettingsCheck<z.infer<S>>[] = [],
): z.infer<S> {
  const { values, issues } = withFiles(schema, env);
  let parsed = schema.safeParse(values);
  if (!parsed.success) {
    const refused = new Set<PropertyKey>();
    for (const issue of parsed.error.issues) {
      issues.push(`${issue.path.join('.')}: ${issue.message}`);
      if (issue.path[0] !== undefined) refused.add(issue.path[0]);
    }
    // The checks still run, on the rest: with each refused value left to its default.
    parsed = schema.safeParse(Object.fromEntries(Object.entries(values).filter(([name]) => !refused.has(name))));
  }
  if (parsed.success) {
    for (const check of checks) {
      try {
        check(parsed.data);
      } catch (error) {
        for (const issue of issuesOf(error)) if (!issues.includes(issue)) issues.push(issue);
      }
    }
  }
  if (issues.length > 0) throw new ConfigError(issues);
  return parsed.data as z.infer<S>;
}

/**
 * A service's start: its settings (loadConfig), or — when any is missing or wrong — every
 * problem on stderr, one line each, and exit code 78 (EX_CONFIG); no stack trace, as the
 * problem is the environment, not the code.
 */
export function loadServiceConfig<S extends z.ZodObject>(
  service: string,
  schema: S,
  checks: readonly SettingsCheck<z.infer<S>>[] = [],
  env: Record<string, string | undefined> = process.env,
): z.infer<S> {
  try {
    return loadConfig(schema, env, checks);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    exitOnConfigError(service, error);
  }
}

/** The exit code of a process that stops for its settings (sysexits EX_CONFIG). */
export const configExitCode = 78;

/** Writes a ConfigError's problems to stderr, one line each, and ends the process with configExitCode. */
export function exitOnConfigError(service: string, error: ConfigError): never {
  const count = error.issues.length;
  process.stderr.write(
    `${service}: cannot start: ${count} problem${count === 1 ? '' : 's'} in its settings\n` +
      error.issues.map((issue) => `  ${issue}\n`).join(''),
  );
  process.exit(configExitCode);
}
