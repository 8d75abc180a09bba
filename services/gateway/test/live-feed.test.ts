import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { waitUntil } from '@passage/testing';
import {
  Http,
  proposeInvestigation,
  startGatewayLab,
  verbalConsent,
  type GatewayLab,
  type Session,
} from './support.ts';

let lab: GatewayLab;
let http: Http;

beforeAll(async () => {
  lab = await startGatewayLab('livefeed');
  http = new Http(lab.gateway.url);
});

afterAll(async () => {
  await lab?.stop();
});

interface FeedEvent {
  readonly id: string;
  readonly event: string;
  readonly data: Record<string, unknown> & { type: string; referralId: string; direction: string };
}

/**
 * Reads a server-sent event stream until `until` says enough. It returns once the response
 * has begun, and the gateway begins it only after the feed's consumers are in place: an event
 * published after that is delivered.
 */
async function listen(
  session: Session,
  lastEventId: string | undefined,
  until: (events: FeedEvent[]) => boolean,
  path = '/api/events',
) {
  const controller = new AbortController();
  const response = await fetch(`${lab.gateway.url}${path}`, {
    headers: { cookie: session.cookie, ...(lastEventId ? { 'last-event-id': lastEventId } : {}) },
    signal: controller.signal,
  });
  expect(response.headers.get('content-type')).toContain('text/event-stream');
  const events: FeedEvent[] = [];
  const reader = response.body!.getReader() as ReadableStreamDefaultReader<Uint8Array>;
  const decoder = new TextDecoder();
  let buffer = '';
  const done = (async () => {
    while (!until(events)) {
      const { value, done: ended } = await reader.read();
      if (ended) break;
      buffer += decoder.decode(value, { stream: true });
      let end;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const id = /^id: (.*)$/m.exec(block)?.[1];
        const event = /^event: (.*)$/m.exec(block)?.[1] ?? 'message';
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (id && data) events.push({ id, event, data: JSON.parse(data) as FeedEvent['data'] });
      }
    }
    controller.abort();
  })().catch(() => undefined); // aborting the request ends the read
  return {
    events,
    /** Waits, with a deadline that fails the test, until `until` is satisfied; then the feed is closed. */
    settled: async (timeoutMs = 10_000) => {
      try {
        await waitUntil(() => Promise.resolve(until(events)), timeoutMs);
      } finally {
        controller.abort();
        await done;
      }
    },
    stop: () => controller.abort(),
  };
}

async function send(officer: Session, toAgency = 'london-coalition'): Promise<string> {
  const granted = await http.json<{ subjectRef: string }>('POST', '/api/consents', {
    session: officer,
    idempotencyKey: randomUUID(),
    body: verbalConsent({ recipientAgencyIds: [toAgency], purposes: ['referral'], categories: ['needs'] }),
  });
  const sent = await http.json<{ referral: { id: string } }>('POST', '/api/referrals', {
    session: officer,
    idempotencyKey: randomUUID(),
    body: {
      subjectRef: granted.body.subjectRef,
      fromAgency: 'peel-regional-police',
      toAgency,
      priority: 'PRIORITY_STANDARD',
      needs: ['counselling'],
      language: 'en',
      packet: [{ category: 'needs', content: 'Synthetic need' }],
    },
  });
  expect(sent.status).toBe(201);
  return sent.body.referral.id;
}

it('delivers a new referral to the recipient while its feed is open, and resumes after a disconnect with nothing missing or repeated', async () => {
  const officer = await http.signIn('peel-officer');
  const london = await http.signIn('london-intake');

  const first = await listen(london, undefined, (events) => events.length >= 1);
  const one = await send(officer);
  await first.settled();
  expect(first.events[0]!.data).toMatchObject({ type: 'referral.v1.sent', referralId: one, direction: 'inbound' });
  const lastSeen = first.events.at(-1)!.id;

  // While nobody listens, two more arrive.
  const two = await send(officer);
  const three = await send(officer);
  const resumed = await listen(london, lastSeen, (events) => events.length >= 2);
  await resumed.settled();
  expect(resumed.events.map((e) => e.data.referralId)).toEqual([two, three]);

  // Another agency's feed, read from the stream's start, carries its own referral and none of London's.
  const windsor = await http.signIn('windsor-intake');
  const theirs = await send(officer, 'windsor-essex-ahtag');
  const elsewhere = await listen(windsor, '0-0', (events) => events.some((e) => e.data.referralId === theirs));
  await elsewhere.settled();
  expect(elsewhere.events.map((e) => e.data.referralId)).toEqual([theirs]);
});

