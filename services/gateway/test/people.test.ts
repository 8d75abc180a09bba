import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor, waitUntil } from '@passage/testing';
import { Http, startGatewayLab, type GatewayLab, type Session } from './support.ts';

// People administration through the HTTP API the proto declares (ADR 30), the gateway's
// in-process PeopleService, with every service and the audit log running for real.
let lab: GatewayLab;
let http: Http;

beforeAll(async () => {
  lab = await startGatewayLab('people', { TRUST_PROXY: '127.0.0.1' });
  http = new Http(lab.gateway.url);
}, 120_000);

afterAll(async () => {
  await lab?.stop();
});

interface Person {
  userId: string;
  agencyId: string;
  roles: string[];
  displayName: string;
  disabledAt?: string;
  mustChangePassword: boolean;
  oidcSubjects: { issuer: string; subject: string }[];
}
interface Created {
  person: Person;
  credential: { kind: string; linkToken: string; temporaryPassword: string; expiresAt?: string };
}

let counter = 0;
/** A fresh synthetic user id for each use. */
const fresh = (prefix: string) => `${prefix}-${process.pid}-${++counter}`;

async function create(
  by: Session,
  body: Record<string, unknown>,
): Promise<{ status: number; body: Created & { code?: string; errors?: unknown[] } }> {
  return http.json<Created & { code?: string; errors?: unknown[] }>('POST', '/api/people', { session: by, body });
}

/** The person's entries in the audit log (action, actor, target), once the bus has carried them there. */
async function auditEntries(targetUserId: string, action: string, count = 1) {
  return waitFor(
    async () =>
      (
        await lab.n.sql.query<{ actor_user: string; actor_role: string; actor_agency: string; event: string }>(
          `select actor_user, actor_role, actor_agency, convert_from(entry, 'UTF8')::jsonb #>> '{event}' as event
             from audit.entries where action = 'audit.v1.admin_action'
              and convert_from(entry, 'UTF8')::jsonb #>> '{event,adminAction,targetUserId}' = $1
              and convert_from(entry, 'UTF8')::jsonb #>> '{event,adminAction,action}' = $2`,
          [targetUserId, action],
        )
      ).rows,
    (rows) => rows.length >= count,
    20_000,
  );
}

