import { z } from 'zod';
import { issuerFromEnv } from '@passage/auth';
import { serviceSettingChecks } from '@passage/events';
import { consoleDist } from '@passage/console/dist';
import { type SettingsCheck, baseConfigSchema } from '@passage/platform';

export const gatewayConfigSchema = baseConfigSchema.extend({
  /** The address the HTTP server (API, console, /livez and /readyz) listens on. */
  HTTP_HOST: z.string().default('127.0.0.1'),
  /** The HTTP port; 0 picks a free one (tests). */
  HTTP_PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  /** "<key id>:<base64 32-byte Ed25519 seed>": signs the caller tokens the services verify. */
  SERVICE_TOKEN_KEY: z.string().optional(),
  /** The directory service's gRPC address, host:port. */
  DIRECTORY_ADDRESS: z.string().default('127.0.0.1:50051'),
  /** The consent service's gRPC address, host:port. */
  CONSENT_ADDRESS: z.string().default('127.0.0.1:50052'),
  /** The referrals service's gRPC address, host:port. */
  REFERRALS_ADDRESS: z.string().default('127.0.0.1:50053'),
  /** The audit service's gRPC address, host:port. */
  AUDIT_ADDRESS: z.string().default('127.0.0.1:50054'),
  /** The escalation service's gRPC address, host:port. */
  ESCALATION_ADDRESS: z.string().default('127.0.0.1:50055'),
  /** How long a sign-in lasts. */
  SESSION_HOURS: z.coerce.number().min(0.1).max(24).default(10),
  /**
   * Where the console's quick exit goes (ADR 35): an outside page with nothing of Passage on it,
   * replacing the console in the tab's history. An https address, or a path on this gateway
   * (/neutral.html, the console's own plain page). Read by the console at start, no rebuild.
   */
  QUICK_EXIT_URL: z
    .string()
    .refine(
      (value) => (value.startsWith('/') && !value.startsWith('//')) || /^https?:\/\/[^\s]+$/.test(value),
      'an http(s) address or a path starting with /',
    )
    .default('https://weather.gc.ca/'),
  /**
   * Minutes without input after which a session locks (ADR 35): every call but signing out is
   * refused (401, reason "locked") until the person gives their password again.
   */
  IDLE_LOCK_MINUTES: z.coerce.number().min(0.05).max(600).default(15),
  /** Seed the demo users with DEMO_PASSWORD (development only). */
  DEMO_USERS: z.enum(['on', 'off']).default('off'),
  /** Every demo user's password, with DEMO_USERS=on. */
  DEMO_PASSWORD: z.string().min(8).default('passage-demo'),
  /** Sign-in attempts allowed per minute for one address and username, in memory (ADR 21). */
  SIGN_IN_PER_MINUTE: z.coerce.number().int().min(1).default(10),
  /** OpenID Connect sign-in, when an issuer is configured; people still need a Passage account (agency, roles). */
  OIDC_ISSUER: z.url().optional(),
  /** This gateway's client id at the OIDC issuer. */
  OIDC_CLIENT_ID: z.string().optional(),
  /** This gateway's client secret at the OIDC issuer. */
  OIDC_CLIENT_SECRET: z.string().optional(),
  /** This gateway's callback, as registered with the issuer: <gateway>/api/session/oidc/callback. */
  OIDC_REDIRECT_URL: z.url().optional(),
  /** Addresses of the TLS proxy in front (Fastify trustProxy), so limits see people, not the proxy. */
  TRUST_PROXY: z.string().default(''),
  /**
   * Where notification e-mails go out (ADR 40): smtp://[user:password@]host:port (STARTTLS when
   * offered) or smtps://…; empty: no e-mail, the console's notices still work.
   */
  SMTP_URL: z
    .string()
    .refine((value) => value === '' || /^smtps?:\/\/[^\s]+$/.test(value), 'an smtp:// or smtps:// address')
    .default(''),
  /** The sender of notification e-mails: a neutral name and address, nothing that says what Passage is about. */
  NOTIFY_FROM: z.string().min(3).default('Passage <no-reply@passage.invalid>'),
  /**
   * The gateway's address as people and systems reach it (no trailing path): the link in
   * notification e-mails, and the token endpoint integration clients' assertions are addressed
   * to (aud: <CONSOLE_URL>/oauth/token, ADR 45).
   */
  CONSOLE_URL: z.url().default('http://localhost:8080'),
  /** Token requests (POST /oauth/token) allowed per minute from one address, in memory (ADR 45). */
  OAUTH_TOKEN_PER_MINUTE: z.coerce.number().int().min(1).default(60),
  /**
   * Which webhook endpoints agencies may register and be delivered to (ADR 46): public-https
   * (https only, to hosts whose every address is public: no loopback, private, link-local,
   * shared or metadata address, checked at registration and at every delivery) or any (http
   * too, any address: PASSAGE_ENV=development only). Unset: any in development, else public-https.
   */
  WEBHOOK_URL_POLICY: z.enum(['public-https', 'any']).optional(),
  /** How long one webhook delivery attempt may take, connection and answer (no redirect is followed). */
  WEBHOOK_TIMEOUT_SECONDS: z.coerce.number().min(1).max(60).default(10),
  /** The first retry of a failed webhook delivery; each next one twice as late, at most an hour apart, for at least 24 hours. */
  WEBHOOK_RETRY_BASE_SECONDS: z.coerce.number().min(0.05).max(600).default(5),
  /** The built web console (packages/console/dist) served at /; empty: the API only. */
  CONSOLE_DIR: z.string().default(consoleDist),
});

export type GatewayConfig = z.infer<typeof gatewayConfigSchema>;

/** Everything the service checks of its settings at start, reported at once (loadServiceConfig). */
export const gatewaySettingChecks: SettingsCheck<GatewayConfig>[] = [
  ...serviceSettingChecks('gateway'),
  issuerFromEnv,
  (config) => {
    if (config.DEMO_USERS === 'on' && config.PASSAGE_ENV !== 'development')
      throw new Error('DEMO_USERS=on is for development only (PASSAGE_ENV=development)');
  },
  (config) => {
    if (config.WEBHOOK_URL_POLICY === 'any' && config.PASSAGE_ENV !== 'development')
      throw new Error('WEBHOOK_URL_POLICY=any is for development only (PASSAGE_ENV=development)');
  },
  (config) => {
    const missing = (['OIDC_CLIENT_ID', 'OIDC_CLIENT_SECRET', 'OIDC_REDIRECT_URL'] as const).filter(
      (name) => !config[name],
    );
    if (config.OIDC_ISSUER && missing.length > 0) throw new Error(`OIDC_ISSUER needs ${missing.join(', ')}`);
  },
];

/** The webhook URL policy in force: the setting, or by PASSAGE_ENV when it is unset. */
export function webhookUrlPolicy(config: GatewayConfig): 'public-https' | 'any' {
  return config.WEBHOOK_URL_POLICY ?? (config.PASSAGE_ENV === 'development' ? 'any' : 'public-https');
}
