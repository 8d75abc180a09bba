import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '@passage/testing';
import { Http, startGatewayLab, type GatewayLab } from './support.ts';

// SCIM 2.0 provisioning (RFC 7643/7644) of an agency's people, by a client written here as an
// identity provider would call: bearer token, application/scim+json.
let lab: GatewayLab;
let http: Http;
let scim: ScimClient;

class ScimClient {
  readonly #base: string;
  readonly #token: string;

  constructor(base: string, token: string) {
    this.#base = `${base}/scim/v2`;
    this.#token = token;
  }

  async call(method: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
    const response = await fetch(`${this.#base}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${this.#token}`,
        accept: 'application/scim+json',
        ...(body === undefined ? {} : { 'content-type': 'application/scim+json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (response.status !== 204) expect(response.headers.get('content-type')).toContain('application/scim+json');
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : {}) as Record<string, unknown> };
  }

  createUser(userName: string, extra: Record<string, unknown> = {}) {
    return this.call('POST', '/Users', {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
      userName,
      displayName: `Synthetic ${userName}`,
      emails: [{ value: `${userName}@example.test`, primary: true }],
      active: true,
      ...extra,
    });
  }

  patch(path: string, operations: unknown[]) {
    return this.call('PATCH', path, {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: operations,
    });
  }
}

const scimError = (status: number, scimType?: string) => ({
  status,
  body: {
    schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'],
    status: String(status),
    ...(scimType ? { scimType } : {}),
  },
});

beforeAll(async () => {
  lab = await startGatewayLab('scim');
  http = new Http(lab.gateway.url);
  const admin = await http.signIn('admin');
  const made = await http.json<{ clientId: string; token: string }>('POST', '/api/scim-clients', {
    session: admin,
    body: { agencyId: 'london-coalition' },
  });
  expect(made.status).toBe(201);
  scim = new ScimClient(lab.gateway.url, made.body.token);
}, 120_000);

afterAll(async () => {
  await lab?.stop();
});

describe('SCIM Users', () => {
  it('refuses a request without a known bearer token', async () => {
    expect(await new ScimClient(lab.gateway.url, 'not-a-token').call('GET', '/Users')).toMatchObject(scimError(401));
  });

  it('is not in the Passage API’s OpenAPI document, where people administration is', async () => {
    const doc = (await (await fetch(`${lab.gateway.url}/api/openapi.json`)).json()) as {
      paths: Record<string, unknown>;
    };
    const paths = Object.keys(doc.paths);
    expect(paths.length).toBeGreaterThan(0);
    expect(paths).toContain('/api/people');
    expect(paths.filter((path) => path.startsWith('/scim'))).toEqual([]);
  });

  it('creates, gets, filters by userName, replaces and deletes a user', async () => {
    const created = await scim.createUser('idp-one', { roles: [{ value: 'intake_worker' }] });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      id: 'idp-one',
      userName: 'idp-one',
      active: true,
      roles: [{ value: 'intake_worker' }],
      meta: { resourceType: 'User', location: '/scim/v2/Users/idp-one' },
    });
    expect(await scim.createUser('idp-one')).toMatchObject(scimError(409, 'uniqueness'));
    // The ids of SCIM clients (the audit log's actors) are nobody's user name.
    expect(await scim.createUser('scim-impostor')).toMatchObject(scimError(400, 'invalidValue'));

    expect((await scim.call('GET', '/Users/idp-one')).body).toMatchObject({ userName: 'idp-one' });
    const found = await scim.call('GET', `/Users?filter=${encodeURIComponent('userName eq "idp-one"')}`);
    expect(found.body).toMatchObject({ totalResults: 1, Resources: [{ id: 'idp-one' }] });
    const none = await scim.call('GET', `/Users?filter=${encodeURIComponent('userName eq "nobody-here"')}`);
    expect(none.body).toMatchObject({ totalResults: 0, Resources: [] });
    // Another agency's person is not there for this client.
    const elsewhere = await scim.call('GET', `/Users?filter=${encodeURIComponent('userName eq "windsor-intake"')}`);
    expect(elsewhere.body).toMatchObject({ totalResults: 0 });
    expect(await scim.call('GET', '/Users/windsor-intake')).toMatchObject(scimError(404));

    const all = await scim.call('GET', '/Users');
    const ids = (all.body['Resources'] as { id: string }[]).map((u) => u.id);
    expect(ids.length).toBeGreaterThan(0);
    expect(ids).toContain('london-intake');
    expect(ids).not.toContain('windsor-intake');

    const replaced = await scim.call('PUT', '/Users/idp-one', {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
      userName: 'idp-one',
      displayName: 'Synthetic Renamed',
      emails: [],
      roles: [{ value: 'intake_worker' }, { value: 'supervisor' }],
      active: true,
    });
    expect(replaced).toMatchObject({
      status: 200,
      body: {
        displayName: 'Synthetic Renamed',
        emails: [],
        roles: [{ value: 'intake_worker' }, { value: 'supervisor' }],
      },
    });

    expect((await scim.call('DELETE', '/Users/idp-one')).status).toBe(204);
    expect((await scim.call('GET', '/Users/idp-one')).body).toMatchObject({ active: false });
  });

