import { z } from 'zod';
import { pruningSettings, serviceSettingChecks } from '@passage/events';
import { issuerFromEnv, verifierFromEnv } from '@passage/auth';
import { type SettingsCheck, baseConfigSchema } from '@passage/platform';

export const escalationConfigSchema = baseConfigSchema.extend({
  GRPC_PORT: z.coerce.number().int().min(0).max(65535).default(50055),
  /** Caller tokens' verification keys, "<key id>:<base64 Ed25519 public key>", comma-separated; required outside development. */
  AUTH_PUBLIC_KEYS: z.string().optional(),
  /** "<key id>:<base64 32-byte Ed25519 seed>": signs this service's own caller tokens (role service). */
  SERVICE_TOKEN_KEY: z.string().optional(),
  REFERRALS_ADDRESS: z.string().default('127.0.0.1:50053'),
  DIRECTORY_ADDRESS: z.string().default('127.0.0.1:50051'),
  CONSENT_ADDRESS: z.string().default('127.0.0.1:50052'),
  /** The 24/7 line that takes up what nobody acknowledged. */
  ESCALATION_CRISIS_LINE: z.string().default('ontario-ht-crisis-line'),
  /** How often due timers are looked for. */
  ESCALATION_POLL_MS: z.coerce.number().int().min(10).default(250),
  /** How many due timers are handled at once. */
  ESCALATION_WORKERS: z.coerce.number().int().min(1).max(32).default(4),
  /** Days a fired or cancelled timer (and a fired one's items) is kept (docs/adr/0033-retention.md). */
  ESCALATION_TIMER_RETENTION_DAYS: z.coerce.number().min(0.001).max(3650).default(90),
  ...pruningSettings,
});

export type EscalationConfig = z.infer<typeof escalationConfigSchema>;

/** Everything the service checks of its settings at start, reported at once (loadServiceConfig). */
export const escalationSettingChecks: SettingsCheck<EscalationConfig>[] = [
  ...serviceSettingChecks('escalation'),
  verifierFromEnv,
  issuerFromEnv,
];
