import * as grpc from '@grpc/grpc-js';
import cookie from '@fastify/cookie';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import {
  PassageError,
  bearerMetadata,
  isPassageError,
  isTransientDependencyError,
  probeStatus,
  type Logger,
} from '@passage/platform';
import type { SessionRecord } from '../../app/ports.ts';
import { sessionRef, type Sessions } from '../../app/sessions.ts';
import type { ServiceClients } from '../grpc/clients.ts';
import { apiContract } from '@passage/contracts/descriptor';
import { textPatterns, type ApiContract } from '@passage/contracts';
import type { FeedSession, LiveFeed } from './live-feed.ts';
import type { OidcSignIn } from './oidc.ts';
import { consoleBuilt, isConsolePath, sendConsolePage, serveConsole } from './console.ts';
import { problem, problemSchema } from './problem.ts';
import { apiRoutes, type LocalService, type ServiceChannels } from './api-routes.ts';
import type { People } from '../../app/people.ts';
import { registerScim } from './scim.ts';
import { securityHeaders } from './security-headers.ts';
import { nameRequestSpans, tracedServerFactory } from './request-span.ts';
import { recordHttpMetrics, type HealthReport } from './observability.ts';
import type { IntegrationClients } from '../../app/integration-clients.ts';
import { registerOAuth } from './oauth.ts';
import { registerFhir } from './fhir.ts';
import type { AccessAudit } from '../db/access-audit.ts';

export const sessionCookie = 'passage_session';
const oidcStateCookie = 'passage_oidc_state';
const stateChanging = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export interface GatewayDependencies {
  readonly sessions: Sessions;
  readonly clients: ServiceClients;
  readonly feed: LiveFeed;
  readonly log: Logger;
  readonly sessionTtlMs: number;
  /** What the console needs before anyone signs in (ADR 35): where its quick exit goes, when a session locks. */
  readonly consoleSettings?: { readonly quickExitUrl: string; readonly idleLockMinutes: number } | undefined;
  /** Off only where a test signs in many times from one address. */
  readonly signInRateLimit?: number;
  /** OpenID Connect sign-in, when an issuer is configured. */
  readonly oidc?: { readonly signIn: OidcSignIn; readonly redirectUrl: string } | undefined;
  /** Comma-separated addresses of a trusted proxy; empty: none. */
  readonly trustProxy?: string;
  /** The built web console to serve at /, when there is one. */
  readonly consoleDir?: string | undefined;
  /** The HTTP API the proto declares (ADR 24); by default the one `pnpm gen` built. */
  readonly contract?: ApiContract | undefined;
  /** People administration, for SCIM provisioning at /scim/v2 (ADR 30). */
  readonly people?: People | undefined;
  /**
   * Integration clients (ADR 45): the token endpoint, and bearer tokens on every route whose
   * roles name `system`; absent, neither is served.
   */
  readonly integrationClients?: IntegrationClients | undefined;
  /** Token requests allowed per minute from one address. */
  readonly tokenRateLimit?: number;
  /** The services the gateway implements itself (people administration), by full name. */
  readonly local?: ReadonlyMap<string, LocalService>;
  /** Whether the gateway serves (false once it shuts down): what GET /livez and /readyz's status follow. */
  readonly ready: () => boolean;
  /** Its dependencies, for GET /readyz (GatewayHealth); without it, /readyz reports `ready` alone. */
  readonly health?: (() => Promise<HealthReport>) | undefined;
  /** Where what the gateway hands out itself (the FHIR bulk export) is recorded as an access (ADR 44). */
  readonly accessAudit: AccessAudit;
}

declare module 'fastify' {
  interface FastifyRequest {
    passageSession?: { id: string; record: SessionRecord };
    /** The integration client a bearer token stood for (ADR 45): its call is audited under its id. */
    passageClient?: { clientId: string; agencyId: string; method: string };
  }
}