describe('creating people', () => {
  it('makes a person with a temporary password who must choose their own before anything else; audited', async () => {
    const admin = await http.signIn('admin');
    const userId = fresh('temp');
    const made = await create(admin, {
      userId,
      displayName: 'Synthetic Person One',
      email: 'synthetic.one@example.test',
      agencyId: 'london-coalition',
      roles: ['intake_worker'],
      credential: 'CREDENTIAL_TEMPORARY_PASSWORD',
    });
    expect(made.status).toBe(201);
    expect(made.body.person).toMatchObject({ userId, agencyId: 'london-coalition', mustChangePassword: true });
    const temporary = made.body.credential.temporaryPassword;
    expect(temporary.length).toBeGreaterThanOrEqual(16);

    const signedIn = await http.json<{ mustChangePassword: boolean; csrfToken: string }>('POST', '/api/session', {
      body: { username: userId, password: temporary },
    });
    expect(signedIn.status).toBe(201);
    expect(signedIn.body.mustChangePassword).toBe(true);
    const session = await http.signIn(userId, temporary);
    const refused = await http.json('GET', '/api/inbox', { session });
    expect(refused).toMatchObject({ status: 409, body: { code: 'failed_precondition' } });

    const tooShort = await http.json('POST', '/api/session/password', {
      session,
      body: { currentPassword: temporary, newPassword: 'short' },
    });
    expect(tooShort).toMatchObject({ status: 400, body: { code: 'invalid_argument' } });
    const changed = await http.json('POST', '/api/session/password', {
      session,
      body: { currentPassword: temporary, newPassword: 'a synthetic chosen password' },
    });
    expect(changed.status).toBe(200);
    expect((await http.json('GET', '/api/inbox', { session })).status).toBe(200);
    expect((await http.json('GET', '/api/session', { session })).body).toMatchObject({ mustChangePassword: false });

    // The audit log has who did what to whom, by ids and role codes: no name, no email.
    const [entry] = await auditEntries(userId, 'person_created');
    expect(entry).toMatchObject({ actor_user: 'admin', actor_role: 'admin', actor_agency: 'passage-oversight' });
    expect(JSON.parse(entry!.event)).toMatchObject({
      adminAction: { targetAgency: 'london-coalition', roles: ['intake_worker'], credential: 'temporary_password' },
    });
    expect(entry!.event).not.toContain('Synthetic Person One');
    expect(entry!.event).not.toContain('example.test');
  });

  it('makes a person with a one-time link: the token sets a password once, then is spent', async () => {
    const supervisor = await http.signIn('london-supervisor');
    const userId = fresh('link');
    const made = await create(supervisor, { userId, displayName: 'Synthetic Person Two', roles: ['intake_worker'] });
    expect(made.status).toBe(201);
    // A supervisor's person is of the supervisor's agency by default.
    expect(made.body.person.agencyId).toBe('london-coalition');
    expect(made.body.credential.kind).toBe('CREDENTIAL_LINK');
    const token = made.body.credential.linkToken;
    expect(token.length).toBeGreaterThanOrEqual(40);
    expect(Date.parse(made.body.credential.expiresAt!) - Date.now()).toBeGreaterThan(71 * 3_600_000);
    // Nobody can sign in before the link is used.
    expect((await http.request('POST', '/api/session', { body: { username: userId, password: token } })).status).toBe(
      401,
    );
    const done = await http.json('POST', '/api/password-links/complete', {
      body: { token, newPassword: 'a synthetic link password' },
    });
    expect(done).toMatchObject({ status: 200, body: { userId } });
    const again = await http.json('POST', '/api/password-links/complete', {
      body: { token, newPassword: 'another synthetic password' },
    });
    expect(again).toMatchObject({ status: 409, body: { code: 'failed_precondition' } });
    const session = await http.signIn(userId, 'a synthetic link password');
    expect((await http.json('GET', '/api/session', { session })).body).toMatchObject({ mustChangePassword: false });
    const [entry] = await auditEntries(userId, 'person_created');
    expect(entry).toMatchObject({ actor_user: 'london-supervisor', actor_role: 'supervisor' });
  });

  it('lists people by agency with paging; a supervisor sees only their agency', async () => {
    const admin = await http.signIn('admin');
    const page = await http.json<{ people: Person[]; nextCursor: string }>(
      'GET',
      '/api/people?agencyId=london-coalition&pageSize=1',
      { session: admin },
    );
    expect(page.status).toBe(200);
    expect(page.body.people).toHaveLength(1);
    expect(page.body.nextCursor).not.toBe('');
    const next = await http.json<{ people: Person[] }>(
      'GET',
      `/api/people?agencyId=london-coalition&pageSize=1&cursor=${page.body.nextCursor}`,
      { session: admin },
    );
    expect(next.body.people).toHaveLength(1);
    expect(next.body.people[0]!.userId > page.body.people[0]!.userId).toBe(true);

    const supervisor = await http.signIn('windsor-supervisor');
    const theirs = await http.json<{ people: Person[] }>('GET', '/api/people', { session: supervisor });
    expect(theirs.body.people.length).toBeGreaterThan(0);
    expect(new Set(theirs.body.people.map((p) => p.agencyId))).toEqual(new Set(['windsor-essex-ahtag']));
    const other = await http.json('GET', '/api/people?agencyId=london-coalition', { session: supervisor });
    expect(other).toMatchObject({ status: 403, body: { code: 'permission_denied' } });
    // Front-line roles do not administer people at all.
    const intake = await http.signIn('london-intake');
    expect((await http.json('GET', '/api/people', { session: intake })).status).toBe(403);
  });
});

