// The audit service as the audit benchmarks run it: in the benchmark's process, development
// transport, checkpoints every 1,000 entries or 10 s.
import { randomBytes } from 'node:crypto';
import { auditConfigSchema } from '@passage/audit/config';
import { startAudit, type RunningAudit } from '@passage/audit/service';
import { TokenIssuer } from '@passage/auth';
import { createLogger, loadConfig } from '@passage/platform';
import { testTls } from '@passage/platform/testing';

const log = createLogger('bench-audit', 'warn');
export const benchIssuer = new TokenIssuer('bench', randomBytes(32));
const signingKey = randomBytes(32).toString('base64');

export async function auditOn(
  databaseUrl: string,
  natsUrl: string,
  namespace: string,
  onBatch?: (appended: number, lags: readonly number[]) => void,
): Promise<RunningAudit> {
  const config = loadConfig(auditConfigSchema, {
    DATABASE_URL: databaseUrl,
    NATS_URL: natsUrl,
    NATS_NAMESPACE: namespace,
    GRPC_PORT: '0',
    PASSAGE_ENV: 'development',
    AUTH_PUBLIC_KEYS: benchIssuer.publicKeySetting,
    AUDIT_SIGNING_KEY: signingKey,
    AUDIT_CHECKPOINT_EVERY: '1000',
    AUDIT_CHECKPOINT_SECONDS: '10',
    ...testTls('audit').env,
  });
  return startAudit(config, log, onBatch ? { onBatch } : {});
}