/** An integration client's access token, from `Authorization: Bearer …` (RFC 6750). */
function bearerOf(authorization: string | undefined): string | undefined {
  return /^bearer\s+(\S+)\s*$/i.exec(authorization ?? '')?.[1];
}

/** A bearer token that does not (or no longer) work: 401, saying so as RFC 6750 §3 asks. */
function invalidToken(reply: FastifyReply): PassageError {
  reply.header('www-authenticate', 'Bearer realm="passage", error="invalid_token"');
  return new PassageError(
    'unauthenticated',
    'the access token is unknown, expired or revoked: get a new one at POST /oauth/token',
  );
}

/** A session locked for want of input (ADR 35): 401 with `reason: "locked"`; its password unlocks it. */
class SessionLocked extends PassageError {
  constructor() {
    super('unauthenticated', 'locked after a while without input: give your password again (POST /api/session/unlock)');
  }
}

function fail(reply: FastifyReply, error: PassageError): FastifyReply {
  const body = {
    ...problem(error.code, error.message, error.violations, error.reason),
    ...(error instanceof SessionLocked ? { reason: 'locked' } : {}),
  };
  return reply.code(body.status).type('application/problem+json').send(body);
}

/**
 * The session behind the cookie, or 401 (with reason `locked` for a session idle too long, unless
 * `locked` is allowed: signing out); for state-changing requests the CSRF token too.
 */
async function authenticate(
  request: FastifyRequest,
  sessions: Sessions,
  allow: { readonly locked?: boolean } = {},
): Promise<{ id: string; record: SessionRecord }> {
  const id = request.cookies[sessionCookie];
  const record = await sessions.resolve(id);
  if (!id || !record)
    throw new PassageError('unauthenticated', 'sign in first: no session, or it expired or was ended');
  if (record.locked && !allow.locked) throw new SessionLocked();
  if (stateChanging.has(request.method) && request.headers['x-csrf-token'] !== record.csrfToken) {
    throw new PassageError('permission_denied', 'missing or wrong X-CSRF-Token header: reload the page and try again');
  }
  return { id, record };
}

/** The one method a person who signed in with a temporary password may call: choosing their own (ADR 30). */
const changePassword = '/passage.identity.v1.PeopleService/ChangePassword';

function requirePasswordChosen(record: SessionRecord): void {
  if (record.user.mustChangePassword)
    throw new PassageError(
      'failed_precondition',
      'choose your own password first: you signed in with a temporary one (POST /api/session/password)',
    );
}