describe('what a supervisor may not do', () => {
  it('refuses touching another agency’s person, and changes nothing', async () => {
    const supervisor = await http.signIn('london-supervisor');
    const admin = await http.signIn('admin');
    const before = await http.json<{ person: Person }>('GET', '/api/people/windsor-intake', { session: admin });
    for (const [method, path, body] of [
      ['PATCH', '/api/people/windsor-intake', { roles: ['supervisor'], displayName: 'Changed' }],
      ['POST', '/api/people/windsor-intake/disable', {}],
      ['POST', '/api/people/windsor-intake/reset-password', {}],
      ['POST', '/api/people/windsor-intake/sessions/end', {}],
    ] as const) {
      const refused = await http.json(method, path, { session: supervisor, body });
      expect(refused, path).toMatchObject({ status: 403, body: { code: 'permission_denied' } });
    }
    const made = await create(supervisor, {
      userId: fresh('elsewhere'),
      displayName: 'Synthetic Elsewhere',
      agencyId: 'windsor-essex-ahtag',
      roles: ['intake_worker'],
    });
    expect(made).toMatchObject({ status: 403, body: { code: 'permission_denied' } });
    const after = await http.json<{ person: Person }>('GET', '/api/people/windsor-intake', { session: admin });
    expect(after.body).toEqual(before.body);
    // windsor-intake still signs in: no password was reset.
    await http.signIn('windsor-intake');
  });

  it('refuses granting a role above their own, naming the field', async () => {
    const supervisor = await http.signIn('london-supervisor');
    const userId = fresh('above');
    const made = await create(supervisor, { userId, displayName: 'Synthetic Above', roles: ['admin'] });
    expect(made).toMatchObject({ status: 403, body: { code: 'permission_denied' } });
    expect(JSON.stringify(made.body)).toContain('roles');
    expect((await http.json('GET', `/api/people/${userId}`, { session: await http.signIn('admin') })).status).toBe(404);
    const raise = await http.json('PATCH', '/api/people/london-intake', {
      session: supervisor,
      body: { roles: ['auditor'] },
    });
    expect(raise).toMatchObject({ status: 403, body: { code: 'permission_denied' } });
  });
});

