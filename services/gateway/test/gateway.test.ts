import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiContract } from '@passage/contracts/descriptor';
import { ConfigError, createLogger, loadConfig } from '@passage/platform';
import { apiRoutes } from '../src/adapters/http/api-routes.ts';
import { gatewayConfigSchema } from '../src/config.ts';
import { startGateway } from '../src/service.ts';
import { Http, demoPassword, proposeInvestigation, startGatewayLab, type GatewayLab, type Session } from './support.ts';

let lab: GatewayLab;
let http: Http;
const sessions = new Map<string, Session>();
const as = async (user: string): Promise<Session> => {
  if (!sessions.has(user)) sessions.set(user, await http.signIn(user));
  return sessions.get(user)!;
};

// A stand-in for the built console (packages/console/dist), so these tests do not need a build.
const consoleDir = mkdtempSync(join(tmpdir(), 'passage-console-'));
mkdirSync(join(consoleDir, 'assets'));
writeFileSync(join(consoleDir, 'index.html'), '<!doctype html><title>Passage</title><div id="root"></div>');
writeFileSync(join(consoleDir, 'assets', 'app-1234.js'), 'console.log("console");');

beforeAll(async () => {
  // Behind a trusted proxy (this test), so each test can sign in from an address of its own.
  lab = await startGatewayLab('gateway', { CONSOLE_DIR: consoleDir, TRUST_PROXY: '127.0.0.1' });
  http = new Http(lab.gateway.url);
});

afterAll(async () => {
  await lab?.stop();
});

async function grantAndSend(officer = 'peel-officer', toAgency = 'london-coalition') {
  const session = await as(officer);
  const granted = await http.json<{ subjectRef: string; consentId: string }>('POST', '/api/consents', {
    session,
    idempotencyKey: randomUUID(),
    body: {
      method: 'CAPTURE_METHOD_VERBAL',
      language: 'en',
      expiresAt: new Date(Date.now() + 30 * 86_400_000).toISOString(),
      scopes: [
        {
          recipientAgencyIds: [toAgency],
          purposes: ['referral'],
          categories: ['needs', 'safe_contact'],
          doNotContact: true,
        },
      ],
    },
  });
  expect(granted.status, JSON.stringify(granted.body)).toBe(201);
  const sent = await http.json<{ referral: { id: string; state: string } }>('POST', '/api/referrals', {
    session,
    idempotencyKey: randomUUID(),
    body: {
      subjectRef: granted.body.subjectRef,
      fromAgency: officer === 'peel-officer' ? 'peel-regional-police' : 'opp',
      toAgency,
      priority: 'PRIORITY_URGENT',
      needs: ['counselling'],
      language: 'en',
      packet: [{ category: 'needs', content: 'Synthetic: a safe place tonight' }],
    },
  });
  expect(sent.status, JSON.stringify(sent.body)).toBe(201);
  return { subjectRef: granted.body.subjectRef, consentId: granted.body.consentId, referralId: sent.body.referral.id };
}

