import { afterAll, beforeAll, expect, it } from 'vitest';
import { Http, demoPassword, startGatewayLab, type GatewayLab } from './support.ts';

// The idle lock (ADR 35): a session without input for IDLE_LOCK_MINUTES is refused (401,
// reason "locked") until its password is given again; the sessions' clock is the test's.
let lab: GatewayLab;
let http: Http;
let ahead = 0;
const minute = 60_000;

beforeAll(async () => {
  lab = await startGatewayLab('idlelock', { IDLE_LOCK_MINUTES: '15' }, undefined, undefined, () => {
    return new Date(Date.now() + ahead);
  });
  http = new Http(lab.gateway.url);
});

afterAll(async () => {
  await lab?.stop();
});

it('tells the console where the quick exit goes and when a session locks, before sign-in', async () => {
  const { status, body } = await http.json('GET', '/api/console-settings');
  expect(status).toBe(200);
  expect(body).toEqual({ quickExitUrl: 'https://weather.gc.ca/', idleLockMinutes: 15 });
});

it('locks a session after 15 minutes without input; its password unlocks the same session', async () => {
  const session = await http.signIn('london-intake');
  expect((await http.json('GET', '/api/session', { session })).status).toBe(200);

  // Input within the 15 minutes keeps it open; calls alone (a reload after a live event) do not count.
  ahead += 10 * minute;
  expect((await http.request('POST', '/api/session/activity', { session })).status).toBe(204);
  ahead += 10 * minute;
  expect((await http.json('GET', '/api/session', { session })).status).toBe(200);
  ahead += 6 * minute;
  const locked = await http.json<{ code: string; reason?: string }>('GET', '/api/session', { session });
  expect(locked.status).toBe(401);
  expect(locked.body).toMatchObject({ code: 'unauthenticated', reason: 'locked' });
  // Every call is refused, input too, until the password is given.
  const listed = await http.json<{ reason?: string }>('GET', '/api/agencies', { session });
  expect(listed.status).toBe(401);
  expect(listed.body.reason).toBe('locked');
  expect((await http.request('POST', '/api/session/activity', { session })).status).toBe(401);

  // A wrong password leaves it locked.
  const wrong = await http.json('POST', '/api/session/unlock', {
    session,
    csrf: null,
    body: { password: 'not-the-password' },
  });
  expect(wrong.status).toBe(401);
  expect((await http.json('GET', '/api/session', { session })).status).toBe(401);

  const unlocked = await http.json<{ csrfToken: string; user: { userId: string } }>('POST', '/api/session/unlock', {
    session,
    csrf: null,
    body: { password: demoPassword },
  });
  expect(unlocked.status).toBe(200);
  // The same session: the same CSRF token, the same cookie.
  expect(unlocked.body.csrfToken).toBe(session.csrf);
  expect((await http.json('GET', '/api/session', { session })).status).toBe(200);
});

it('signs a locked session out; an unlock without a session is refused', async () => {
  const session = await http.signIn('peel-officer');
  ahead += 16 * minute;
  expect((await http.json('GET', '/api/session', { session })).status).toBe(401);
  expect((await http.request('DELETE', '/api/session', { session })).status).toBe(204);
  const after = await http.json('POST', '/api/session/unlock', {
    session,
    csrf: null,
    body: { password: demoPassword },
  });
  expect(after.status).toBe(401);
  expect((await http.json('POST', '/api/session/unlock', { body: { password: demoPassword } })).status).toBe(401);
});
