import { afterAll, beforeAll, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { demoUsers } from '@passage/auth';
import { ApiUser } from './console/api.ts';
import { startNetworkAsPnpmStart, stopStartedNetworks, type StartedNetwork } from './started-network.ts';

// Every read of personal data is accountable, whatever the route: marker data in each
// personal field (the name on the receipt, the capture notes, the referral's packet), then
// every GET route of the API as every demo user. A response that carries a marker must have
// written an access record (audit.v1.access, through a service's outbox) for that read.
let started: StartedNetwork;
let sql: pg.Client;

beforeAll(async () => {
  started = await startNetworkAsPnpmStart('access-audit');
  sql = new pg.Client({ connectionString: started.db.url });
  await sql.connect();
}, 360_000);

afterAll(async () => {
  await sql?.end();
  await stopStartedNetworks();
});

/** Access records written so far, by every service that holds personal data. */
async function accessRecords(): Promise<number> {
  const { rows } = await sql.query<{ n: number }>(
    `select ((select count(*) from consent.outbox where subject like '%audit.v1.access')
           + (select count(*) from referrals.outbox where subject like '%audit.v1.access'))::int as n`,
  );
  return rows[0]!.n;
}

it('records an access for every response that carries personal data, on every route, for every role', async () => {
  const tag = randomBytes(6).toString('hex');
  const markers = { name: `Zora Marker${tag}N`, notes: `Marker${tag}T`, packet: `Marker${tag}P` };
  const counsellor = await ApiUser.signIn(started.gatewayUrl, 'crisis-counsellor');
  const consent = await counsellor.call<{ consentId: string; subjectRef: string }>('POST', '/api/consents', {
    method: 'CAPTURE_METHOD_VERBAL',
    language: 'en',
    expiresAt: new Date(Date.now() + 7 * 86_400_000).toISOString(),
    receiptName: markers.name,
    notes: markers.notes,
    scopes: [
      {
        recipientAgencyIds: ['london-coalition'],
        purposes: ['referral'],
        categories: ['needs', 'situation'],
        doNotContact: false,
      },
    ],
  });
  const { referral } = await counsellor.call<{ referral: { id: string } }>('POST', '/api/referrals', {
    subjectRef: consent.subjectRef,
    fromAgency: 'ontario-ht-crisis-line',
    toAgency: 'london-coalition',
    priority: 'PRIORITY_STANDARD',
    needs: ['counselling'],
    language: 'en',
    packet: [
      { category: 'needs', content: `Synthetic needs ${markers.packet}` },
      { category: 'situation', content: `Synthetic situation ${markers.packet}` },
    ],
  });

  const document = (await (await fetch(`${started.gatewayUrl}/api/openapi.json`)).json()) as {
    paths: Record<string, Record<string, { parameters?: { name: string; in: string }[] }>>;
  };
  // Path parameters by the proto field they fill.
  const values: Record<string, string> = {
    consent_id: consent.consentId,
    subject_ref: consent.subjectRef,
    referral_id: referral.id,
    id: 'london-coalition',
  };
  // Every read route; the live feeds never end their response (their events carry no personal data).
  const liveFeeds = new Set(['/api/events', '/api/oversight/events']);
  const reads = Object.entries(document.paths)
    .filter(([path, byMethod]) => byMethod['get'] && !liveFeeds.has(path))
    .map(([path, byMethod]) => {
      const parameters = byMethod['get']!.parameters ?? [];
      const filled = path.replace(/\{(\w+)\}/g, (_, name: string) => values[name] ?? 'x');
      // The reads that take a purpose are asked for the one the consent names.
      const query = parameters.some((p) => p.in === 'query' && p.name === 'purpose') ? '?purpose=referral' : '';
      return `${filled}${query}`;
    });
  expect(reads.length).toBeGreaterThan(10);
  expect(reads.some((path) => path.includes(referral.id))).toBe(true);
  expect(reads.some((path) => path.includes(consent.consentId))).toBe(true);

  const unaccounted: string[] = [];
  const seen = new Set<keyof typeof markers>();
  for (const username of Object.keys(demoUsers)) {
    const user = await ApiUser.signIn(started.gatewayUrl, username);
    for (const path of reads) {
      const before = await accessRecords();
      const body = await user.raw('GET', path);
      const carried = (Object.keys(markers) as (keyof typeof markers)[]).filter((key) => body.includes(markers[key]));
      if (carried.length === 0) continue;
      carried.forEach((key) => seen.add(key));
      if ((await accessRecords()) === before) unaccounted.push(`${username} GET ${path} carried ${carried.join(', ')}`);
    }
  }
  // The walk reached every kind of personal data, so its verdict covers them all.
  expect([...seen].sort()).toEqual(['name', 'notes', 'packet']);
  expect(unaccounted).toEqual([]);
}, 300_000);
