import { developmentIssuer, demoUsers } from '@passage/auth';
import { audit } from '@passage/contracts';
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
  let token = env['PASSAGE_TOKEN'];
  if (!token) {
    if (env['PASSAGE_ENV'] !== 'development') {
      throw new UsageError('set PASSAGE_TOKEN to your caller token (or PASSAGE_ENV=development to act as a demo user)');
    }
    const user = demoUsers[asUser ?? 'auditor'];
    if (!user) throw new UsageError(`--as: one of ${Object.keys(demoUsers).join(', ')}`);
    token = developmentIssuer().issue(user, 600);
  }
  // Mutual TLS with the command's own certificate (GRPC_TLS_*), or plaintext in development only (ADR 26).
  const transport = grpcTransport(loadConfig(transportSettings, env), stderrLog, 'client');
  return {
    client: new audit.AuditServiceClient(address, transport.clientCredentials),
    metadata: bearerMetadata(token),
  };
}

export function databaseUrl(env: NodeJS.ProcessEnv): string {
  return env['DATABASE_URL'] ?? 'postgres://postgres@localhost:5432/passage';
}