export async function buildServer(deps: GatewayDependencies): Promise<FastifyInstance> {
  const { sessions, clients } = deps;
  const app = Fastify({
    logger: false,
    // Every request in an HTTP server span of its own, answered with its traceparent (ADR 32).
    serverFactory: tracedServerFactory,
    bodyLimit: 64 * 1024,
    trustProxy: deps.trustProxy ? deps.trustProxy.split(',').map((a) => a.trim()) : false,
    // Unknown fields are refused, not silently dropped; types are not guessed in bodies.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: true } },
  });
  nameRequestSpans(app);
  recordHttpMetrics(app);
  // Before any plugin or route: every answer carries them, errors, 404s and the live feed included.
  app.addHook('onRequest', async (request, reply) => {
    for (const [name, value] of Object.entries(securityHeaders(request.url.split('?')[0] ?? '')))
      reply.raw.setHeader(name, value);
  });
  await app.register(cookie);
  await app.register(rateLimit, { global: false });
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Passage API',
        version: '1',
        description:
          'The HTTP API of Passage, the consent-scoped referral network. Sign in (POST /api/session), then send the ' +
          'session cookie, and on every state-changing request the X-CSRF-Token the sign-in returned. An agency’s ' +
          'integration client instead sends Authorization: Bearer with a token from POST /oauth/token, on the routes ' +
          'that allow role system. Commands take an Idempotency-Key header. Errors are RFC 9457 problem+json.',
      },
      components: {
        securitySchemes: {
          session: { type: 'apiKey', in: 'cookie', name: sessionCookie },
          // An agency's integration client (ADR 45), on the routes that name role system.
          client: { type: 'oauth2', flows: { clientCredentials: { tokenUrl: '/oauth/token', scopes: {} } } },
        },
        schemas: { Problem: problemSchema as never },
      },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/api/docs' });

  // API answers carry people's data: never kept in a browser's or a proxy's cache.
  app.addHook('onSend', async (request, reply, payload) => {
    if (request.url.startsWith('/api/') && !request.url.startsWith('/api/docs'))
      reply.header('cache-control', 'no-store');
    return payload;
  });
  if (deps.integrationClients) auditClientCalls(app, deps.integrationClients, deps.log);

  app.setErrorHandler((error, request, reply) => {
    if (isPassageError(error)) {
      // An internal failure is ours to read in the log, not the caller's.
      if (error.code !== 'internal') return fail(reply, error);
      deps.log.error({ err: error, url: request.routeOptions.url }, 'request failed');
      return fail(reply, new PassageError('internal', 'something went wrong on our side; it has been logged'));
    }
    const e = error as {
      validation?: { keyword?: string; instancePath?: string; message?: string; params?: Record<string, unknown> }[];
      validationContext?: string;
      statusCode?: number;
      code?: string;
      message: string;
    };
    if (e.validation) {
      const violations = e.validation.map((v) => {
        const unknownField = v.params?.['additionalProperty'];
        const missingField = v.params?.['missingProperty'];
        const extra =
          typeof unknownField === 'string' ? unknownField : typeof missingField === 'string' ? missingField : '';
        const path = `${e.validationContext ?? 'body'}${v.instancePath?.replaceAll('/', '.') ?? ''}${extra ? `.${extra}` : ''}`;
        const pattern = v.keyword === 'pattern' ? v.params?.['pattern'] : undefined;
        const unsafeText = pattern === textPatterns.line || pattern === textPatterns.prose;
        return {
          field: path,
          description:
            typeof unknownField === 'string'
              ? 'not a known field'
              : unsafeText
                ? `no control characters (such as NUL${pattern === textPatterns.line ? ', a tab or a line break' : ''}) or bidirectional-override characters`
                : (v.message ?? 'invalid'),
        };
      });
      return fail(reply, PassageError.invalid(violations));
    }
    if (e.statusCode === 413)
      return fail(reply, new PassageError('invalid_argument', 'the request body is too large for this request'));
    if (e.statusCode === 429) return fail(reply, new PassageError('resource_exhausted', e.message));
    if (e.statusCode && e.statusCode >= 400 && e.statusCode < 500) {
      return fail(reply, new PassageError('invalid_argument', e.message));
    }
    if (isTransientDependencyError(error)) {
      deps.log.warn({ err: error, url: request.routeOptions.url }, 'a dependency is unavailable');
      return fail(reply, new PassageError('unavailable', 'the service is briefly unavailable: try again shortly'));
    }
    deps.log.error({ err: error, url: request.routeOptions.url }, 'request failed');
    return fail(reply, new PassageError('internal', 'something went wrong on our side; it has been logged'));
  });
  const withConsole = deps.consoleDir !== undefined && consoleBuilt(deps.consoleDir);
  if (withConsole) await serveConsole(app, deps.consoleDir);
  else if (deps.consoleDir !== undefined)
    deps.log.warn({ consoleDir: deps.consoleDir }, 'the web console is not built: run pnpm -C packages/console build');
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? '';
    if (withConsole && isConsolePath(request.method, path)) return sendConsolePage(reply);
    return fail(reply, new PassageError('not_found', `no route ${request.method} ${path}`));
  });

  // Probes (ADR 26, ADR 31). /livez: a status, no body, as every service's health port answers
  // it. /healthz: the process answers. /readyz: whether it serves, and each dependency's status,
  // as JSON (a HEAD gets the status alone). Never the console's page.
  app.get('/livez', { schema: { hide: true } }, (_request, reply) =>
    reply.code(probeStatus('/livez', deps.ready())).header('cache-control', 'no-store').send(),
  );
  app.get('/healthz', { schema: { hide: true } }, (_request, reply) =>
    reply.header('cache-control', 'no-store').send({ status: 'ok' }),
  );
  app.get('/readyz', { schema: { hide: true } }, async (request, reply) => {
    const report = deps.health ? await deps.health() : undefined;
    const ready = deps.ready() && (report?.status ?? 'ok') === 'ok';
    const body = { status: ready ? 'ok' : 'unavailable', dependencies: report?.dependencies ?? {} };
    reply.code(ready ? 200 : 503).header('cache-control', 'no-store');
    return request.method === 'HEAD' ? reply.send() : reply.send(body);
  });

  const cookieOptions = { httpOnly: true, secure: true, sameSite: 'strict', path: '/' } as const;

  app.post(
    '/api/session',
    {
      config: {
        // Per address and username, after the body is read: one noisy client behind a shared
        // proxy cannot keep everyone else from signing in.
        rateLimit: {
          max: deps.signInRateLimit ?? 10,
          timeWindow: '1 minute',
          hook: 'preHandler',
          keyGenerator: (request: FastifyRequest) => {
            const username = (request.body as { username?: unknown } | undefined)?.username;
            return `${request.ip}|${typeof username === 'string' ? username : ''}`;
          },
        },
      },
      schema: {
        summary: 'Sign in',
        tags: ['session'],
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['username', 'password'],
          properties: {
            username: { type: 'string', maxLength: 100, pattern: textPatterns.line },
            password: { type: 'string', maxLength: 200 },
          },
        },
      },
    },
    async (request, reply) => {
      const { username, password } = request.body as { username: string; password: string };
      const { sessionId, session } = await sessions.signIn(username, password, request.ip);
      reply.setCookie(sessionCookie, sessionId, { ...cookieOptions, maxAge: deps.sessionTtlMs / 1000 });
      return reply.code(201).send(sessionView(session));
    },
  );
  app.get(
    '/api/session/oidc',
    {
      config: { rateLimit: { max: deps.signInRateLimit ?? 10, timeWindow: '1 minute' } },
      schema: { summary: 'Sign in with the organisation’s identity provider (OpenID Connect)', tags: ['session'] },
    },
    async (_request, reply) => {
      if (!deps.oidc)
        throw new PassageError('not_found', 'OpenID Connect sign-in is not configured here: use a password');
      const url = await deps.oidc.signIn.start();
      // Binds the sign-in to this browser: a callback link sent by someone else finds no cookie.
      // Lax, not Strict: the identity provider's redirect back is a cross-site navigation.
      reply.setCookie(oidcStateCookie, url.searchParams.get('state') ?? '', {
        httpOnly: true,
        secure: true,
        sameSite: 'lax',
        path: '/api/session/oidc',
        maxAge: 600,
      });
      return reply.redirect(url.toString(), 302);
    },
  );
  app.get(
    '/api/session/oidc/callback',
    { schema: { summary: 'Where the identity provider sends the person back', tags: ['session'] } },
    async (request, reply) => {
      if (!deps.oidc) throw new PassageError('not_found', 'OpenID Connect sign-in is not configured here');
      const callback = new URL(deps.oidc.redirectUrl);
      callback.search = request.url.includes('?') ? request.url.slice(request.url.indexOf('?')) : '';
      const started = request.cookies[oidcStateCookie];
      reply.clearCookie(oidcStateCookie, { path: '/api/session/oidc' });
      if (!started || started !== callback.searchParams.get('state')) {
        throw new PassageError('unauthenticated', 'this sign-in was not started in this browser: sign in again');
      }
      const user = await deps.oidc.signIn.finish(callback);
      const { sessionId } = await sessions.open(user);
      reply.setCookie(sessionCookie, sessionId, { ...cookieOptions, maxAge: deps.sessionTtlMs / 1000 });
      // A page, not a redirect: the next request is then same-site, so the Strict cookie goes with it.
      return reply
        .type('text/html; charset=utf-8')
        .send(
          '<!doctype html><meta http-equiv="refresh" content="0;url=/"><title>Passage</title><a href="/">Continue</a>',
        );
    },
  );
  app.get(
    '/api/console-settings',
    {
      schema: {
        summary: 'What the web console needs before sign-in: where its quick exit goes, when a session locks',
        tags: ['session'],
      },
    },
    () => ({
      quickExitUrl: deps.consoleSettings?.quickExitUrl ?? '/neutral.html',
      idleLockMinutes: deps.consoleSettings?.idleLockMinutes ?? 15,
    }),
  );
  app.post(
    '/api/session/activity',
    { schema: { summary: 'The person is at the screen: the idle lock counts from now', tags: ['session'] } },
    async (request, reply) => {
      const { id } = await authenticate(request, sessions);
      await sessions.activity(id);
      return reply.code(204).send();
    },
  );
  app.post(
    '/api/session/unlock',
    {
      // Throttled as a sign-in is: an unlock is a password guess too.
      config: { rateLimit: { max: deps.signInRateLimit ?? 10, timeWindow: '1 minute' } },
      schema: {
        summary: 'Unlock a session locked after a while without input: the password again',
        tags: ['session'],
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['password'],
          properties: { password: { type: 'string', maxLength: 200 } },
        },
      },
    },
    async (request) => {
      // No CSRF token: a reloaded locked page has none, and the password is what proves the person.
      const { password } = request.body as { password: string };
      const record = await sessions.unlock(request.cookies[sessionCookie] ?? '', password, request.ip);
      return sessionView(record);
    },
  );
  app.get(
    '/api/session',
    { schema: { summary: 'Who is signed in, and the CSRF token', tags: ['session'] } },
    async (request) => sessionView((await authenticate(request, sessions)).record),
  );
  app.delete(
    '/api/session',
    { schema: { summary: 'Sign out: the session is revoked', tags: ['session'] } },
    async (request, reply) => {
      const { id } = await authenticate(request, sessions, { locked: true });
      await sessions.signOut(id);
      reply.clearCookie(sessionCookie, cookieOptions);
      // Whatever this browser kept of the session (a cache a proxy or an extension filled) goes too.
      reply.header('clear-site-data', '"cache"');
      return reply.code(204).send();
    },
  );
  app.put(
    '/api/session/language',
    {
      schema: {
        summary: 'Remember the language of the console for this person',
        tags: ['session'],
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['language'],
          properties: { language: { type: 'string', enum: ['en', 'fr'] } },
        },
      },
    },
    async (request, reply) => {
      const { record } = await authenticate(request, sessions);
      await sessions.setLanguage(record.user.userId, (request.body as { language: 'en' | 'fr' }).language);
      return reply.code(204).send();
    },
  );

  // The HTTP API: one route per method the proto maps with google.api.http (ADR 24).
  const channels: ServiceChannels = new Map<string, grpc.Client | LocalService>([
    ...clients.byService,
    ...(deps.local ?? []),
  ]);
  for (const route of apiRoutes(deps.contract ?? apiContract())) {
    app.route({
      method: route.method,
      url: route.url,
      ...(route.bodyLimit ? { bodyLimit: route.bodyLimit } : {}),
      schema: {
        summary: route.summary,
        tags: [route.tag],
        ...(route.public
          ? {}
          : { security: route.roles.includes('system') ? [{ session: [] }, { client: [] }] : [{ session: [] }] }),
        ...(route.schema.params ? { params: route.schema.params } : {}),
        ...(route.schema.querystring ? { querystring: route.schema.querystring } : {}),
        ...(route.schema.body ? { body: route.schema.body } : {}),
        ...(route.idempotent
          ? { headers: { type: 'object', properties: { 'idempotency-key': { type: 'string' } } } }
          : {}),
        response: { [route.status]: { description: 'OK', ...route.schema.response } },
      },
      // A command with nothing to add may come without a body.
      preValidation: (request, _reply, done) => {
        if (route.schema.body && request.body === undefined) request.body = {};
        done();
      },
      // Who is asking is settled before what is asked is read: no session → 401, wrong role → 403, then validation.
      onRequest: async (request, reply) => {
        if (route.public) return;
        const bearer = deps.integrationClients ? bearerOf(request.headers.authorization) : undefined;
        if (bearer !== undefined && deps.integrationClients) {
          // An integration client (ADR 45): a worker of its agency, only where the route names system.
          const found = await deps.integrationClients.authenticate(bearer);
          const method = route.grpcPath.slice(1);
          if ('refused' in found) {
            if (found.refused) request.passageClient = { ...found.refused, method };
            throw invalidToken(reply);
          }
          request.passageClient = { ...found.client, method };
          if (!route.roles.includes('system'))
            throw new PassageError(
              'permission_denied',
              route.roles.length > 0
                ? `this needs one of the roles ${route.roles.join(', ')}`
                : 'this is for people signed in, not for an integration client',
            );
          return;
        }
        const session = await authenticate(request, sessions);
        if (route.grpcPath !== changePassword) requirePasswordChosen(session.record);
        const { roles } = session.record.user;
        if (route.roles.length > 0 && !roles.some((role) => route.roles.includes(role))) {
          throw new PassageError('permission_denied', `this needs one of the roles ${route.roles.join(', ')}`);
        }
        request.passageSession = session;
      },
      handler: async (request, reply) => {
        const session = request.passageSession;
        const json = route.requestJson({
          params: (request.params ?? {}) as Record<string, string>,
          query: (request.query ?? {}) as Record<string, unknown>,
          body: request.body ?? {},
          idempotencyKey: route.idempotent ? requireIdempotencyKey(request.headers['idempotency-key']) : '',
        });
        let answer: string;
        try {
          const client = request.passageClient;
          const metadata = session
            ? bearerMetadata(sessions.tokenFor(session.id, session.record))
            : client && deps.integrationClients
              ? bearerMetadata(deps.integrationClients.callerToken(client))
              : new grpc.Metadata();
          answer = await route.call(json, metadata, channels, session, client);
        } catch (error) {
          // A service names fields of its request: the caller is told where they are in theirs.
          if (!isPassageError(error) || error.violations.length === 0) throw error;
          throw new PassageError(
            error.code,
            error.message,
            error.violations.map((v) => ({ ...v, field: route.locate(v.field) })),
          );
        }
        // Already canonical JSON: sent as it is, not through the response schema's serializer.
        return reply.code(route.status).type('application/json; charset=utf-8').send(answer);
      },
    });
  }

  if (deps.people) await registerScim(app, deps.people, deps.log);
  if (deps.integrationClients) {
    await registerOAuth(app, deps.integrationClients, { perMinute: deps.tokenRateLimit ?? 60 });
  }

  // FHIR R4 at /api/fhir (ADR 44): reads through the same services, with the caller's own token.
  await registerFhir(app, {
    clients,
    log: deps.log,
    accessAudit: deps.accessAudit,
    signedIn: async (request) => {
      const session = await authenticate(request, sessions);
      requirePasswordChosen(session.record);
      return { record: session.record, metadata: bearerMetadata(sessions.tokenFor(session.id, session.record)) };
    },
  });

  app.get(
    '/api/events',
    {
      schema: {
        summary: "Your agency's live feed (server-sent events; resumes from Last-Event-ID)",
        tags: ['referrals'],
      },
    },
    async (request, reply) => {
      const { id, record } = await authenticate(request, sessions);
      requirePasswordChosen(record);
      await deps.feed.stream(request, reply, feedSession(sessions, id, record));
    },
  );
  app.get(
    '/api/oversight/events',
    {
      schema: {
        summary:
          'Oversight live feed (server-sent events; auditor or admin): consent scopes that let police read, as they are proposed, confirmed or granted',
        tags: ['audit'],
      },
    },
    async (request, reply) => {
      const { id, record } = await authenticate(request, sessions);
      requirePasswordChosen(record);
      if (!mayOversee(record.user.roles)) {
        throw new PassageError('permission_denied', 'the oversight feed needs the auditor or admin role');
      }
      await deps.feed.oversight(request, reply, feedSession(sessions, id, record, mayOversee));
    },
  );
  app.get('/api/openapi.json', { schema: { hide: true } }, () => app.swagger());
  return app;
}

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Every call of an integration client is audited under its id (audit.v1.client_call, ADR 45):
 * the method, the route, the status and the error code, the referral the path names — before
 * the answer leaves. If the record cannot be written, the client gets 503 instead of the answer.
 */