describe('sign-in and sessions', () => {
  it('sets an HttpOnly, Secure, SameSite=Strict session cookie and refuses a wrong password in problem+json', async () => {
    const session = await http.signIn('london-intake');
    expect(session.setCookie).toMatch(/HttpOnly/);
    expect(session.setCookie).toMatch(/Secure/);
    expect(session.setCookie).toMatch(/SameSite=Strict/);
    const wrong = await http.json('POST', '/api/session', { body: { username: 'london-intake', password: 'not it' } });
    expect(wrong).toMatchObject({ status: 401, body: { code: 'unauthenticated' } });
    expect(String(wrong.body['detail'])).toMatch(/^wrong username or password/);
    expect(wrong.type).toContain('application/problem+json');
  });

  /** A sign-in from `address` (documentation addresses, RFC 5737), as the proxy in front reports it. */
  const signInFrom = (address: string, username: string, password = demoPassword) =>
    http.json<{ csrfToken: string }>('POST', '/api/session', {
      body: { username, password },
      headers: { 'x-forwarded-for': address },
    });

  it('locks the guessing address out of an account after five wrong passwords, not the person, and ends the account’s sessions', async () => {
    const person = '203.0.113.20';
    const guesser = '203.0.113.10';
    const before = await http.signIn('sarnia-intake');
    expect((await http.json('GET', '/api/session', { session: before })).status).toBe(200);
    for (let i = 0; i < 5; i++) expect((await signInFrom(guesser, 'sarnia-intake', `guess ${i}`)).status).toBe(401);
    // From the guessing address even the right password is refused, with the answer a wrong one gets.
    const locked = await signInFrom(guesser, 'sarnia-intake');
    const unknown = await signInFrom(guesser, 'nobody-at-all', 'x');
    expect(locked.status).toBe(401);
    expect(locked.body).toEqual(unknown.body);
    // The lock ended the sessions the account had.
    expect((await http.json('GET', '/api/session', { session: before })).status).toBe(401);
    // The person, from their own address, signs in during the lock.
    expect((await signInFrom(person, 'sarnia-intake')).status).toBe(201);
  });

  it('throttles one password sprayed over 40 usernames from one address; the people themselves still sign in', async () => {
    const sprayer = '198.51.100.66';
    const elsewhere = '198.51.100.99';
    const real = ['london-supervisor', 'tps-officer', 'windsor-supervisor', 'opp-officer'];
    const names = [...real, ...Array.from({ length: 36 }, (_, i) => `sprayed-name-${i}`)];
    expect(names).toHaveLength(40);
    for (const name of names) expect((await signInFrom(sprayer, name, 'Autumn2026!')).status).toBe(401);
    // The address is resting: a right password from it is refused too, so the spray learns nothing more.
    expect((await signInFrom(sprayer, 'tps-officer')).status).toBe(401);
    for (const name of real) expect((await signInFrom(elsewhere, name)).status, name).toBe(201);
  }, 180_000); // 45 password checks (scrypt) on a loaded machine

  it('needs the CSRF token for every change, and sign-out ends the session', async () => {
    const session = await http.signIn('walk-with-me-worker');
    const noToken = await http.json('PUT', '/api/session/language', { session, csrf: null, body: { language: 'fr' } });
    expect(noToken).toMatchObject({ status: 403, body: { code: 'permission_denied' } });
    expect((await http.request('PUT', '/api/session/language', { session, body: { language: 'fr' } })).status).toBe(
      204,
    );
    expect((await http.json('GET', '/api/session', { session })).body).toMatchObject({ user: { language: 'fr' } });
    const signedOut = await http.request('DELETE', '/api/session', { session });
    expect(signedOut.status).toBe(204);
    expect(signedOut.headers.get('clear-site-data')).toBe('"cache"');
    expect((await http.json('GET', '/api/session', { session })).status).toBe(401);
    expect(
      (await http.json('GET', '/api/session', { session: { ...session, cookie: 'passage_session=forged' } })).status,
    ).toBe(401);
  });
});

