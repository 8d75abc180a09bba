import { generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '@passage/cli/main';
import { apiContract } from '@passage/contracts/descriptor';
import { waitFor } from '@passage/testing';
import { apiRoutes } from '../src/adapters/http/api-routes.ts';
import {
  Http,
  assertionForm,
  basicCredentials,
  clientAssertion,
  demoPassword,
  integrationClientToken,
  issueClient,
  requestToken,
  secretToken,
  startGatewayLab,
  verbalConsent,
  type GatewayLab,
  type Session,
} from './support.ts';

// Integration clients (ADR 45): an agency's own system, with OAuth 2.0 client credentials, on
// the same HTTP API as a worker of its agency — against every real service, in this process.
let lab: GatewayLab;
let http: Http;
let admin: Session;
const sessions = new Map<string, Session>();
const as = async (user: string): Promise<Session> => {
  if (!sessions.has(user)) sessions.set(user, await http.signIn(user));
  return sessions.get(user)!;
};

beforeAll(async () => {
  lab = await startGatewayLab('clients');
  http = new Http(lab.gateway.url);
  admin = await as('admin');
}, 240_000);

afterAll(async () => {
  await lab?.stop();
});

/** A call of the HTTP API as the client: its access token, and no cookie or CSRF token. */
function asClient(token: string, method: string, path: string, options: { body?: unknown; command?: boolean } = {}) {
  return http.json(method, path, {
    headers: { authorization: `Bearer ${token}` },
    body: options.body ?? (method === 'GET' ? undefined : {}),
    idempotencyKey: options.command ? randomUUID() : undefined,
  });
}

/** Peel police records the person's consent for `toAgency` (needs, safe contact) and sends a referral there. */
async function grantAndSend(toAgency: string) {
  const officer = await as('peel-officer');
  const granted = await http.json<{ subjectRef: string }>('POST', '/api/consents', {
    session: officer,
    idempotencyKey: randomUUID(),
    body: verbalConsent({
      recipientAgencyIds: [toAgency],
      purposes: ['referral'],
      categories: ['needs', 'safe_contact'],
    }),
  });
  expect(granted.status, JSON.stringify(granted.body)).toBe(201);
  const sent = await http.json<{ referral: { id: string } }>('POST', '/api/referrals', {
    session: officer,
    idempotencyKey: randomUUID(),
    body: {
      subjectRef: granted.body.subjectRef,
      fromAgency: 'peel-regional-police',
      toAgency,
      priority: 'PRIORITY_URGENT',
      needs: ['counselling'],
      language: 'en',
      packet: [{ category: 'needs', content: `Synthetic: a safe place tonight (${toAgency})` }],
    },
  });
  expect(sent.status, JSON.stringify(sent.body)).toBe(201);
  return { subjectRef: granted.body.subjectRef, referralId: sent.body.referral.id };
}

/** The audit log's entries of one action by one actor (the gateway's outbox → the bus → the log). */
async function entries(action: string, actorUser: string): Promise<Record<string, unknown>[]> {
  const { rows } = await lab.n.sql.query<{ entry: Record<string, unknown>; referral_id: string }>(
    `select convert_from(entry, 'UTF8')::jsonb as entry, referral_id from audit.entries
      where action = $1 and actor_user = $2 order by seq`,
    [action, actorUser],
  );
  return rows.map((row) => ({ ...row.entry, referralId: row.referral_id }));
}

/**
 * Waits for what reaches the audit log (the gateway's and the services' outboxes → the bus → the
 * log): a minute at most, for a machine under load.
 */
const untilLogged = <T>(probe: () => Promise<T>, done: (value: T) => boolean): Promise<T> =>
  waitFor(probe, done, 60_000);

const ecKey = () => generateKeyPairSync('ec', { namedCurve: 'P-256' });
const publicJwk = (key: KeyObject) => key.export({ format: 'jwk' });

describe('a secret client', () => {
  it('is issued by an administrator, answered once, listed without it; its token is an RFC 6749 §5.1 answer, never cached', async () => {
    const client = await issueClient(http, admin, 'london-coalition');
    expect(client.clientId).toMatch(/^client-[0-9a-f]{12}$/);
    expect(client.clientSecret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(client.tokenEndpoint).toBe('http://localhost:8080/oauth/token');
    const listed = await http.json<{ clients: { clientId: string; authMethod: string; revokedAt?: string }[] }>(
      'GET',
      '/api/integration-clients?agencyId=london-coalition',
      { session: admin },
    );
    expect(listed.body.clients.length).toBeGreaterThan(0);
    expect(listed.body.clients.find((c) => c.clientId === client.clientId)).toMatchObject({
      authMethod: 'CLIENT_AUTH_METHOD_CLIENT_SECRET',
    });
    expect(JSON.stringify(listed.body)).not.toContain(client.clientSecret);

    const basic = await requestToken(
      http.base,
      { grant_type: 'client_credentials' },
      { authorization: basicCredentials(client.clientId, client.clientSecret) },
    );
    expect(basic.status, JSON.stringify(basic.body)).toBe(200);
    expect(basic.body).toEqual({
      access_token: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      token_type: 'Bearer',
      expires_in: 600,
    });
    expect(basic.headers.get('cache-control')).toBe('no-store');
    expect(basic.headers.get('pragma')).toBe('no-cache');
    const post = await requestToken(http.base, {
      grant_type: 'client_credentials',
      client_id: client.clientId,
      client_secret: client.clientSecret,
    });
    expect(post.status, JSON.stringify(post.body)).toBe(200);
    expect(post.body['access_token']).not.toBe(basic.body['access_token']);

    const metadata = await http.json('GET', '/.well-known/oauth-authorization-server');
    expect(metadata.body).toMatchObject({
      token_endpoint: 'http://localhost:8080/oauth/token',
      grant_types_supported: ['client_credentials'],
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'private_key_jwt'],
    });
    // Issued, each token request audited under the client's id.
    const issued = await untilLogged(
      () => entries('audit.v1.client_token', client.clientId),
      (found) => found.length === 2,
    );
    expect(issued[0]).toMatchObject({
      event: { clientToken: { outcome: 'issued', authMethod: 'client_secret_basic' } },
    });
    const created = await untilLogged(
      () => entries('audit.v1.admin_action', 'admin'),
      (found) => found.some((e) => JSON.stringify(e).includes(client.clientId)),
    );
    expect(created.find((e) => JSON.stringify(e).includes(client.clientId))).toMatchObject({
      event: {
        adminAction: {
          action: 'integration_client_created',
          targetUserId: client.clientId,
          targetAgency: 'london-coalition',
          roles: ['system'],
          credential: 'client_secret',
        },
      },
    });
  });

  it("works its agency's inbox as a worker of it: reads and acknowledges a referral sent there, and another agency's is refused exactly as to a worker; each call audited under its id", async () => {
    const ours = await grantAndSend('london-coalition');
    const theirs = await grantAndSend('windsor-essex-ahtag');
    const { clientId, accessToken } = await integrationClientToken(http, 'london-coalition');

    const inbox = await asClient(accessToken, 'GET', '/api/inbox');
    expect(inbox.status, JSON.stringify(inbox.body)).toBe(200);
    const ids = (inbox.body as { referrals: { id: string }[] }).referrals.map((r) => r.id);
    expect(ids.length).toBeGreaterThan(0);
    expect(ids).toContain(ours.referralId);
    expect(ids).not.toContain(theirs.referralId);
    const read = await asClient(accessToken, 'GET', `/api/referrals/${ours.referralId}`);
    expect(read.status).toBe(200);
    expect(JSON.stringify(read.body)).toContain('Synthetic: a safe place tonight (london-coalition)');
    const acknowledged = await asClient(accessToken, 'POST', `/api/referrals/${ours.referralId}/acknowledge`, {
      command: true,
    });
    expect(acknowledged.status, JSON.stringify(acknowledged.body)).toBe(200);
    const timeline = await asClient(accessToken, 'GET', `/api/referrals/${ours.referralId}/timeline`);
    expect(JSON.stringify(timeline.body)).toContain(clientId);

    // Windsor's referral: what London's intake worker gets, word for word — and nothing of it.
    const refused = await asClient(accessToken, 'GET', `/api/referrals/${theirs.referralId}`);
    const worker = await http.json('GET', `/api/referrals/${theirs.referralId}`, {
      session: await as('london-intake'),
    });
    expect(refused.status).toBe(404);
    expect(refused).toEqual(worker);
    expect(JSON.stringify(refused.body)).not.toContain('Synthetic');

    // The access log of the person names the client as the reader, a worker (system) of London.
    const log = await untilLogged(
      async () =>
        (
          await http.json<{
            records: { actorUser: string; actorAgency: string; actorRole: string; outcome: string }[];
          }>('GET', `/api/audit/access-log/${ours.subjectRef}`, { session: admin })
        ).body.records,
      (records) => records.some((r) => r.actorUser === clientId),
    );
    expect(log.find((r) => r.actorUser === clientId)).toMatchObject({
      actorAgency: 'london-coalition',
      actorRole: 'system',
      outcome: 'granted',
    });
    await untilLogged(
      async () =>
        (
          await http.json<{ records: { actorUser: string; outcome: string }[] }>(
            'GET',
            `/api/audit/access-log/${theirs.subjectRef}`,
            { session: admin },
          )
        ).body.records,
      (records) => records.some((r) => r.actorUser === clientId && r.outcome === 'denied'),
    );
    // And every call, granted or refused, is an entry of its own: method, route, status, referral.
    const calls = await untilLogged(
      () => entries('audit.v1.client_call', clientId),
      (found) => found.length >= 5,
    );
    expect(calls.map((c) => (c['event'] as { clientCall: { route: string; status: number } }).clientCall)).toEqual([
      { method: 'passage.referrals.v1.ReferralService/ListInbox', route: 'GET /api/inbox', status: 200, outcome: 'ok' },
      {
        method: 'passage.referrals.v1.ReferralService/Get',
        route: 'GET /api/referrals/:referral_id',
        status: 200,
        outcome: 'ok',
      },
      {
        method: 'passage.referrals.v1.ReferralService/Acknowledge',
        route: 'POST /api/referrals/:referral_id/acknowledge',
        status: 200,
        outcome: 'ok',
      },
      {
        method: 'passage.referrals.v1.ReferralService/Timeline',
        route: 'GET /api/referrals/:referral_id/timeline',
        status: 200,
        outcome: 'ok',
      },
      {
        method: 'passage.referrals.v1.ReferralService/Get',
        route: 'GET /api/referrals/:referral_id',
        status: 404,
        outcome: 'not_found',
      },
    ]);
    expect(calls[1]).toMatchObject({
      referralId: ours.referralId,
      event: { actor: { agency: 'london-coalition', user: clientId, role: 'system' } },
    });
    expect(calls[4]).toMatchObject({ referralId: theirs.referralId });
  });

  it('reaches exactly the routes that name role system, never a supervisor’s, an auditor’s or an administrator’s, and never fails', async () => {
    const { referralId } = await grantAndSend('windsor-essex-ahtag');
    const { accessToken } = await integrationClientToken(http, 'london-coalition');
    const routes = apiRoutes(apiContract());
    const fill = (url: string) =>
      url.replace(/:(\w+)/g, (_, name: string) =>
        name === 'referral_id' ? referralId : name === 'id' || name === 'agency_id' ? 'london-coalition' : randomUUID(),
      );
    const reached = routes.filter((route) => !route.public && route.roles.includes('system'));
    expect(reached.length).toBeGreaterThan(15);
    for (const route of routes.filter((r) => !r.public)) {
      const answer = await asClient(
        accessToken,
        route.method,
        fill(route.url) + (route.url === '/api/match' ? '?needs=counselling&municipality=london' : ''),
        { command: route.idempotent },
      );
      const where = `${route.method} ${route.url} → ${answer.status} ${JSON.stringify(answer.body).slice(0, 200)}`;
      expect(answer.status, where).toBeLessThan(500);
      expect(JSON.stringify(answer.body), where).not.toContain('Synthetic');
      const roleRefusal = /needs one of the roles|for people signed in/;
      if (route.roles.includes('system')) expect(JSON.stringify(answer.body), where).not.toMatch(roleRefusal);
      else {
        expect(answer.status, where).toBe(403);
        expect(JSON.stringify(answer.body), where).toMatch(roleRefusal);
      }
    }
    // What the roles say: it manages nobody, takes nothing over, reads no report.
    for (const path of ['/api/people', '/api/integration-clients', '/api/reports/handoff', '/api/notifications'])
      expect((await asClient(accessToken, 'GET', path)).status, path).toBe(403);
  });

  it('answers a malformed or refused token request as RFC 6749 §5.2 says, changing nothing', async () => {
    const client = await issueClient(http, admin, 'london-coalition');
    const basic = { authorization: basicCredentials(client.clientId, client.clientSecret) };
    const cases: [string, Record<string, string>, Record<string, string>, number, string][] = [
      ['another grant', { grant_type: 'password' }, basic, 400, 'unsupported_grant_type'],
      ['no grant', {}, basic, 400, 'invalid_request'],
      ['a scope', { grant_type: 'client_credentials', scope: 'referrals' }, basic, 400, 'invalid_scope'],
      [
        'two ways to authenticate',
        { grant_type: 'client_credentials', client_id: client.clientId, client_secret: client.clientSecret },
        basic,
        400,
        'invalid_request',
      ],
      ['no authentication', { grant_type: 'client_credentials' }, {}, 401, 'invalid_client'],
      [
        'a wrong secret',
        { grant_type: 'client_credentials' },
        { authorization: basicCredentials(client.clientId, 'not-the-secret') },
        401,
        'invalid_client',
      ],
      [
        'an unknown client',
        { grant_type: 'client_credentials' },
        { authorization: basicCredentials('client-000000000000', client.clientSecret) },
        401,
        'invalid_client',
      ],
    ];
    for (const [what, form, headers, status, error] of cases) {
      const answer = await requestToken(http.base, form, headers);
      expect(answer, what).toMatchObject({ status, body: { error, error_description: expect.any(String) } });
      expect(answer.headers.get('cache-control'), what).toBe('no-store');
      if (status === 401) expect(answer.headers.get('www-authenticate'), what).toMatch(/^Basic realm="passage"/);
    }
    const repeated = await fetch(`${http.base}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...basic },
      body: 'grant_type=client_credentials&grant_type=client_credentials',
    });
    expect(repeated.status).toBe(400);
    expect(await repeated.json()).toMatchObject({ error: 'invalid_request' });
    const json = await fetch(`${http.base}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...basic },
      body: JSON.stringify({ grant_type: 'client_credentials' }),
    });
    expect(json.status).toBe(400);
    expect(await json.json()).toMatchObject({ error: 'invalid_request' });
    const bearer = await http.json('GET', '/api/inbox', { headers: { authorization: 'Bearer not-a-token' } });
    expect(bearer).toMatchObject({ status: 401, body: { code: 'unauthenticated' } });
    // The wrong secret is on the record under the client it named; the unknown client nowhere.
    const refusals = await untilLogged(
      () => entries('audit.v1.client_token', client.clientId),
      (found) => found.length >= 1,
    );
    expect(refusals.map((e) => (e['event'] as { clientToken: unknown }).clientToken)).toEqual([
      { outcome: 'refused', authMethod: 'client_secret_basic', reason: 'invalid_credential' },
    ]);
  });
});