  it('deprovisions with PATCH active=false: the person’s sessions end at once', async () => {
    await scim.createUser('idp-two');
    // The person signs in (a temporary password from their administrator, then their own).
    const admin = await http.signIn('admin');
    const reset = await http.json<{ credential: { temporaryPassword: string } }>(
      'POST',
      '/api/people/idp-two/reset-password',
      { session: admin, body: { credential: 'CREDENTIAL_TEMPORARY_PASSWORD' } },
    );
    const first = await http.signIn('idp-two', reset.body.credential.temporaryPassword);
    await http.json('POST', '/api/session/password', {
      session: first,
      body: { currentPassword: reset.body.credential.temporaryPassword, newPassword: 'a synthetic scim password' },
    });
    const session = await http.signIn('idp-two', 'a synthetic scim password');
    expect((await http.request('GET', '/api/session', { session })).status).toBe(200);

    // Azure-style: no path, a value object, and the boolean as text.
    const patched = await scim.patch('/Users/idp-two', [{ op: 'Replace', value: { active: 'False' } }]);
    expect(patched).toMatchObject({ status: 200, body: { active: false } });
    expect((await http.request('GET', '/api/session', { session })).status).toBe(401);
    expect(
      (
        await http.request('POST', '/api/session', {
          body: { username: 'idp-two', password: 'a synthetic scim password' },
        })
      ).status,
    ).toBe(401);
    const back = await scim.patch('/Users/idp-two', [{ op: 'replace', path: 'active', value: true }]);
    expect(back.body).toMatchObject({ active: true });
  });

  it('answers errors in the SCIM shape: unknown attributes, bad filters, bad values, roles above a supervisor', async () => {
    expect(await scim.createUser('idp-three', { favouriteColour: 'blue' })).toMatchObject(
      scimError(400, 'invalidSyntax'),
    );
    expect(await scim.createUser('Not A Slug')).toMatchObject(scimError(400, 'invalidValue'));
    expect(await scim.call('GET', `/Users?filter=${encodeURIComponent('emails co "x"')}`)).toMatchObject(
      scimError(400, 'invalidFilter'),
    );
    expect(await scim.call('GET', `/Users?filter=${encodeURIComponent('userName eq')}`)).toMatchObject(
      scimError(400, 'invalidFilter'),
    );
    expect(await scim.patch('/Users/london-intake', [{ op: 'replace', path: 'shoeSize', value: 9 }])).toMatchObject(
      scimError(400, 'invalidPath'),
    );
    expect(await scim.patch('/Users/london-intake', [{ op: 'replace', path: 'active', value: 'maybe' }])).toMatchObject(
      scimError(400, 'invalidValue'),
    );
    // The client acts as the agency's supervisor: no role above it.
    const above = await scim.createUser('idp-four', { roles: [{ value: 'admin' }] });
    expect(above).toMatchObject(scimError(403));
    expect(await scim.call('GET', '/Users/idp-four')).toMatchObject(scimError(404));
    expect((await http.request('GET', '/api/session', { session: await http.signIn('london-intake') })).status).toBe(
      200,
    );
  });
});