describe('bad input', () => {
  it('answers malformed JSON, unknown fields, wrong types and oversized bodies with 4xx problem+json', async () => {
    const session = await as('peel-officer');
    const malformed = await http.json('POST', '/api/consents', { session, rawBody: '{"method": ' });
    expect(malformed.status).toBe(400);
    const unknown = await http.json<{ violations: { field: string }[] }>('POST', '/api/consents', {
      session,
      body: {
        method: 'CAPTURE_METHOD_VERBAL',
        language: 'en',
        scopes: [{ purposes: ['referral'] }],
        favouriteColour: 'teal',
      },
    });
    expect(unknown.status).toBe(400);
    expect(unknown.body.violations.map((v) => v.field)).toContain('body.favouriteColour');
    const wrongType = await http.json('POST', '/api/consents', {
      session,
      body: { method: 7, language: 'en', scopes: 'all' },
    });
    expect(wrongType.status).toBe(400);
    const huge = await http.json('POST', '/api/consents', {
      session,
      rawBody: JSON.stringify({ notes: 'x'.repeat(70_000) }),
    });
    expect(huge.status).toBe(400);
    expect(huge.type).toContain('application/problem+json');
    const noKey = await http.json('POST', '/api/referrals', {
      session,
      body: {
        subjectRef: randomUUID(),
        fromAgency: 'peel-regional-police',
        toAgency: 'london-coalition',
        priority: 'PRIORITY_URGENT',
        needs: [],
        language: 'en',
        packet: [{ category: 'needs', content: 'Synthetic' }],
      },
    });
    expect(noKey).toMatchObject({ status: 400, body: { violations: [{ field: 'Idempotency-Key' }] } });
    // Values a schema can pass but no clock or int64 holds, and nulls where a boolean goes: 400, never 500.
    const leap = await http.json('POST', '/api/consents', {
      session,
      idempotencyKey: randomUUID(),
      body: {
        method: 'CAPTURE_METHOD_VERBAL',
        language: 'en',
        expiresAt: '2016-12-31T23:59:60Z',
        scopes: [{ recipientAgencyIds: ['london-coalition'], purposes: ['referral'], categories: ['needs'] }],
      },
    });
    expect(leap).toMatchObject({
      status: 400,
      body: { violations: [{ field: 'body.expiresAt' }], errors: [{ pointer: '/expiresAt' }] },
    });
    const london = await as('london-intake');
    const hugeVersion = await http.json('POST', `/api/referrals/${randomUUID()}/acknowledge`, {
      session: london,
      body: { expectedVersion: 1e300 },
      idempotencyKey: randomUUID(),
    });
    expect(hugeVersion.status).toBe(400);
    const nulled = await http.json('POST', `/api/consents/${randomUUID()}/revoke`, {
      session,
      body: { all: null, reason: 'person_asked' },
    });
    expect(nulled.status).toBe(400);
    const page = await http.json('GET', '/api/inbox?pageSize=1000', { session: london });
    expect(page.status).toBe(400);
  });

  it('answers a cursor past any page and a date no timestamp holds (year 0) with 400 naming the field', async () => {
    const london = await as('london-intake');
    const auditor = await as('auditor');
    const huge = Buffer.from('99999999999999999999').toString('base64url');
    for (const side of ['inbox', 'outbox']) {
      const page = await http.json<{ detail: string }>('GET', `/api/${side}?cursor=${huge}`, { session: london });
      expect(page.status, JSON.stringify(page.body)).toBe(400);
      // Checked by the referrals service: the field is named in the detail (and in violations where carried).
      expect(page.body.detail).toMatch(/^cursor: /);
    }
    const yearZero = '0000-01-01T00:00:00Z';
    const cases: [Session, string, string][] = [
      [london, `/api/match?needs=counselling&municipality=london&at=${yearZero}`, 'querystring.at'],
      [auditor, `/api/reports/handoff?range.since=${yearZero}`, 'querystring.range.since'],
      [auditor, `/api/reports/consent?range.until=${yearZero}`, 'querystring.range.until'],
      [auditor, `/api/reports/statistics?range.since=${yearZero}`, 'querystring.range.since'],
    ];
    const contact = `/api/referrals/${randomUUID()}/contact`;
    for (const [session, path, field] of cases) {
      const refused = await http.json<Named>('GET', path, { session });
      expect(refused.status, `${path} ${JSON.stringify(refused.body)}`).toBe(400);
      expect(namedFields(refused.body), path).toEqual([field]);
    }
    const refused = await http.json<Named>('POST', contact, {
      session: london,
      body: { at: yearZero, method: 'phone' },
      idempotencyKey: randomUUID(),
    });
    expect(refused.status, JSON.stringify(refused.body)).toBe(400);
    expect(namedFields(refused.body)).toEqual(['body.at']);
    // Where it is in the request, as RFC 9457 problem details say it: a JSON pointer.
    expect((refused.body as { errors?: unknown }).errors).toEqual([
      { detail: expect.stringContaining('a date and time') as unknown, pointer: '/at' },
    ]);
  });
});

interface Named {
  readonly detail: string;
  readonly violations?: readonly { field: string }[];
}
/** The fields a 400 names: its violations, or (from a service) the field its detail begins with. */
const namedFields = (body: Named): string[] =>
  body.violations?.map((v) => v.field) ?? [/^(\w+): /.exec(body.detail)?.[1] ?? body.detail];

