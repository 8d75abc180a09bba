import { developmentIssuer, demoUsers } from '@passage/auth';
import { audit, ops } from '@passage/contracts';
import { baseConfigSchema, bearerMetadata, grpcTransport, loadConfig, type TransportLog } from '@passage/platform';

export class UsageError extends Error {}

/** The audit service, called as the person running the command. */
export interface AuditConnection {
  readonly client: audit.AuditServiceClient;
  readonly metadata: ReturnType<typeof bearerMetadata>;
}

/** The settings of the command's gRPC client: as a service's, GRPC_TLS_* (or their _FILE forms). */
const transportSettings = baseConfigSchema.pick({
  PASSAGE_ENV: true,
  GRPC_TLS_CA: true,
  GRPC_TLS_CERT: true,
  GRPC_TLS_KEY: true,
});

/** Only the warning of plaintext reaches the person running the command, on stderr. */
const stderrLog: TransportLog = {
  warn: (_fields, message) => console.error(`passage: ${message}`),
  info: () => undefined,
};

/**
 * PASSAGE_TOKEN carries the caller's token (from the gateway's sign-in, or an operator's
 * issuer). In development, `--as <demo user>` mints one with the development key.
 */
export function auditConnection(env: NodeJS.ProcessEnv, asUser: string | undefined): AuditConnection {
  const address = env['AUDIT_ADDRESS'] ?? '127.0.0.1:50054';
  const metadata = bearerMetadata(callerToken(env, asUser ?? 'auditor'));
  return { client: new audit.AuditServiceClient(address, clientCredentials(env)), metadata };
}

/** The services that own durable consumers, hence parked events, and where each listens by default. */
export const opsServices = {
  consent: { setting: 'CONSENT_ADDRESS', address: '127.0.0.1:50052' },
  referrals: { setting: 'REFERRALS_ADDRESS', address: '127.0.0.1:50053' },
  escalation: { setting: 'ESCALATION_ADDRESS', address: '127.0.0.1:50055' },
} as const;
export type OpsService = keyof typeof opsServices;

/** A service's passage.ops.v1.ParkedEventsService, called as the person running the command. */
export interface ParkedEventsConnection {
  readonly service: OpsService;
  readonly client: ops.ParkedEventsServiceClient;
  readonly metadata: ReturnType<typeof bearerMetadata>;
}

export function parkedEventsConnection(
  env: NodeJS.ProcessEnv,
  service: OpsService,
  asUser: string | undefined,
): ParkedEventsConnection {
  const { setting, address } = opsServices[service];
  const metadata = bearerMetadata(callerToken(env, asUser ?? 'admin'));
  return {
    service,
    client: new ops.ParkedEventsServiceClient(env[setting] ?? address, clientCredentials(env)),
    metadata,
  };
}

/** PASSAGE_TOKEN, or in development a demo user's token (`--as`, else `fallbackUser`). */
function callerToken(env: NodeJS.ProcessEnv, user: string): string {
  const token = env['PASSAGE_TOKEN'];
  if (token) return token;
  if (env['PASSAGE_ENV'] !== 'development') {
    throw new UsageError('set PASSAGE_TOKEN to your caller token (or PASSAGE_ENV=development to act as a demo user)');
  }
  const caller = demoUsers[user];
  if (!caller) throw new UsageError(`--as: one of ${Object.keys(demoUsers).join(', ')}`);
  return developmentIssuer().issue(caller, 600);
}

/** Mutual TLS with the command's own certificate (GRPC_TLS_*), or plaintext in development only (ADR 26). */
function clientCredentials(env: NodeJS.ProcessEnv) {
  return grpcTransport(loadConfig(transportSettings, env), stderrLog, 'client').clientCredentials;
}

export function databaseUrl(env: NodeJS.ProcessEnv): string {
  return env['DATABASE_URL'] ?? 'postgres://postgres@localhost:5432/passage';
}