describe('SCIM Groups (roles)', () => {
  it('lists roles as groups with the agency’s members, and adds and removes members', async () => {
    await scim.createUser('idp-five');
    const groups = await scim.call('GET', '/Groups');
    const list = groups.body['Resources'] as { id: string; members: { value: string }[] }[];
    expect(list.length).toBeGreaterThan(0);
    expect(list.find((g) => g.id === 'intake_worker')?.members.map((m) => m.value)).toContain('idp-five');
    const filtered = await scim.call('GET', `/Groups?filter=${encodeURIComponent('displayName eq "supervisor"')}`);
    expect(filtered.body).toMatchObject({ totalResults: 1, Resources: [{ id: 'supervisor' }] });

    const added = await scim.patch('/Groups/supervisor', [
      { op: 'add', path: 'members', value: [{ value: 'idp-five' }] },
    ]);
    expect(added.status).toBe(200);
    expect((await scim.call('GET', '/Users/idp-five')).body).toMatchObject({
      roles: [{ value: 'intake_worker' }, { value: 'supervisor' }],
    });
    await scim.patch('/Groups/supervisor', [{ op: 'remove', path: 'members[value eq "idp-five"]' }]);
    expect((await scim.call('GET', '/Users/idp-five')).body).toMatchObject({ roles: [{ value: 'intake_worker' }] });
    // A group above the client's own role cannot be joined.
    expect(
      await scim.patch('/Groups/admin', [{ op: 'add', path: 'members', value: [{ value: 'idp-five' }] }]),
    ).toMatchObject(scimError(403));
    expect(await scim.call('GET', '/Groups/no-such-role')).toMatchObject(scimError(404));
  });

  it('refuses taking away a person’s last role, by group or by roles: [], changing and auditing nothing', async () => {
    expect((await scim.createUser('idp-last-role')).status).toBe(201);
    expect(
      await scim.patch('/Groups/intake_worker', [{ op: 'remove', path: 'members[value eq "idp-last-role"]' }]),
    ).toMatchObject(scimError(400, 'invalidValue'));
    expect(await scim.patch('/Users/idp-last-role', [{ op: 'replace', path: 'roles', value: [] }])).toMatchObject(
      scimError(400, 'invalidValue'),
    );
    expect(
      await scim.call('PUT', '/Users/idp-last-role', {
        schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
        userName: 'idp-last-role',
        roles: [],
      }),
    ).toMatchObject(scimError(400, 'invalidValue'));
    expect((await scim.call('GET', '/Users/idp-last-role')).body).toMatchObject({
      roles: [{ value: 'intake_worker' }],
    });
    // One real change afterwards: once its entry is in the audit log, it is the only update there.
    expect(
      (await scim.patch('/Groups/supervisor', [{ op: 'add', path: 'members', value: [{ value: 'idp-last-role' }] }]))
        .status,
    ).toBe(200);
    const rows = await waitFor(
      async () =>
        (
          await lab.n.sql.query<{ previous: string }>(
            `select convert_from(entry, 'UTF8')::jsonb #>> '{event,adminAction,previousRoles}' as previous
               from audit.entries where action = 'audit.v1.admin_action'
                and convert_from(entry, 'UTF8')::jsonb #>> '{event,adminAction,targetUserId}' = 'idp-last-role'
                and convert_from(entry, 'UTF8')::jsonb #>> '{event,adminAction,action}' = 'person_updated'`,
          )
        ).rows,
      (found) => found.length >= 1,
      20_000,
    );
    expect(rows).toHaveLength(1);
    expect(JSON.parse(rows[0]!.previous)).toEqual(['intake_worker']);
  });

  it('lands every SCIM change in the audit log, the client named as the actor', async () => {
    expect((await scim.createUser('idp-audited')).status).toBe(201);
    expect((await scim.patch('/Users/idp-audited', [{ op: 'replace', path: 'active', value: false }])).status).toBe(
      200,
    );
    const actions = await waitFor(
      async () => {
        const { rows } = await lab.n.sql.query<{ action: string }>(
          `select convert_from(entry, 'UTF8')::jsonb #>> '{event,adminAction,action}' as action
             from audit.entries where action = 'audit.v1.admin_action'
              and actor_user like 'scim-%' and actor_role = 'supervisor' and actor_agency = 'london-coalition'
              and convert_from(entry, 'UTF8')::jsonb #>> '{event,adminAction,targetUserId}' = 'idp-audited'`,
        );
        return rows.map((r) => r.action).sort();
      },
      (found) => found.length >= 2,
      20_000,
    );
    expect(actions).toEqual(['person_created', 'person_disabled']);
  });
});