describe('free text', () => {
  it('refuses control, bidirectional-override and lone-surrogate characters in any text field with 400 naming it; prose keeps its line breaks', async () => {
    const session = await as('peel-officer');
    const consent = (fields: Record<string, unknown>) => ({
      method: 'CAPTURE_METHOD_VERBAL',
      language: 'en',
      expiresAt: new Date(Date.now() + 30 * 86_400_000).toISOString(),
      scopes: [{ recipientAgencyIds: ['london-coalition'], purposes: ['referral'], categories: ['needs'] }],
      ...fields,
    });
    const refusals: [string, string, Parameters<Http['json']>[2], string][] = [
      [
        'POST',
        '/api/consents',
        { session, body: consent({ receiptName: 'Synthetic \u202Eeman' }) },
        'body.receiptName',
      ],
      ['POST', '/api/consents', { session, body: consent({ receiptName: 'Synthetic\u0000Name' }) }, 'body.receiptName'],
      ['POST', '/api/consents', { session, body: consent({ receiptName: 'Synthetic\nName' }) }, 'body.receiptName'],
      [
        'POST',
        '/api/consents',
        { session, body: consent({ receiptName: 'Synthetic \u2067Name\u2069' }) },
        'body.receiptName',
      ],
      ['POST', '/api/consents', { session, body: consent({ notes: 'Synthetic \u202Anote' }) }, 'body.notes'],
      ['POST', '/api/consents', { session, body: consent({ notes: 'Synthetic \u0085note' }) }, 'body.notes'],
      [
        'POST',
        '/api/consents',
        { session, rawBody: JSON.stringify(consent({})).replace(/}$/, ',"receiptName":"Synthetic \\ud800"}') },
        'body.receiptName',
      ],
      ['GET', '/api/match?needs=counselling&municipality=Lon%00don', { session }, 'querystring.municipality'],
      ['POST', '/api/session', { body: { username: 'peel-officer\u202E', password: 'x' } }, 'body.username'],
    ];
    for (const [method, path, options, field] of refusals) {
      const refused = await http.json<{ violations?: { field: string; description: string }[] }>(method, path, options);
      const where = `${method} ${path} ${JSON.stringify(options?.body ?? options?.rawBody)}`;
      expect(refused.status, where).toBe(400);
      const named = refused.body.violations?.find((v) => v.field === field);
      expect(named?.description, where).toMatch(/^no control characters/);
    }
    const multiline = await http.json('POST', '/api/consents', {
      session,
      idempotencyKey: randomUUID(),
      body: consent({ receiptName: 'Synthetic Zoë Name', notes: 'Synthetic first line\n\tand a second' }),
    });
    expect(multiline.status, JSON.stringify(multiline.body)).toBe(201);
  });
});

describe('directory administration', () => {
  it('takes a listing back as it was read, and refuses an unknown field by name', async () => {
    const admin = await as('admin');
    const read = await http.json<{ agency: Record<string, unknown> }>('GET', '/api/agencies/sarnia-lambton-committee', {
      session: admin,
    });
    const { id: _id, ...listing } = read.body.agency;
    const saved = await http.json<{ agency: { version: number } }>('PUT', '/api/agencies/sarnia-lambton-committee', {
      session: admin,
      body: listing,
    });
    expect(saved.status, JSON.stringify(saved.body)).toBe(200);
    const typo = await http.json<{ violations: { field: string }[] }>('PUT', '/api/agencies/sarnia-lambton-committee', {
      session: admin,
      body: { ...listing, acceptingReferals: false },
    });
    expect(typo.status).toBe(400);
    expect(typo.body.violations.map((v) => v.field)).toContain('body.acceptingReferals');
    const refused = await http.json('PUT', '/api/agencies/sarnia-lambton-committee', {
      session: await as('london-intake'),
      body: listing,
    });
    expect(refused.status).toBe(403);
  });

  it('imports the whole directory it exports (larger than other requests may be)', async () => {
    const admin = await as('admin');
    const exported = await http.json<{ json: string }>('GET', '/api/directory/hsds', { session: admin });
    expect(exported.status).toBe(200);
    expect(exported.body.json.length).toBeGreaterThan(64 * 1024);
    const imported = await http.json<{ imported: number }>('POST', '/api/directory/hsds', {
      session: admin,
      body: { json: exported.body.json },
    });
    expect(imported.status, JSON.stringify(imported.body)).toBe(200);
    expect(imported.body.imported).toBe(10);
    // Elsewhere the 64 KiB limit holds.
    const big = await http.json('POST', '/api/consents', {
      session: await as('peel-officer'),
      body: { notes: 'x'.repeat(70 * 1024) },
    });
    expect(big.status).toBe(400);
  });
});