function auditClientCalls(app: FastifyInstance, clients: IntegrationClients, log: Logger): void {
  app.addHook('onSend', async (request, reply, payload) => {
    const client = request.passageClient;
    if (!client) return payload;
    const status = reply.statusCode;
    let outcome = 'ok';
    if (status >= 400) {
      try {
        const code = (JSON.parse(String(payload)) as { code?: unknown }).code;
        outcome = typeof code === 'string' ? code : 'error';
      } catch {
        outcome = 'error';
      }
    }
    const referralId = (request.params as Record<string, unknown> | undefined)?.['referral_id'];
    try {
      await clients.recordCall({
        clientId: client.clientId,
        agencyId: client.agencyId,
        method: client.method,
        route: `${request.method} ${request.routeOptions.url ?? ''}`,
        status,
        outcome,
        referralId: typeof referralId === 'string' && uuid.test(referralId) ? referralId.toLowerCase() : '',
      });
      return payload;
    } catch (error) {
      log.warn({ err: error, url: request.routeOptions.url }, 'an integration client call could not be audited');
      const refused = problem('unavailable', 'the service is briefly unavailable: try again shortly');
      reply.code(refused.status).type('application/problem+json');
      return JSON.stringify(refused);
    }
  });
}

const mayOversee = (roles: readonly string[]): boolean => roles.some((role) => role === 'auditor' || role === 'admin');

