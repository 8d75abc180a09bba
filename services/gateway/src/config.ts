import { z } from 'zod';
import { consoleDist } from '@passage/console/dist';
import { baseConfigSchema } from '@passage/platform';

export const gatewayConfigSchema = baseConfigSchema.extend({
  HTTP_HOST: z.string().default('127.0.0.1'),
  HTTP_PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  /** "<key id>:<base64 32-byte Ed25519 seed>": signs the caller tokens the services verify. */
  SERVICE_TOKEN_KEY: z.string().optional(),
  DIRECTORY_ADDRESS: z.string().default('127.0.0.1:50051'),
  CONSENT_ADDRESS: z.string().default('127.0.0.1:50052'),
  REFERRALS_ADDRESS: z.string().default('127.0.0.1:50053'),
  AUDIT_ADDRESS: z.string().default('127.0.0.1:50054'),
  ESCALATION_ADDRESS: z.string().default('127.0.0.1:50055'),
  SESSION_HOURS: z.coerce.number().min(0.1).max(24).default(10),
  /** Seed the demo users with DEMO_PASSWORD (development only). */
  DEMO_USERS: z.enum(['on', 'off']).default('off'),
  DEMO_PASSWORD: z.string().min(8).default('passage-demo'),
  SIGN_IN_PER_MINUTE: z.coerce.number().int().min(1).default(10),
  /** OpenID Connect sign-in, when an issuer is configured; people still need a Passage account (agency, roles). */
  OIDC_ISSUER: z.url().optional(),
  OIDC_CLIENT_ID: z.string().optional(),
  OIDC_CLIENT_SECRET: z.string().optional(),
  /** This gateway's callback, as registered with the issuer: <gateway>/api/session/oidc/callback. */
  OIDC_REDIRECT_URL: z.url().optional(),
  /** Addresses of the TLS proxy in front (Fastify trustProxy), so limits see people, not the proxy. */
  TRUST_PROXY: z.string().default(''),
  /** The built web console (packages/console/dist) served at /; empty: the API only. */
  CONSOLE_DIR: z.string().default(consoleDist),
});

export type GatewayConfig = z.infer<typeof gatewayConfigSchema>;