describe('the hand-off through the API', () => {
  it('sends, and the recipient moves it along; another agency gets a refusal, not data, and the refusal is audited', async () => {
    const { referralId } = await grantAndSend();
    const london = await as('london-intake');
    const inbox = await http.json<{ referrals: { id: string }[] }>('GET', '/api/inbox', { session: london });
    expect(inbox.body.referrals.map((r) => r.id)).toContain(referralId);
    for (const [path, body] of [
      ['acknowledge', {}],
      ['accept', {}],
      ['contact', { at: new Date().toISOString(), method: 'phone' }],
      ['close', { outcome: 'services_provided' }],
    ] as const) {
      const moved = await http.json('POST', `/api/referrals/${referralId}/${path}`, {
        session: london,
        body,
        idempotencyKey: randomUUID(),
      });
      expect(moved.status, JSON.stringify(moved.body)).toBe(200);
    }
    const view = await http.json<{ referral: { state: string; doNotContact: boolean }; packet: unknown[] }>(
      'GET',
      `/api/referrals/${referralId}`,
      { session: london },
    );
    expect(view.body.referral).toMatchObject({ state: 'STATE_CLOSED', doNotContact: true });
    const timeline = await http.json<{ transitions: unknown[] }>('GET', `/api/referrals/${referralId}/timeline`, {
      session: london,
    });
    expect(timeline.body.transitions).toHaveLength(5);

    const windsor = await as('windsor-intake');
    const refused = await http.json('GET', `/api/referrals/${referralId}`, { session: windsor });
    expect(refused).toMatchObject({ status: 404, body: { code: 'not_found' } });
    expect(JSON.stringify(refused.body)).not.toContain('Synthetic');
    // What a made-up id gets: another agency learns nothing about whether the referral exists.
    const madeUp = randomUUID();
    const none = await http.json('GET', `/api/referrals/${madeUp}`, { session: windsor });
    expect(JSON.stringify(refused.body).replaceAll(referralId, madeUp)).toBe(JSON.stringify(none.body));
    // The denial reaches the audit log through the bus.
    await waitForDenial(referralId);
  });
});