/**
 * A session as a feed sees it: still valid while it resolves to the same person at the same
 * agency (and, for a feed that needs them, with roles that still allow it).
 */
function feedSession(
  sessions: Sessions,
  id: string,
  record: SessionRecord,
  allowed: (roles: readonly string[]) => boolean = () => true,
): FeedSession {
  return {
    key: sessionRef(id),
    userId: record.user.userId,
    agencyId: record.user.agencyId,
    expiresAt: record.expiresAt,
    stillValid: async () => {
      const now = await sessions.resolve(id);
      // A locked session's feed ends too: nothing reaches a screen left unattended.
      return (
        now?.locked === false &&
        now.user.userId === record.user.userId &&
        now.user.agencyId === record.user.agencyId &&
        allowed(now.user.roles)
      );
    },
  };
}

function sessionView(session: SessionRecord) {
  const { userId, agencyId, roles, displayName, language } = session.user;
  return {
    user: { userId, agencyId, roles, displayName, language },
    // The console shows a change-password step first: every other call is refused until then.
    mustChangePassword: session.user.mustChangePassword === true,
    csrfToken: session.csrfToken,
    expiresAt: session.expiresAt,
  };
}

export function requireIdempotencyKey(value: unknown): string {
  if (typeof value !== 'string' || !/^[A-Za-z0-9._:-]{8,100}$/.test(value)) {
    throw PassageError.invalid([
      {
        field: 'Idempotency-Key',
        description: 'a header of 8–100 letters, digits or ._:- (a UUID is good); the same for a retry',
      },
    ]);
  }
  return value;
}