describe('disabling people', () => {
  it('ends their sessions and live feed at once, and they cannot sign in again until enabled', async () => {
    const admin = await http.signIn('admin');
    const userId = fresh('off');
    const made = await create(admin, {
      userId,
      displayName: 'Synthetic Off',
      agencyId: 'pact-ottawa',
      roles: ['intake_worker'],
      credential: 'CREDENTIAL_TEMPORARY_PASSWORD',
    });
    const first = await http.signIn(userId, made.body.credential.temporaryPassword);
    const password = 'a synthetic password to disable';
    await http.json('POST', '/api/session/password', {
      session: first,
      body: { currentPassword: made.body.credential.temporaryPassword, newPassword: password },
    });
    const session = await http.signIn(userId, password);
    const controller = new AbortController();
    const feed = await fetch(`${lab.gateway.url}/api/events`, {
      headers: { cookie: session.cookie },
      signal: controller.signal,
    });
    expect(feed.status).toBe(200);
    let ended = false;
    void (async () => {
      const reader = feed.body!.getReader();
      for (;;) if ((await reader.read()).done) break;
      ended = true;
    })().catch(() => undefined);

    const sessions = await http.json<{ sessions: { sessionId: string }[] }>('GET', `/api/people/${userId}/sessions`, {
      session: admin,
    });
    expect(sessions.body.sessions.length).toBeGreaterThan(0);

    const disabled = await http.json<{ person: Person; sessionsEnded: number }>(
      'POST',
      `/api/people/${userId}/disable`,
      { session: admin, body: {} },
    );
    expect(disabled.status).toBe(200);
    expect(disabled.body.person.disabledAt).toBeTruthy();
    expect(disabled.body.sessionsEnded).toBeGreaterThanOrEqual(1);
    expect((await http.request('GET', '/api/session', { session })).status).toBe(401);
    // The feed ends at once, well before its 15 s heartbeat would notice.
    await waitUntil(() => Promise.resolve(ended), 10_000);
    controller.abort();
    expect((await http.request('POST', '/api/session', { body: { username: userId, password } })).status).toBe(401);

    expect((await http.json('POST', `/api/people/${userId}/enable`, { session: admin, body: {} })).status).toBe(200);
    await http.signIn(userId, password);
    const [entry] = await auditEntries(userId, 'person_disabled');
    expect(JSON.parse(entry!.event)).toMatchObject({ adminAction: { sessionsEnded: disabled.body.sessionsEnded } });
  });

  it('ends one session of a person, or all of them', async () => {
    const admin = await http.signIn('admin');
    const one = await http.signIn('sarnia-intake');
    const two = await http.signIn('sarnia-intake');
    const listed = await http.json<{ sessions: { sessionId: string }[] }>('GET', '/api/people/sarnia-intake/sessions', {
      session: admin,
    });
    expect(listed.body.sessions.length).toBeGreaterThanOrEqual(2);
    // Which is which: end the one the first session is not (GET /api/session still works for it).
    const ids = listed.body.sessions.map((s) => s.sessionId);
    const ended = await http.json('POST', '/api/people/sarnia-intake/sessions/end', {
      session: admin,
      body: { sessionId: ids.at(-1) },
    });
    expect(ended).toMatchObject({ status: 200, body: { sessionsEnded: 1 } });
    const alive = [
      (await http.request('GET', '/api/session', { session: one })).status,
      (await http.request('GET', '/api/session', { session: two })).status,
    ];
    expect(alive.sort()).toEqual([200, 401]);
    const all = await http.json<{ sessionsEnded: number }>('POST', '/api/people/sarnia-intake/sessions/end', {
      session: admin,
      body: {},
    });
    expect(all.body.sessionsEnded).toBeGreaterThanOrEqual(1);
    expect((await http.request('GET', '/api/session', { session: one })).status).toBe(401);
    expect((await http.request('GET', '/api/session', { session: two })).status).toBe(401);
  });

  it('refuses disabling oneself and the last active administrator', async () => {
    const admin = await http.signIn('admin');
    const self = await http.json('POST', '/api/people/admin/disable', { session: admin, body: {} });
    expect(self).toMatchObject({ status: 409, body: { code: 'failed_precondition' } });
    expect(JSON.stringify(self.body)).toContain('user_id');

    // A second administrator; with two, one may be disabled, then the other is the last.
    const userId = fresh('admin');
    const made = await create(admin, {
      userId,
      displayName: 'Synthetic Second Admin',
      roles: ['admin'],
      credential: 'CREDENTIAL_TEMPORARY_PASSWORD',
    });
    const temporary = await http.signIn(userId, made.body.credential.temporaryPassword);
    const password = 'a synthetic admin password';
    await http.json('POST', '/api/session/password', {
      session: temporary,
      body: { currentPassword: made.body.credential.temporaryPassword, newPassword: password },
    });
    const second = await http.signIn(userId, password);
    expect((await http.json('POST', '/api/people/admin/disable', { session: second, body: {} })).status).toBe(200);
    try {
      // Now `second` is the last active administrator: taking its admin role is refused, naming roles.
      const demote = await http.json('PATCH', `/api/people/${userId}`, {
        session: second,
        body: { roles: ['auditor'] },
      });
      expect(demote).toMatchObject({ status: 409, body: { code: 'failed_precondition' } });
      expect(JSON.stringify(demote.body)).toContain('roles');
      expect(JSON.stringify(demote.body)).toContain('last active administrator');
      const person = await http.json<{ person: Person }>('GET', `/api/people/${userId}`, { session: second });
      expect(person.body.person.roles).toEqual(['admin']);
    } finally {
      expect((await http.json('POST', '/api/people/admin/enable', { session: second, body: {} })).status).toBe(200);
    }
  });
});