describe('a private-key JWT client', () => {
  it('gets a token with an ES256 assertion, once per jti; a replayed, misaddressed, expired, far-off or wrongly signed one is refused', async () => {
    const keys = ecKey();
    const client = await issueClient(http, admin, 'london-coalition', { publicJwk: publicJwk(keys.publicKey) });
    expect(client.clientSecret).toBe('');
    const claims = { clientId: client.clientId, audience: client.tokenEndpoint };
    const assertion = clientAssertion(keys.privateKey, claims);
    const issued = await requestToken(http.base, assertionForm(assertion));
    expect(issued.status, JSON.stringify(issued.body)).toBe(200);
    const inbox = await asClient(issued.body['access_token'] as string, 'GET', '/api/inbox');
    expect(inbox.status).toBe(200);

    const now = Math.floor(Date.now() / 1000);
    const refused: [string, string][] = [
      ['replayed jti', assertion],
      ['wrong aud', clientAssertion(keys.privateKey, { ...claims, audience: `${http.base}/oauth/token` })],
      ['expired', clientAssertion(keys.privateKey, { ...claims, iat: now - 600, exp: now - 300 })],
      ['exp an hour away', clientAssertion(keys.privateKey, { ...claims, exp: now + 3600 })],
      ['no jti', clientAssertion(keys.privateKey, { ...claims, jti: undefined })],
      ['another key', clientAssertion(ecKey().privateKey, claims)],
      ['iss another client', clientAssertion(keys.privateKey, { ...claims, iss: 'client-000000000000' })],
    ];
    for (const [what, token] of refused) {
      const answer = await requestToken(http.base, assertionForm(token));
      expect(answer, what).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
    }
    const noAlg = await requestToken(
      http.base,
      assertionForm(clientAssertion(keys.privateKey, claims, { alg: 'none' })),
    );
    expect(noAlg).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
    const wrongType = await requestToken(http.base, {
      ...assertionForm(clientAssertion(keys.privateKey, claims)),
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:saml2-bearer',
    });
    expect(wrongType).toMatchObject({ status: 400, body: { error: 'invalid_request' } });
    const otherId = await requestToken(http.base, {
      ...assertionForm(clientAssertion(keys.privateKey, claims)),
      client_id: 'client-000000000000',
    });
    expect(otherId).toMatchObject({ status: 400, body: { error: 'invalid_request' } });
    // A secret does nothing for a key client.
    const secret = await requestToken(
      http.base,
      { grant_type: 'client_credentials' },
      { authorization: basicCredentials(client.clientId, 'any-secret') },
    );
    expect(secret.status).toBe(401);

    const reasons = await untilLogged(
      async () =>
        (await entries('audit.v1.client_token', client.clientId)).map(
          (e) => (e['event'] as { clientToken: { outcome: string; reason?: string } }).clientToken,
        ),
      (found) => found.length >= 9,
    );
    expect(reasons[0]).toMatchObject({ outcome: 'issued', authMethod: 'private_key_jwt' });
    expect(reasons.slice(1, 8).map((r) => r.reason)).toEqual([
      'replayed_assertion',
      'invalid_assertion',
      'invalid_assertion',
      'invalid_assertion',
      'invalid_assertion',
      'invalid_credential',
      'invalid_assertion',
    ]);
  });

  it('takes an RS256 key, and refuses a private key, a small RSA key or a key of another curve, naming public_jwk', async () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const client = await issueClient(http, admin, 'london-coalition', { publicJwk: publicJwk(rsa.publicKey) });
    const answer = await requestToken(
      http.base,
      assertionForm(clientAssertion(rsa.privateKey, { clientId: client.clientId, audience: client.tokenEndpoint })),
    );
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    const listed = await http.json<{ clients: { clientId: string; keyAlgorithm: string; keyThumbprint: string }[] }>(
      'GET',
      '/api/integration-clients',
      { session: admin },
    );
    expect(listed.body.clients.find((c) => c.clientId === client.clientId)).toMatchObject({
      keyAlgorithm: 'RS256',
      keyThumbprint: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
    });
    for (const [what, jwk] of [
      ['a private key', ecKey().privateKey.export({ format: 'jwk' })],
      ['RSA 1024', generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'jwk' })],
      ['P-384', generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey.export({ format: 'jwk' })],
    ] as const) {
      const refused = await http.json<{ violations: { field: string }[] }>('POST', '/api/integration-clients', {
        session: admin,
        body: {
          agencyId: 'london-coalition',
          name: 'Synthetic',
          authMethod: 'CLIENT_AUTH_METHOD_PRIVATE_KEY_JWT',
          publicJwk: JSON.stringify(jwk),
        },
      });
      expect(refused.status, what).toBe(400);
      expect(
        refused.body.violations.map((v) => v.field),
        what,
      ).toEqual(['body.publicJwk']);
    }
  });
});

