import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Http, startGatewayLab, type GatewayLab } from './support.ts';

// PeopleService.ListColleagues (ADR 38): any signed-in worker learns the names and roles of
// their own agency's enabled people — whom a referral can be assigned to, who did what on a
// timeline — and nothing of another agency's.
let lab: GatewayLab;
let http: Http;

beforeAll(async () => {
  lab = await startGatewayLab('colleagues', { TRUST_PROXY: '127.0.0.1' });
  http = new Http(lab.gateway.url);
}, 120_000);

afterAll(async () => {
  await lab?.stop();
});

interface Colleague {
  userId: string;
  displayName: string;
  roles: string[];
}

describe('colleagues', () => {
  it('lists the enabled people of the caller’s agency, names and roles only', async () => {
    const admin = await http.signIn('admin');
    const userId = `colleague-${process.pid}`;
    const made = await http.json('POST', '/api/people', {
      session: admin,
      body: {
        userId,
        displayName: 'Synthetic Colleague',
        email: 'synthetic.colleague@example.test',
        agencyId: 'london-coalition',
        roles: ['intake_worker'],
        credential: 'CREDENTIAL_TEMPORARY_PASSWORD',
      },
    });
    expect(made.status).toBe(201);

    const intake = await http.signIn('london-intake');
    const listed = await http.json<{ colleagues: Colleague[] }>('GET', '/api/colleagues', { session: intake });
    expect(listed.status).toBe(200);
    const colleagues = listed.body.colleagues;
    expect(colleagues.length).toBeGreaterThan(0);
    expect(colleagues.map((c) => c.userId)).toEqual(
      expect.arrayContaining(['london-intake', 'london-supervisor', userId]),
    );
    expect(colleagues.find((c) => c.userId === 'london-supervisor')).toEqual({
      userId: 'london-supervisor',
      displayName: 'Morgan, London supervisor (demo)',
      roles: ['supervisor', 'intake_worker'],
    });
    // Nobody of another agency; no e-mail address or anything else of a person.
    expect(colleagues.map((c) => c.userId)).not.toContain('windsor-intake');
    expect(JSON.stringify(listed.body)).not.toContain('example.test');

    // A disabled person is no one's colleague to assign work to.
    expect((await http.json('POST', `/api/people/${userId}/disable`, { session: admin, body: {} })).status).toBe(200);
    const after = await http.json<{ colleagues: Colleague[] }>('GET', '/api/colleagues', { session: intake });
    expect(after.body.colleagues.length).toBeGreaterThan(0);
    expect(after.body.colleagues.map((c) => c.userId)).not.toContain(userId);

    const windsor = await http.signIn('windsor-intake');
    const theirs = await http.json<{ colleagues: Colleague[] }>('GET', '/api/colleagues', { session: windsor });
    expect(theirs.body.colleagues.length).toBeGreaterThan(0);
    expect(theirs.body.colleagues.map((c) => c.userId)).not.toContain('london-intake');
  });
});