describe('CSV import', () => {
  interface Imported {
    errors: { line: number; column: string; description: string }[];
    imported: Created[];
    lines: number;
  }
  const header = 'user_id,display_name,email,agency_id,roles,language';

  it('dry-runs a file, listing every error by line; a file with any error imports nobody', async () => {
    const supervisor = await http.signIn('london-supervisor');
    const good = fresh('csv-good');
    const csv = [
      header,
      `${good},"Synthetic, Good",good@example.test,london-coalition,intake_worker,en`,
      `${fresh('csv-other')},Synthetic Other,,windsor-essex-ahtag,intake_worker,en`,
      `${fresh('csv-above')},Synthetic Above,,london-coalition,admin,en`,
      `london-intake,Synthetic Taken,,london-coalition,intake_worker,fr`,
      `${fresh('csv-lang')},Synthetic Lang,,,intake_worker,de`,
    ].join('\n');
    for (const dryRun of [true, false]) {
      const answer = await http.json<Imported>('POST', '/api/people/import', {
        session: supervisor,
        body: { csv, dryRun },
      });
      expect(answer.status).toBe(200);
      expect(answer.body.lines).toBe(5);
      expect(answer.body.errors.length).toBeGreaterThan(0);
      expect(answer.body.errors.map((e) => `${e.line}:${e.column}`)).toEqual([
        '3:agency_id',
        '4:roles',
        '5:user_id',
        '6:language',
      ]);
      expect(answer.body.imported).toEqual([]);
    }
    const admin = await http.signIn('admin');
    expect((await http.json('GET', `/api/people/${good}`, { session: admin })).status).toBe(404);
  });

  it('imports a good file whole, each person with a credential and an audit entry', async () => {
    const supervisor = await http.signIn('london-supervisor');
    const ids = [fresh('csv-a'), fresh('csv-b')];
    const csv = [
      'display_name,user_id,roles',
      `Synthetic A,${ids[0]},intake_worker`,
      `Synthetic B,${ids[1]},intake_worker supervisor`,
    ].join('\r\n');
    const dry = await http.json<Imported>('POST', '/api/people/import', {
      session: supervisor,
      body: { csv, dryRun: true },
    });
    expect(dry.body).toMatchObject({ errors: [], imported: [], lines: 2 });
    const done = await http.json<Imported>('POST', '/api/people/import', {
      session: supervisor,
      body: { csv, credential: 'CREDENTIAL_TEMPORARY_PASSWORD' },
    });
    expect(done.status).toBe(200);
    expect(done.body.errors).toEqual([]);
    expect(done.body.imported.length).toBe(2);
    expect(done.body.imported.map((i) => [i.person.userId, i.person.agencyId, i.person.roles])).toEqual([
      [ids[0], 'london-coalition', ['intake_worker']],
      [ids[1], 'london-coalition', ['intake_worker', 'supervisor']],
    ]);
    const session = await http.signIn(ids[1]!, done.body.imported[1]!.credential.temporaryPassword);
    expect((await http.json('GET', '/api/session', { session })).body).toMatchObject({ mustChangePassword: true });
    await auditEntries(ids[0]!, 'person_created');
    // The same file again: every line's user id is taken now, and nothing changes.
    const again = await http.json<Imported>('POST', '/api/people/import', { session: supervisor, body: { csv } });
    expect(again.body.errors.map((e) => `${e.line}:${e.column}`)).toEqual(['2:user_id', '3:user_id']);
  });
});

describe('changing one’s own password', () => {
  it('throttles guesses of the current password as sign-ins are throttled', async () => {
    const admin = await http.signIn('admin');
    const userId = fresh('guess');
    const made = await create(admin, {
      userId,
      displayName: 'Synthetic Guess',
      agencyId: 'london-coalition',
      roles: ['intake_worker'],
      credential: 'CREDENTIAL_TEMPORARY_PASSWORD',
    });
    const temporary = made.body.credential.temporaryPassword;
    const session = await http.signIn(userId, temporary);
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++)
      statuses.push(
        (
          await http.request('POST', '/api/session/password', {
            session,
            body: { currentPassword: `a wrong guess ${i}`, newPassword: 'a synthetic chosen password' },
          })
        ).status,
      );
    expect(statuses).toEqual([403, 403, 403, 403, 403, 429]);
    // Locked out for this session even with the right password; nothing changed.
    const right = await http.json('POST', '/api/session/password', {
      session,
      body: { currentPassword: temporary, newPassword: 'a synthetic chosen password' },
    });
    expect(right).toMatchObject({ status: 429, body: { code: 'resource_exhausted' } });
    expect((await http.json('GET', '/api/session', { session })).body).toMatchObject({ mustChangePassword: true });
  });
});