describe('rotation and revocation', () => {
  it('rotating ends the old secret and its tokens at once (401); with a grace period both work until it ends', async () => {
    const client = await issueClient(http, admin, 'london-coalition');
    const oldToken = await secretToken(http.base, client.clientId, client.clientSecret);
    const rotated = await http.json<{
      clientSecret: string;
      client: { rotatedAt?: string; previousValidUntil?: string };
    }>('POST', `/api/integration-clients/${client.clientId}/rotate`, { session: admin, body: {} });
    expect(rotated.status, JSON.stringify(rotated.body)).toBe(200);
    expect(rotated.body.clientSecret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(rotated.body.client.rotatedAt).toBeTruthy();
    expect(rotated.body.client.previousValidUntil).toBeUndefined();
    const old = await requestToken(
      http.base,
      { grant_type: 'client_credentials' },
      { authorization: basicCredentials(client.clientId, client.clientSecret) },
    );
    expect(old).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
    const oldCall = await asClient(oldToken, 'GET', '/api/inbox');
    expect(oldCall.status).toBe(401);
    const fresh = await secretToken(http.base, client.clientId, rotated.body.clientSecret);
    expect((await asClient(fresh, 'GET', '/api/inbox')).status).toBe(200);

    const graced = await http.json<{ clientSecret: string; client: { previousValidUntil?: string } }>(
      'POST',
      `/api/integration-clients/${client.clientId}/rotate`,
      { session: admin, body: { previousValidSeconds: 3600 } },
    );
    expect(graced.status).toBe(200);
    expect(Date.parse(graced.body.client.previousValidUntil ?? '')).toBeGreaterThan(Date.now() + 3_500_000);
    expect((await asClient(fresh, 'GET', '/api/inbox')).status).toBe(200);
    await secretToken(http.base, client.clientId, rotated.body.clientSecret);
    await secretToken(http.base, client.clientId, graced.body.clientSecret);
  });

  it('rotating a key client registers the new key; the old one is refused', async () => {
    const first = ecKey();
    const client = await issueClient(http, admin, 'london-coalition', { publicJwk: publicJwk(first.publicKey) });
    const second = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const noKey = await http.json('POST', `/api/integration-clients/${client.clientId}/rotate`, {
      session: admin,
      body: {},
    });
    expect(noKey.status).toBe(400);
    const rotated = await http.json('POST', `/api/integration-clients/${client.clientId}/rotate`, {
      session: admin,
      body: { publicJwk: JSON.stringify(publicJwk(second.publicKey)) },
    });
    expect(rotated.status, JSON.stringify(rotated.body)).toBe(200);
    const claims = { clientId: client.clientId, audience: client.tokenEndpoint };
    expect((await requestToken(http.base, assertionForm(clientAssertion(first.privateKey, claims)))).status).toBe(401);
    expect((await requestToken(http.base, assertionForm(clientAssertion(second.privateKey, claims)))).status).toBe(200);
  });

  it('revoking ends the client: its token and its secret answer 401 at once, and the revocation is audited', async () => {
    const client = await issueClient(http, admin, 'london-coalition');
    const token = await secretToken(http.base, client.clientId, client.clientSecret);
    expect((await asClient(token, 'GET', '/api/inbox')).status).toBe(200);
    const revoked = await http.json<{ tokensEnded: number; client: { revokedAt?: string; revokedBy: string } }>(
      'POST',
      `/api/integration-clients/${client.clientId}/revoke`,
      { session: admin, body: {} },
    );
    expect(revoked.status).toBe(200);
    expect(revoked.body).toMatchObject({ tokensEnded: 1, client: { revokedBy: 'admin' } });
    const call = await http.request('GET', '/api/inbox', { headers: { authorization: `Bearer ${token}` } });
    expect(call.status).toBe(401);
    expect(call.headers.get('www-authenticate')).toBe('Bearer realm="passage", error="invalid_token"');
    const again = await requestToken(
      http.base,
      { grant_type: 'client_credentials' },
      { authorization: basicCredentials(client.clientId, client.clientSecret) },
    );
    expect(again).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
    const rotate = await http.json('POST', `/api/integration-clients/${client.clientId}/rotate`, {
      session: admin,
      body: {},
    });
    expect(rotate.status).toBe(409);
    const listed = await http.json<{ clients: { clientId: string }[] }>('GET', '/api/integration-clients', {
      session: admin,
    });
    expect(listed.body.clients.length).toBeGreaterThan(0);
    expect(listed.body.clients.map((c) => c.clientId)).not.toContain(client.clientId);
    const withRevoked = await http.json<{ clients: { clientId: string }[] }>(
      'GET',
      '/api/integration-clients?includeRevoked=true',
      { session: admin },
    );
    expect(withRevoked.body.clients.map((c) => c.clientId)).toContain(client.clientId);
    await untilLogged(
      () => entries('audit.v1.admin_action', 'admin'),
      (found) =>
        found.some(
          (e) =>
            JSON.stringify(e).includes('integration_client_revoked') && JSON.stringify(e).includes(client.clientId),
        ),
    );
    const refused = await untilLogged(
      async () =>
        (await entries('audit.v1.client_token', client.clientId)).map(
          (e) => (e['event'] as { clientToken: { reason?: string } }).clientToken.reason,
        ),
      (reasons) => reasons.includes('revoked'),
    );
    expect(refused.length).toBeGreaterThan(0);
  });
});

describe('who manages clients', () => {
  it("a supervisor manages its own agency's clients only; front-line workers none; no person takes a client's id", async () => {
    const supervisor = await as('london-supervisor');
    const own = await issueClient(http, supervisor, 'london-coalition');
    const elsewhere = await http.json<{ violations: { field: string }[] }>('POST', '/api/integration-clients', {
      session: supervisor,
      body: { agencyId: 'windsor-essex-ahtag', name: 'Synthetic' },
    });
    expect(elsewhere.status).toBe(403);
    expect(elsewhere.body.violations.map((v) => v.field)).toEqual(['body.agencyId']);
    const windsors = await issueClient(http, admin, 'windsor-essex-ahtag');
    const listed = await http.json<{ clients: { clientId: string; agencyId: string }[] }>(
      'GET',
      '/api/integration-clients',
      { session: supervisor },
    );
    expect(listed.body.clients.length).toBeGreaterThan(0);
    expect(new Set(listed.body.clients.map((c) => c.agencyId))).toEqual(new Set(['london-coalition']));
    expect(listed.body.clients.map((c) => c.clientId)).toContain(own.clientId);
    // Another agency's client is not there for a supervisor: 404, as a made-up id.
    for (const id of [windsors.clientId, 'client-000000000000']) {
      const rotate = await http.json('POST', `/api/integration-clients/${id}/rotate`, {
        session: supervisor,
        body: {},
      });
      expect(rotate.status).toBe(404);
      expect(
        (await http.json('POST', `/api/integration-clients/${id}/revoke`, { session: supervisor, body: {} })).status,
      ).toBe(404);
    }
    await secretToken(http.base, windsors.clientId, windsors.clientSecret);
    const worker = await http.json('POST', '/api/integration-clients', {
      session: await as('london-intake'),
      body: { name: 'Synthetic' },
    });
    expect(worker.status).toBe(403);
    const impostor = await http.json<{ violations: { field: string }[] }>('POST', '/api/people', {
      session: admin,
      body: {
        userId: 'client-0123456789ab',
        displayName: 'Synthetic',
        roles: ['intake_worker'],
        agencyId: 'london-coalition',
      },
    });
    expect(impostor.status).toBe(400);
    expect(impostor.body.violations.map((v) => v.field)).toEqual(['body.userId']);
  });
});

describe('passage clients', () => {
  async function passage(...args: string[]): Promise<{ code: number; out: string }> {
    const lines: string[] = [];
    const env = { GATEWAY_URL: lab.gateway.url, PASSAGE_ENV: 'development', DEMO_PASSWORD: demoPassword };
    const code = await run(args, env, (line) => lines.push(line));
    return { code, out: lines.join('\n') };
  }
  const listed = async (clientId: string) =>
    (
      JSON.parse((await passage('clients', 'list', '--revoked', '--json', '--as', 'admin')).out) as Record<
        string,
        string
      >[]
    ).find((row) => row['clientId'] === clientId);

  it('issues, lists, rotates and revokes from the command line, as the person it signs in as may', async () => {
    const made = await passage('clients', 'create', 'pact-ottawa', '--name', 'Synthetic PACT system', '--as', 'admin');
    expect(made.code).toBe(0);
    const clientId = /client-[0-9a-f]{12}/.exec(made.out)?.[0] ?? '';
    const secret = /client secret \(shown once\): (\S+)/.exec(made.out)?.[1] ?? '';
    expect(made.out).toContain('token endpoint (and aud of assertions): http://localhost:8080/oauth/token');
    const token = await secretToken(http.base, clientId, secret);
    expect(await listed(clientId)).toMatchObject({ agencyId: 'pact-ottawa', method: 'client_secret', state: 'active' });

    const rotated = await passage('clients', 'rotate', clientId, '--grace', '60', '--as', 'admin');
    const newSecret = /client secret \(shown once\): (\S+)/.exec(rotated.out)?.[1] ?? '';
    expect(newSecret).not.toBe(secret);
    expect((await listed(clientId))?.['state']).toMatch(/^previous credential until /);
    await secretToken(http.base, clientId, newSecret);
    await secretToken(http.base, clientId, secret); // within its minute of grace

    const revoked = await passage('clients', 'revoke', clientId, '--as', 'admin');
    expect(revoked.out).toMatch(/tokens ended: [1-9]/);
    expect((await asClient(token, 'GET', '/api/inbox')).status).toBe(401);
    expect((await listed(clientId))?.['state']).toMatch(/^revoked /);

    const dir = mkdtempSync(join(tmpdir(), 'passage-client-jwk-'));
    const keys = ecKey();
    writeFileSync(join(dir, 'public.jwk'), JSON.stringify(publicJwk(keys.publicKey)));
    const keyed = await passage(
      'clients',
      'create',
      'pact-ottawa',
      '--name',
      'Synthetic',
      '--jwk',
      join(dir, 'public.jwk'),
      '--as',
      'admin',
    );
    expect(keyed.out).not.toContain('client secret');
    const keyedId = /client-[0-9a-f]{12}/.exec(keyed.out)?.[0] ?? '';
    expect((await listed(keyedId))?.['key']).toMatch(/^ES256 [A-Za-z0-9_-]{43}$/);

    await expect(
      passage('clients', 'create', 'pact-ottawa', '--name', 'Synthetic', '--as', 'london-supervisor'),
    ).rejects.toMatchObject({ code: 'permission_denied' });
  });
});
