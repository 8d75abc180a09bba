import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { testTls } from '@passage/platform/testing';
import {
  createTestDatabase,
  createTestNats,
  runScript,
  sparePort,
  type ScriptProcess,
  type TestDatabase,
  type TestNats,
} from '@passage/testing';
import { repositoryRoot } from './started-network.ts';

// What a production image holds: the committed tree made into the image's by
// scripts/production-tree.sh (production dependencies only, `pnpm install --prod`, no
// compilers, test tools, tests or the root's development packages), as deploy/Containerfile
// does. Every service starts from it as a deployment starts it (its own src/main.ts, its
// certificate for mutual TLS, a plaintext health port for the probes) and serves.
let copy = '';
let db: TestDatabase;
let nats: TestNats;
const running: ScriptProcess[] = [];

beforeAll(async () => {
  copy = mkdtempSync(join(tmpdir(), 'passage-prod-'));
  execFileSync('sh', ['-c', `git archive HEAD | tar -x -C '${copy}'`], { cwd: repositoryRoot, stdio: 'pipe' });
  execFileSync('sh', [join(repositoryRoot, 'scripts/production-tree.sh'), copy], { stdio: 'pipe' });
  db = await createTestDatabase('prodinstall');
  nats = await createTestNats('prodinstall');
}, 180_000);

afterAll(async () => {
  for (const service of running.reverse()) await service.kill('SIGTERM');
  await nats?.cleanup();
  await db?.drop();
  if (copy) rmSync(copy, { recursive: true, force: true });
});

it('starts every service from a production-only install, and the gateway serves', async () => {
  const ports = {
    directory: await sparePort(),
    consent: await sparePort(),
    referrals: await sparePort(),
    audit: await sparePort(),
    escalation: await sparePort(),
    gateway: await sparePort(),
  };
  const healthPorts: Partial<Record<keyof typeof ports, number>> = {};
  const at = (name: keyof typeof ports) => `127.0.0.1:${ports[name]}`;
  const addresses = {
    DIRECTORY_ADDRESS: at('directory'),
    CONSENT_ADDRESS: at('consent'),
    REFERRALS_ADDRESS: at('referrals'),
    AUDIT_ADDRESS: at('audit'),
    ESCALATION_ADDRESS: at('escalation'),
  };
  const extra: Record<keyof typeof ports, Record<string, string>> = {
    directory: { DIRECTORY_SEED: 'ontario' },
    consent: {},
    referrals: addresses,
    audit: {},
    escalation: addresses,
    gateway: { ...addresses, HTTP_PORT: String(ports.gateway), DEMO_USERS: 'on', DEMO_PASSWORD: 'passage-demo' },
  };
  for (const name of Object.keys(ports) as (keyof typeof ports)[]) {
    // The gateway answers the probes on its HTTP port; the others on a port of their own.
    if (name !== 'gateway') healthPorts[name] = await sparePort();
    const service = runScript(
      'src/main.ts',
      {
        DATABASE_URL: db.url,
        NATS_URL: nats.url,
        NATS_NAMESPACE: nats.namespace,
        GRPC_HOST: '127.0.0.1',
        GRPC_PORT: String(ports[name]),
        PASSAGE_ENV: 'development',
        LOG_LEVEL: 'info',
        ...testTls(name).env,
        ...(healthPorts[name] === undefined ? {} : { HEALTH_PORT: String(healthPorts[name]) }),
        ...extra[name],
      },
      { cwd: join(copy, 'services', name), nodeArgs: ['--import', '@passage/platform/instrument'] },
    );
    running.push(service);
    await service.waitForLine(new RegExp(`"msg":"${name} ready"`), 90_000);
  }

  const signIn = await fetch(`http://${at('gateway')}/api/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'london-intake', password: 'passage-demo' }),
  });
  expect(signIn.status).toBe(201);
  const cookie = (signIn.headers.get('set-cookie') ?? '').split(';')[0]!;
  const agencies = await fetch(`http://${at('gateway')}/api/agencies`, { headers: { cookie } });
  expect(agencies.status).toBe(200);
  const body = (await agencies.json()) as { agencies: { id: string }[] };
  expect(body.agencies.length).toBeGreaterThan(0);
  expect(body.agencies.map((a) => a.id)).toContain('london-coalition');

  const probes = [
    `http://${at('gateway')}/readyz`,
    ...Object.values(healthPorts).map((port) => `http://127.0.0.1:${port}/readyz`),
  ];
  expect(probes).toHaveLength(6);
  for (const url of probes) expect({ url, status: (await fetch(url)).status }).toEqual({ url, status: 200 });
}, 300_000);