async function waitForDenial(referralId: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const { rows } = await lab.n.sql.query<{ n: number }>(
      `select count(*)::int as n from audit.entries where action = 'audit.v1.access' and referral_id = $1
         and actor_agency = 'windsor-essex-ahtag' and convert_from(entry, 'UTF8')::jsonb #>> '{event,accessRecorded,outcome}' = 'denied'`,
      [referralId],
    );
    if (rows[0]!.n === 1) return;
    if (Date.now() > deadline) throw new Error('the denied access never reached the audit log');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('investigation scopes police record (ADR 22)', () => {
  it('are proposed until a non-police worker confirms them with the person; police cannot confirm', async () => {
    const officer = await as('peel-officer');
    const { consentId, scope } = await proposeInvestigation(http, officer);
    expect(scope.proposedAt).toBeTruthy();
    const path = `/api/consents/${consentId}/scopes/${scope.id}/confirm`;
    const byPolice = await http.json('POST', path, { session: officer, idempotencyKey: randomUUID() });
    expect(byPolice.status).toBe(403);
    const byCrisisLine = await http.json<{ consent: { scopes: { confirmedBy?: { agencyId: string } }[] } }>(
      'POST',
      path,
      { session: await as('crisis-counsellor'), idempotencyKey: randomUUID() },
    );
    expect(byCrisisLine.status, JSON.stringify(byCrisisLine.body)).toBe(200);
    expect(byCrisisLine.body.consent.scopes[0]?.confirmedBy?.agencyId).toBe('ontario-ht-crisis-line');
  });
});

describe('authorization matrix', () => {
  const users = [
    'peel-officer',
    'opp-officer',
    'crisis-counsellor',
    'walk-with-me-worker',
    'london-intake',
    'pact-intake',
    'windsor-supervisor',
    'auditor',
    'admin',
  ];
  let theirs = '';
  const routes = apiRoutes(apiContract());
  const fill = (url: string) =>
    url.replace(/:(\w+)/g, (_, name: string) =>
      name === 'referral_id'
        ? theirs || randomUUID()
        : name === 'id' || name === 'agency_id'
          ? 'london-coalition'
          : randomUUID(),
    );

  it('refuses every route without a session, lets each role through only where the route table says, and never shows one agency another’s referral', async () => {
    // A real referral between Peel and London: every other agency must get nothing of it.
    theirs = (await grantAndSend()).referralId;
    expect(routes.length).toBeGreaterThan(20);
    for (const route of routes) {
      const anonymous = await http.json(route.method, fill(route.url), {
        body: route.method === 'GET' ? undefined : {},
      });
      // A public method (completing a one-time password link) authenticates by its request instead.
      if (route.public) expect(anonymous.status, `${route.method} ${route.url}`).toBe(400);
      else expect(anonymous.status, `${route.method} ${route.url}`).toBe(401);
    }
    for (const user of users) {
      const session = await as(user);
      const roles = (await http.json<{ user: { roles: string[] } }>('GET', '/api/session', { session })).body.user
        .roles;
      for (const route of routes) {
        const allowed = route.roles.length === 0 || route.roles.some((role) => roles.includes(role));
        const response = await http.json(
          route.method,
          fill(route.url) + (route.url === '/api/match' ? '?needs=counselling&municipality=london' : ''),
          {
            session,
            body: route.method === 'GET' ? undefined : {},
            idempotencyKey: route.idempotent ? randomUUID() : undefined,
          },
        );
        const where = `${user} ${route.method} ${route.url} → ${response.status} ${JSON.stringify(response.body).slice(0, 200)}`;
        expect(response.status, where).toBeLessThan(500);
        const party = ['peel-officer', 'london-intake'].includes(user);
        if (!party) expect(JSON.stringify(response.body), where).not.toContain('Synthetic: a safe place tonight');
        if (!party && route.url.startsWith('/api/referrals/:referral_id'))
          expect([403, 404, 400], where).toContain(response.status);
        if (!allowed) {
          expect(response.status, where).toBe(403);
          expect(JSON.stringify(response.body), where).toContain('needs one of the roles');
        } else {
          expect(JSON.stringify(response.body), where).not.toContain('needs one of the roles');
        }
      }
    }
  });
});

describe('the web console', () => {
  it('serves the console at / and at every non-API path, under a strict CSP; missing files and API paths stay 404', async () => {
    for (const path of ['/', '/inbox', `/referrals/${randomUUID()}`]) {
      const response = await fetch(`${lab.gateway.url}${path}`);
      expect(response.status, path).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^text\/html/);
      expect(await response.text()).toContain('<div id="root">');
      expect(response.headers.get('content-security-policy')).toContain("script-src 'self'");
      expect(response.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
      expect(response.headers.get('cache-control')).toBe('no-store');
    }
    const asset = await fetch(`${lab.gateway.url}/assets/app-1234.js`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('cache-control')).toContain('immutable');
    // A file written after the gateway started (a rebuild) is served too.
    writeFileSync(join(consoleDir, 'assets', 'app-5678.js'), 'console.log("rebuilt");');
    expect((await fetch(`${lab.gateway.url}/assets/app-5678.js`)).status).toBe(200);
    // What the API answers is never cached.
    const api = await fetch(`${lab.gateway.url}/api/agencies`, { headers: { cookie: (await as('auditor')).cookie } });
    expect(api.status).toBe(200);
    expect(api.headers.get('cache-control')).toBe('no-store');
    expect(api.headers.get('x-content-type-options')).toBe('nosniff');
    for (const path of ['/assets/gone-0000.js', '/api/no-such-route']) {
      const response = await fetch(`${lab.gateway.url}${path}`);
      expect(response.status, path).toBe(404);
      expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    }
  });
});

describe('security headers', () => {
  it('sets HSTS, a CSP that forbids framing, nosniff and DENY on every answer: API, errors, docs, console, live feed', async () => {
    const session = await as('auditor');
    const answers: [string, Response][] = [];
    const get = async (path: string, init: RequestInit = {}) => {
      const response = await fetch(`${lab.gateway.url}${path}`, init);
      answers.push([`${init.method ?? 'GET'} ${path} ${response.status}`, response]);
      return response;
    };
    for (const path of ['/', '/inbox', '/assets/app-1234.js', '/assets/gone-0000.js', '/api/docs', '/api/docs/']) {
      await get(path, { redirect: 'manual' });
    }
    const docsPage = await (await fetch(`${lab.gateway.url}/api/docs/`)).text();
    const docsFiles = [...docsPage.matchAll(/(?:src|href)="\.?([^"]+)"/g)].map((m) => m[1]!);
    expect(docsFiles.length).toBeGreaterThan(0);
    for (const file of docsFiles) await get(`/api/docs${file.startsWith('/') ? '' : '/'}${file}`);
    await get('/api/openapi.json');
    await get('/api/no-such-route');
    await get('/api/session');
    await get('/api/agencies', { headers: { cookie: session.cookie } });
    await get('/api/session', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"username": ',
    });
    const feed = new AbortController();
    await get('/api/events', { headers: { cookie: session.cookie }, signal: feed.signal });
    feed.abort();
    const statuses = answers.map(([what]) => Number(what.split(' ').at(-1)));
    for (const status of [200, 400, 401, 404]) expect(statuses, String(status)).toContain(status);
    for (const [what, response] of answers) {
      expect(response.headers.get('strict-transport-security'), what).toMatch(/^max-age=\d{8,}; includeSubDomains$/);
      expect(response.headers.get('content-security-policy'), what).toContain("frame-ancestors 'none'");
      expect(response.headers.get('x-content-type-options'), what).toBe('nosniff');
      expect(response.headers.get('x-frame-options'), what).toBe('DENY');
      expect(response.headers.get('referrer-policy'), what).toBe('no-referrer');
    }
    // The API's data runs nothing; the OpenAPI page runs only its own scripts.
    const csp = (path: string) =>
      answers.find(([what]) => what.startsWith(`GET ${path} `))![1].headers.get('content-security-policy');
    expect(csp('/api/agencies')).toContain("default-src 'none'");
    expect(csp('/api/docs/')).toContain("script-src 'self'");
    expect(csp('/api/docs/')).not.toContain('unsafe-eval');
  });
});

