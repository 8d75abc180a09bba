import { z } from 'zod';
import { checkpointSigner } from '@passage/audit-log';
import { verifierFromEnv } from '@passage/auth';
import { serviceSettingChecks } from '@passage/events';
import { type SettingsCheck, baseConfigSchema } from '@passage/platform';

export const auditConfigSchema = baseConfigSchema.extend({
  GRPC_PORT: z.coerce.number().int().min(0).max(65535).default(50054),
  /** Caller tokens' verification keys, "<key id>:<base64 Ed25519 public key>", comma-separated; required outside development. */
  AUTH_PUBLIC_KEYS: z.string().optional(),
  /** Base64 of the 32-byte Ed25519 seed that signs checkpoints; required outside development. */
  AUDIT_SIGNING_KEY: z.string().optional(),
  /** The checkpoint origin line and note key name: one per log, never reused. */
  AUDIT_ORIGIN: z
    .string()
    .regex(/^[a-z0-9.-]+(\/[a-z0-9._-]+)*$/, 'a host-like name such as passage.ontario/audit')
    .default('passage.ontario/audit'),
  /** Sign a checkpoint every N entries or every T seconds, whichever comes first. */
  AUDIT_CHECKPOINT_EVERY: z.coerce.number().int().min(1).default(1000),
  /** The T of AUDIT_CHECKPOINT_EVERY: at most this many seconds between checkpoints while entries come. */
  AUDIT_CHECKPOINT_SECONDS: z.coerce.number().min(0.1).default(10),
  /** How often each stream is looked at for a reset or a loss that would leave a gap in the log. */
  AUDIT_STREAM_CHECK_SECONDS: z.coerce.number().min(0.05).default(5),
  /** At most this many events appended to the log in one transaction. */
  AUDIT_BATCH_MAX: z.coerce.number().int().min(1).max(5000).default(500),
});

export type AuditConfig = z.infer<typeof auditConfigSchema>;

/** Everything the service checks of its settings at start, reported at once (loadServiceConfig). */
export const auditSettingChecks: SettingsCheck<AuditConfig>[] = [
  ...serviceSettingChecks('audit'),
  verifierFromEnv,
  checkpointSigner,
];
