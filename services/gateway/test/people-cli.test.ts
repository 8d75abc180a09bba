import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { run } from '@passage/cli/main';
import { Http, demoPassword, startGatewayLab, type GatewayLab } from './support.ts';

// `pnpm passage people …` and `agencies onboard` against a real gateway and directory.
let lab: GatewayLab;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  lab = await startGatewayLab('people-cli');
  env = { GATEWAY_URL: lab.gateway.url, PASSAGE_ENV: 'development', DEMO_PASSWORD: demoPassword };
}, 120_000);

afterAll(async () => {
  await lab?.stop();
});

async function passage(...args: string[]): Promise<{ code: number; out: string }> {
  const lines: string[] = [];
  const code = await run(args, env, (line) => lines.push(line));
  return { code, out: lines.join('\n') };
}

interface Row {
  userId: string;
  agencyId: string;
  roles: string;
  state: string;
  oidcLinks: number;
}

async function row(userId: string, as = 'admin'): Promise<Row | undefined> {
  const listed = await passage('people', 'list', '--json', '--as', as);
  const rows = JSON.parse(listed.out) as Row[];
  expect(rows.length).toBeGreaterThan(0);
  return rows.find((r) => r.userId === userId);
}

it('creates, disables, enables, resets, links and ends the sessions of a person', async () => {
  const created = await passage(
    'people',
    'create',
    'cli-person',
    '--name',
    'Synthetic CLI Person',
    '--roles',
    'intake_worker',
    '--agency',
    'london-coalition',
    '--credential',
    'temporary-password',
    '--as',
    'admin',
  );
  expect(created.code).toBe(0);
  expect(created.out).toMatch(/temporary password \(to be changed at first sign-in\): \S{16,}/);
  expect(await row('cli-person')).toMatchObject({
    agencyId: 'london-coalition',
    roles: 'intake_worker',
    state: 'must change password',
  });

  expect((await passage('people', 'disable', 'cli-person', '--as', 'admin')).out).toContain('sessions ended: 0');
  expect(await row('cli-person')).toMatchObject({ state: 'disabled' });
  expect((await passage('people', 'enable', 'cli-person', '--as', 'admin')).code).toBe(0);

  const reset = await passage('people', 'reset-password', 'cli-person', '--as', 'admin');
  expect(reset.out).toMatch(/set-password link token \(single use, until \S+\): \S{40,}/);

  const link = ['--issuer', 'https://idp.example.test', '--subject', 'synthetic-subject-1'];
  expect((await passage('people', 'link-oidc', 'cli-person', ...link, '--as', 'admin')).code).toBe(0);
  expect(await row('cli-person')).toMatchObject({ oidcLinks: 1 });
  expect((await passage('people', 'unlink-oidc', 'cli-person', ...link, '--as', 'admin')).code).toBe(0);
  expect(await row('cli-person')).toMatchObject({ oidcLinks: 0 });

  // The command's own sign-ins end when it finishes: the demo user has no session left open by it.
  await passage('people', 'list', '--as', 'london-intake').catch(() => undefined);
  const sessions = await passage('people', 'sessions', 'london-intake', '--json', '--as', 'admin');
  expect(JSON.parse(sessions.out)).toEqual([]);
  expect((await passage('people', 'end-sessions', 'london-intake', '--as', 'admin')).out).toBe('sessions ended: 0');
});

it('refuses what a supervisor may not do, and changes nothing', async () => {
  const refused = passage(
    'people',
    'create',
    'cli-elsewhere',
    '--name',
    'Synthetic Elsewhere',
    '--roles',
    'intake_worker',
    '--agency',
    'windsor-essex-ahtag',
    '--as',
    'london-supervisor',
  );
  await expect(refused).rejects.toMatchObject({ code: 'permission_denied' });
  await expect(passage('people', 'disable', 'windsor-intake', '--as', 'london-supervisor')).rejects.toMatchObject({
    code: 'permission_denied',
  });
  expect(await row('cli-elsewhere')).toBeUndefined();
  expect(await row('windsor-intake')).toMatchObject({ state: 'active' });
});

it('onboards an agency: its directory listing, then its first supervisor', async () => {
  const onboarded = await passage(
    'agencies',
    'onboard',
    'synthetic-shelter',
    '--name-en',
    'Synthetic Shelter',
    '--name-fr',
    'Refuge synthétique',
    '--kind',
    'shelter',
    '--services',
    'shelter,counselling',
    '--supervisor',
    'synthetic-shelter-lead',
    '--supervisor-name',
    'Synthetic Lead',
    '--as',
    'admin',
  );
  expect(onboarded.code).toBe(0);
  expect(onboarded.out).toContain('synthetic-shelter: listed in the directory');
  expect(onboarded.out).toContain('set-password link token');
  expect(await row('synthetic-shelter-lead')).toMatchObject({ agencyId: 'synthetic-shelter', roles: 'supervisor' });
  const http = new Http(lab.gateway.url);
  const agency = await http.json<{ agency?: { id: string; acceptingReferrals: boolean } }>(
    'GET',
    '/api/agencies/synthetic-shelter',
    { session: await http.signIn('admin') },
  );
  expect(agency.body.agency).toMatchObject({ id: 'synthetic-shelter', acceptingReferrals: false });
  // Onboarding again keeps the listing and refuses a second person of the same id.
  await expect(
    passage(
      'agencies',
      'onboard',
      'synthetic-shelter',
      '--supervisor',
      'synthetic-shelter-lead',
      '--supervisor-name',
      'Synthetic Lead',
      '--as',
      'admin',
    ),
  ).rejects.toMatchObject({ code: 'already_exists' });
});

it('imports people from CSV: a dry run lists errors by line, a good file is imported whole', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'passage-people-csv-'));
  const bad = join(dir, 'bad.csv');
  writeFileSync(bad, 'user_id,display_name,roles\ncli-csv-1,Synthetic One,intake_worker\ncli-csv-2,,admin\n');
  const refused = await passage('people', 'import', bad, '--dry-run', '--json', '--as', 'london-supervisor');
  expect(refused.code).toBe(1);
  expect(refused.out).toContain('nobody was imported');
  expect(refused.out).toContain('"line": 3');
  const good = join(dir, 'good.csv');
  writeFileSync(good, 'user_id,display_name,roles\ncli-csv-1,Synthetic One,intake_worker\n');
  expect((await passage('people', 'import', good, '--dry-run', '--as', 'london-supervisor')).out).toContain(
    'no errors: nobody imported (dry run)',
  );
  expect(await row('cli-csv-1')).toBeUndefined();
  const imported = await passage('people', 'import', good, '--as', 'london-supervisor');
  expect(imported.code).toBe(0);
  expect(imported.out).toContain('set-password link token');
  expect(await row('cli-csv-1')).toMatchObject({ agencyId: 'london-coalition', roles: 'intake_worker' });
});

it('makes a SCIM client whose token provisions the agency', async () => {
  const made = await passage('scim', 'create-client', 'pact-ottawa', '--as', 'admin');
  const token = /bearer token \(shown once\): (\S+)/.exec(made.out)?.[1];
  expect(token).toBeTruthy();
  const users = await fetch(
    `${lab.gateway.url}/scim/v2/Users?filter=${encodeURIComponent('userName eq "pact-intake"')}`,
    {
      headers: { authorization: `Bearer ${token}` },
    },
  );
  expect(await users.json()).toMatchObject({ totalResults: 1 });
  await expect(passage('scim', 'create-client', 'pact-ottawa', '--as', 'london-supervisor')).rejects.toMatchObject({
    code: 'permission_denied',
  });
});