describe('Kubernetes probes', () => {
  it('answers /livez and /readyz on the HTTP port with a status and no body, not the console page', async () => {
    for (const path of ['/livez', '/readyz']) {
      for (const method of ['GET', 'HEAD']) {
        const response = await http.request(method, path);
        expect({ path, method, status: response.status, body: await response.text() }).toEqual({
          path,
          method,
          status: 200,
          body: '',
        });
        expect(response.headers.get('content-type') ?? '').not.toContain('text/html');
      }
    }
    expect((await http.request('POST', '/readyz')).status).toBe(404);
  });

  it('refuses HEALTH_PORT, naming it, rather than ignoring it: the probes are on HTTP_PORT', async () => {
    const config = loadConfig(gatewayConfigSchema, { PASSAGE_ENV: 'development', HEALTH_PORT: '0' });
    const started = startGateway(config, createLogger('gateway-probes-test', 'silent'));
    await expect(started).rejects.toBeInstanceOf(ConfigError);
    await expect(started).rejects.toThrow(/HEALTH_PORT: the gateway answers GET \/livez and \/readyz on HTTP_PORT/);
  });
});

describe('OpenAPI', () => {
  it('serves an OpenAPI 3.1 document with every route, and a page to browse it', async () => {
    const doc = await http.json<{ openapi: string; paths: Record<string, unknown> }>('GET', '/api/openapi.json');
    expect(doc.body.openapi).toBe('3.1.0');
    const routes = apiRoutes(apiContract());
    expect(routes.length).toBeGreaterThan(20);
    for (const route of routes) {
      const path = route.url.replace(/:(\w+)/g, '{$1}');
      expect(Object.keys(doc.body.paths), path).toContain(path);
    }
    const page = await fetch(`${lab.gateway.url}/api/docs/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<html');
  });
});