it('announces every scope that lets police read on the oversight feed, to auditors and administrators only', async () => {
  for (const username of ['london-intake', 'peel-officer', 'london-supervisor']) {
    const refused = await fetch(`${lab.gateway.url}/api/oversight/events`, {
      headers: { cookie: (await http.signIn(username)).cookie },
    });
    expect(refused.status, username).toBe(403);
    expect(refused.headers.get('content-type')).toContain('application/problem+json');
  }
  const auditor = await http.signIn('auditor');
  const watching = await listen(auditor, undefined, (events) => events.length >= 2, '/api/oversight/events');

  // A referral and an ordinary consent are not announced; the investigation scope is, twice.
  const officer = await http.signIn('peel-officer');
  await send(officer);
  const { consentId, scope } = await proposeInvestigation(http, officer);
  const scopeId = scope.id;
  const confirmed = await http.json('POST', `/api/consents/${consentId}/scopes/${scopeId}/confirm`, {
    session: await http.signIn('crisis-counsellor'),
    idempotencyKey: randomUUID(),
  });
  expect(confirmed.status, JSON.stringify(confirmed.body)).toBe(200);

  await watching.settled();
  expect(watching.events.length).toBeGreaterThan(0);
  expect(watching.events.map((e) => [e.event, e.data['state'], e.data['actorAgency']])).toEqual([
    ['police_access', 'proposed', 'peel-regional-police'],
    ['police_access', 'confirmed', 'ontario-ht-crisis-line'],
  ]);
  expect(watching.events[0]!.data).toMatchObject({
    type: 'consent.v1.police_access',
    consentId,
    scopeId,
    policeAgencyIds: ['peel-regional-police'],
    allPolice: false,
    categories: ['needs'],
    recordedByAgency: 'peel-regional-police',
  });
  // Ids, agencies and categories: nothing about the person.
  expect(Object.keys(watching.events[0]!.data).sort()).toEqual(
    [
      'type',
      'consentId',
      'scopeId',
      'state',
      'policeAgencyIds',
      'allPolice',
      'categories',
      'recordedByAgency',
      'recordedAt',
      'actorAgency',
      'actorRole',
      'occurredAt',
    ].sort(),
  );

  // An administrator who reconnects after the first announcement gets the second, and only it.
  const admin = await http.signIn('admin');
  const resumed = await listen(admin, watching.events[0]!.id, (events) => events.length >= 1, '/api/oversight/events');
  await resumed.settled();
  expect(resumed.events.map((e) => e.id)).toEqual([watching.events[1]!.id]);

  // The oversight feed's ids are its own: a referral feed's id is no resume point for it.
  const wrong = await fetch(`${lab.gateway.url}/api/oversight/events`, {
    headers: { cookie: admin.cookie, 'last-event-id': '0-0' },
  });
  expect(wrong.status).toBe(400);
});

it('refuses the feed without a session, and a resume point it never gave', async () => {
  const response = await fetch(`${lab.gateway.url}/api/events`);
  expect(response.status).toBe(401);
  const london = await http.signIn('london-intake');
  for (const id of ['0-99999999999999999999', '5-999999', 'nonsense']) {
    const refused = await fetch(`${lab.gateway.url}/api/events`, {
      headers: { cookie: london.cookie, 'last-event-id': id },
    });
    expect(refused.status, id).toBe(400);
    expect(refused.headers.get('content-type')).toContain('application/problem+json');
  }
});

/** Opens a feed and tells when the server ends it. */
async function openFeed(session: Session) {
  const controller = new AbortController();
  const response = await fetch(`${lab.gateway.url}/api/events`, {
    headers: { cookie: session.cookie },
    signal: controller.signal,
  });
  let ended = false;
  const reading = (async () => {
    if (!response.body) return;
    const reader = response.body.getReader();
    for (;;) if ((await reader.read()).done) break;
    ended = true;
  })().catch(() => undefined);
  return { status: response.status, ended: () => ended, reading, stop: () => controller.abort() };
}

it('holds a session to five feeds even when they are opened all at once', async () => {
  const london = await http.signIn('london-intake');
  const feeds = await Promise.all(Array.from({ length: 12 }, () => openFeed(london)));
  try {
    const statuses = feeds.map((f) => f.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(5);
    expect(statuses.filter((s) => s === 429)).toHaveLength(7);
  } finally {
    for (const feed of feeds) feed.stop();
  }
});

it('ends a feed at sign-out, and every feed of an account its lock ends, well before the next heartbeat', async () => {
  const london = await http.signIn('london-intake');
  const feed = await openFeed(london);
  expect(feed.status).toBe(200);
  expect((await http.request('DELETE', '/api/session', { session: london })).status).toBe(204);
  // The heartbeat (15 s) would end it too; sign-out ends it at once (well within this deadline).
  // The feed ends after sign-out, well before the 15 s heartbeat.
  await waitUntil(() => Promise.resolve(feed.ended()), 10_000);

  const windsor = await http.signIn('windsor-supervisor');
  const theirs = await openFeed(windsor);
  expect(theirs.status).toBe(200);
  for (let i = 0; i < 5; i++)
    expect(
      (await http.request('POST', '/api/session', { body: { username: 'windsor-supervisor', password: `guess ${i}` } }))
        .status,
    ).toBe(401);
  // The feed ends when a lock ends the account’s sessions.
  await waitUntil(() => Promise.resolve(theirs.ended()), 10_000);
});

it('announces a message posted on a referral to both its agencies, by ids only (ADR 39)', async () => {
  const officer = await http.signIn('peel-officer');
  const london = await http.signIn('london-intake');
  const referralId = await send(officer);
  const posted = (events: FeedEvent[]) => events.some((e) => e.data.type === 'referral.v1.message_posted');
  const atLondon = await listen(london, undefined, posted);
  const atPeel = await listen(officer, undefined, posted);
  const message = await http.json<{ message: { id: string } }>('POST', `/api/referrals/${referralId}/messages`, {
    session: london,
    idempotencyKey: randomUUID(),
    body: { body: 'Synthetic question Fjw' },
  });
  expect(message.status).toBe(201);
  await atLondon.settled();
  await atPeel.settled();
  for (const [feed, direction] of [
    [atLondon, 'inbound'],
    [atPeel, 'outbound'],
  ] as const) {
    const event = feed.events.find((e) => e.data.type === 'referral.v1.message_posted');
    expect(event?.data).toMatchObject({
      referralId,
      direction,
      messageId: message.body.message.id,
      authorAgency: 'london-coalition',
    });
    expect(JSON.stringify(feed.events)).not.toContain('Fjw');
  }
});
