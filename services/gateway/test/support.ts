import { randomBytes, randomUUID } from 'node:crypto';
import { auditConfigSchema } from '@passage/audit/config';
import { auditDatabases } from '@passage/audit/migrations';
import { startAudit, type RunningAudit } from '@passage/audit/service';
import { escalationConfigSchema } from '@passage/escalation/config';
import { escalationDatabases } from '@passage/escalation/migrations';
import { startEscalation, type RunningEscalation } from '@passage/escalation/service';
import type { ApiContract } from '@passage/contracts';
import { createLogger, loadConfig } from '@passage/platform';
import { testTls } from '@passage/platform/testing';
import { startNetwork, type Network } from '@passage/referrals/testing';
import { gatewayDatabases } from '../migrations/index.ts';
import { gatewayConfigSchema } from '../src/config.ts';
import { startGateway, type RunningGateway } from '../src/service.ts';

export const demoPassword = 'synthetic-demo-password';

export interface GatewayLab {
  readonly n: Network;
  readonly gateway: RunningGateway;
  readonly audit: RunningAudit;
  readonly escalation: RunningEscalation;
  stop(): Promise<void>;
}

/**
 * Every service, in this process, on the test's own database and NATS namespace, behind the
 * gateway; the gateway calls them over mutual TLS.
 */
export async function startGatewayLab(
  label: string,
  extra: Record<string, string> = {},
  contract?: ApiContract,
  /** The escalation service's clock (tests count its reads as the workers' looks). */
  escalationNow?: () => Date,
  /** The gateway's sessions' clock (tests move it past the idle lock). */
  gatewayNow?: () => Date,
  /** Notification e-mails' retry and poll intervals (tests shorten them). */
  mail?: { retryBaseMs?: number; pollMs?: number },
): Promise<GatewayLab> {
  const n = await startNetwork(label, { alsoMigrated: [auditDatabases, escalationDatabases, gatewayDatabases] });
  const log = createLogger(`${label}-test`, process.env['LOG_LEVEL'] ?? 'silent');
  const common = {
    ...n.referralsEnv,
    REFERRALS_ADDRESS: n.referralService!.address,
    SERVICE_TOKEN_KEY: n.serviceTokenKey,
  };
  const audit = await startAudit(
    loadConfig(auditConfigSchema, {
      ...common,
      ...testTls('audit').env,
      AUDIT_SIGNING_KEY: randomBytes(32).toString('base64'),
      AUDIT_CHECKPOINT_SECONDS: '0.5',
    }),
    log,
  );
  const escalation = await startEscalation(
    loadConfig(escalationConfigSchema, { ...common, ...testTls('escalation').env }),
    log,
    escalationNow,
  );
  const gateway = await startGateway(
    loadConfig(gatewayConfigSchema, {
      ...common,
      ...testTls('gateway').env,
      AUDIT_ADDRESS: audit.address,
      ESCALATION_ADDRESS: escalation.address,
      HTTP_PORT: '0',
      PASSAGE_ENV: 'development',
      DEMO_USERS: 'on',
      DEMO_PASSWORD: demoPassword,
      SIGN_IN_PER_MINUTE: '1000',
      OAUTH_TOKEN_PER_MINUTE: '1000',
      ...extra,
    }),
    log,
    { contract, ...(gatewayNow ? { now: gatewayNow } : {}), ...(mail ? { mail } : {}) },
  );
  return {
    n,
    gateway,
    audit,
    escalation,
    async stop() {
      await gateway.shutdown.run();
      await escalation.shutdown.run();
      await audit.shutdown.run();
      await n.stop();
    },
  };
}

export interface Session {
  readonly cookie: string;
  readonly csrf: string;
  readonly setCookie: string;
}

export class Http {
  readonly base: string;
  readonly #sessions = new Map<string, Session>();

  constructor(base: string) {
    this.base = base;
  }

  /** A demo user's session, signed in once and kept for the rest of the file. */
  async as(username: string): Promise<Session> {
    const kept = this.#sessions.get(username);
    if (kept) return kept;
    const session = await this.signIn(username);
    this.#sessions.set(username, session);
    return session;
  }

  async signIn(username: string, password = demoPassword): Promise<Session> {
    const response = await fetch(`${this.base}/api/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, password }),
    });
    if (response.status !== 201) throw new Error(`sign-in as ${username}: ${response.status} ${await response.text()}`);
    const setCookie = response.headers.get('set-cookie') ?? '';
    const body = (await response.json()) as { csrfToken: string };
    return { cookie: setCookie.split(';')[0]!, csrf: body.csrfToken, setCookie };
  }

  request(
    method: string,
    path: string,
    options: {
      session?: Session;
      body?: unknown;
      rawBody?: string;
      csrf?: string | null;
      idempotencyKey?: string;
      headers?: Record<string, string>;
    } = {},
  ): Promise<Response> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.session) headers['cookie'] = options.session.cookie;
    const csrf = options.csrf === undefined ? options.session?.csrf : options.csrf;
    if (csrf && method !== 'GET') headers['x-csrf-token'] = csrf;
    if (options.idempotencyKey) headers['idempotency-key'] = options.idempotencyKey;
    let body: string | undefined;
    if (options.rawBody !== undefined) body = options.rawBody;
    else if (options.body !== undefined) body = JSON.stringify(options.body);
    if (body !== undefined) headers['content-type'] = 'application/json';
    return fetch(`${this.base}${path}`, { method, headers, body });
  }

  // The caller names the body's shape it expects; parsing cannot check it.
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters
  async json<T = Record<string, unknown>>(
    method: string,
    path: string,
    options: Parameters<Http['request']>[2] = {},
  ): Promise<{ status: number; body: T; type: string }> {
    const response = await this.request(method, path, options);
    const text = await response.text();
    return {
      status: response.status,
      body: (text ? JSON.parse(text) : {}) as T,
      type: response.headers.get('content-type') ?? '',
    };
  }
}

/** The body of a verbal consent in English for one scope, expiring in a day. */
export function verbalConsent(scope: { recipientAgencyIds: string[]; purposes: string[]; categories: string[] }) {
  return {
    method: 'CAPTURE_METHOD_VERBAL',
    language: 'en',
    expiresAt: new Date(Date.now() + 86_400_000).toISOString(),
    scopes: [scope],
  };
}

/** A police officer records a scope letting their own service investigate (ADR 22: only proposed). */
export async function proposeInvestigation(
  http: Http,
  officer: Session,
): Promise<{ consentId: string; scope: { id: string; proposedAt?: string } }> {
  const granted = await http.json<{ consentId: string; consent: { scopes: { id: string; proposedAt?: string }[] } }>(
    'POST',
    '/api/consents',
    {
      session: officer,
      idempotencyKey: randomUUID(),
      body: verbalConsent({
        recipientAgencyIds: ['peel-regional-police'],
        purposes: ['investigation'],
        categories: ['needs'],
      }),
    },
  );
  if (granted.status !== 201) throw new Error(`consent not recorded: ${JSON.stringify(granted.body)}`);
  return { consentId: granted.body.consentId, scope: granted.body.consent.scopes[0]! };
}

export * from './integration-clients-support.ts';
