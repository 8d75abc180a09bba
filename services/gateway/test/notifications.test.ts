import { randomUUID } from 'node:crypto';
import { jetstream } from '@nats-io/jetstream';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Topology,
  connectNats,
  createEnvelope,
  encodeEnvelope,
  type Envelope,
  type EventPayload,
} from '@passage/events';
import { sparePort, waitFor } from '@passage/testing';
import { Http, startGatewayLab, type GatewayLab, type Session } from './support.ts';

/** One e-mail as the SMTP server received it. */
interface Received {
  readonly to: string[];
  readonly subject: string;
  readonly text: string;
  readonly raw: string;
}

/** A real SMTP server on a spare port, keeping what it is given; it can be stopped and started again. */
class Inbox {
  readonly mails: Received[] = [];
  #server: SMTPServer | undefined;
  port = 0;

  async start(): Promise<void> {
    this.port ||= await sparePort();
    this.#server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onData: (stream, session, callback) => {
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('end', () => {
          const raw = Buffer.concat(chunks).toString('utf8');
          this.mails.push({ to: session.envelope.rcptTo.map((r) => r.address), ...decode(raw), raw });
          callback();
        });
      },
    });
    const server = this.#server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
  }

  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  to(address: string, reference: string): Received[] {
    return this.mails.filter((mail) => mail.to.includes(address) && mail.subject.includes(reference));
  }
}

/** Subject (RFC 2047 words) and the text part (quoted-printable or 7bit) of a plain e-mail. */
function decode(raw: string): { subject: string; text: string } {
  const [head = '', ...rest] = raw.split(/\r?\n\r?\n/);
  const unfolded = head.replace(/\r?\n[ \t]+/g, ' ');
  const subjectLine = /^Subject: (.*)$/im.exec(unfolded)?.[1] ?? '';
  const subject = subjectLine
    .replace(/\?=\s+=\?/g, '?==?')
    .replace(/=\?utf-8\?([QB])\?([^?]*)\?=/gi, (_all, kind: string, text: string) =>
      kind.toUpperCase() === 'B' ? Buffer.from(text, 'base64').toString('utf8') : qp(text.replaceAll('_', ' ')),
    );
  const body = rest.join('\n\n');
  return { subject, text: /quoted-printable/i.test(head) ? qp(body.replace(/=\r?\n/g, '')) : body };
}

function qp(text: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '=' && /^[0-9A-F]{2}$/i.test(text.slice(i + 1, i + 3))) {
      bytes.push(parseInt(text.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(...Buffer.from(text[i]!, 'utf8'));
  }
  return Buffer.from(bytes).toString('utf8');
}

/** Each referral's short reference, as its send answered it: what notices and e-mails name it by. */
const references = new Map<string, string>();
const reference = (referralId: string): string => {
  const found = references.get(referralId);
  expect(found, referralId).toMatch(/^R-[0-9A-Z]{4}-[0-9A-Z]{2}$/);
  return found!;
};

// Synthetic personal data, in the packet and the note: none of it may reach an e-mail.
const markers = ['Zyxwvut', '555-0199', 'QXNOTEQX', 'Dana Peel', 'Alex, London'];
const consoleUrl = 'https://console.passage.test';
const desk = 'intake@london-coalition.example';
const emails = { 'peel-officer': 'peel-officer@mail.test', 'london-intake': 'london-intake@mail.test' };

const inbox = new Inbox();
let lab: GatewayLab;
let http: Http;
const sessions = new Map<string, Session>();
const as = async (user: string): Promise<Session> => {
  if (!sessions.has(user)) sessions.set(user, await http.signIn(user));
  return sessions.get(user)!;
};

beforeAll(async () => {
  await inbox.start();
  lab = await startGatewayLab(
    'notify',
    { SMTP_URL: `smtp://127.0.0.1:${inbox.port}`, CONSOLE_URL: consoleUrl, NOTIFY_FROM: 'Passage <notices@mail.test>' },
    undefined,
    undefined,
    undefined,
    { retryBaseMs: 200, pollMs: 200 },
  );
  http = new Http(lab.gateway.url);
  const admin = await as('admin');
  for (const [userId, email] of Object.entries(emails)) {
    const updated = await http.json('PATCH', `/api/people/${userId}`, { session: admin, body: { email } });
    expect(updated.status, JSON.stringify(updated.body)).toBe(200);
  }
}, 120_000);

afterAll(async () => {
  await lab?.stop();
  await inbox.stop();
});

async function sendUrgent(): Promise<string> {
  const officer = await as('peel-officer');
  const granted = await http.json<{ subjectRef: string }>('POST', '/api/consents', {
    session: officer,
    idempotencyKey: randomUUID(),
    body: {
      method: 'CAPTURE_METHOD_VERBAL',
      language: 'en',
      expiresAt: new Date(Date.now() + 30 * 86_400_000).toISOString(),
      scopes: [{ recipientAgencyIds: ['london-coalition'], purposes: ['referral'], categories: ['needs'] }],
    },
  });
  expect(granted.status, JSON.stringify(granted.body)).toBe(201);
  const sent = await http.json<{ referral: { id: string; reference: string } }>('POST', '/api/referrals', {
    session: officer,
    idempotencyKey: randomUUID(),
    body: {
      subjectRef: granted.body.subjectRef,
      fromAgency: 'peel-regional-police',
      toAgency: 'london-coalition',
      priority: 'PRIORITY_URGENT',
      needs: ['counselling'],
      language: 'en',
      packet: [{ category: 'needs', content: 'Synthetic: Zyxwvut Example needs a safe place; phone 555-0199' }],
    },
  });
  expect(sent.status, JSON.stringify(sent.body)).toBe(201);
  references.set(sent.body.referral.id, sent.body.referral.reference);
  return sent.body.referral.id;
}

/** Publishes a referral event on the bus as the referrals service would (a message, an escalation). */
async function publish(referralId: string, event: string, payload: EventPayload, actor: Envelope['actor']) {
  const nc = await connectNats({ NATS_URL: lab.n.nats.url, PASSAGE_ENV: 'development' }, 'notify-test');
  try {
    const envelope = createEnvelope({
      type: `referral.v1.${event}`,
      referralId,
      subjectRef: randomUUID(),
      fromAgency: 'peel-regional-police',
      toAgency: 'london-coalition',
      priority: 'urgent',
      actor,
      payload,
    });
    const topology = new Topology(lab.n.nats.namespace);
    await jetstream(nc).publish(
      topology.referral('peel-regional-police', 'london-coalition', event),
      encodeEnvelope(envelope),
      { msgID: envelope.id },
    );
    return envelope.id;
  } finally {
    await nc.close();
  }
}

const changed = (referralId: string, version: number, state: string, assignedUser: string): EventPayload => ({
  $case: 'referralChanged',
  value: {
    referralId,
    state,
    version,
    sentAt: new Date(),
    acknowledgedAt: new Date(),
    acknowledgeDueAt: new Date(Date.now() + 3_600_000),
    acceptDueAt: new Date(Date.now() + 14_400_000),
    reason: state === 'sent' ? 'acknowledge_overdue' : '',
    suggestedAgency: '',
    previousReferralId: '',
    needs: ['counselling'],
    takenOverBy: '',
    assignedUser,
    reference: '',
  },
});

const posted = (referralId: string, authorAgency: string): EventPayload => ({
  $case: 'messagePosted',
  value: { referralId, messageId: randomUUID(), authorAgency, postedAt: new Date() },
});

const expectClean = (mail: Received, referralId: string) => {
  for (const marker of markers) expect(mail.raw).not.toContain(marker);
  expect(mail.text).toContain(`${consoleUrl}/referrals/${referralId}`);
  expect(mail.raw).toMatch(/^From: Passage <notices@mail\.test>/m);
};

describe('notifications by e-mail and in the console', () => {
  it('tells the right people of an urgent referral, an escalation, messages and a decline — a reference and a link only', async () => {
    const referralId = await sendUrgent();
    const ref = reference(referralId);

    // A new urgent referral: the receiving agency's intake desk (both languages); its inbox people in the console.
    const [toDesk] = await waitFor(
      () => Promise.resolve(inbox.to(desk, ref)),
      (found) => found.length > 0,
    );
    expect(toDesk!.subject).toBe(`Passage ${ref}: An urgent referral is waiting / Une demande urgente attend`);
    expect(toDesk!.text).toContain(`Reference: ${ref}`);
    expect(toDesk!.text).toContain(`Référence: ${ref}`);
    expectClean(toDesk!, referralId);
    const supervisor = await as('london-supervisor');
    const list = await waitFor(
      () =>
        http.json<{ notifications: { notificationId: string; kind: string; referralId: string; readAt?: string }[] }>(
          'GET',
          '/api/notifications',
          { session: supervisor },
        ),
      (answer) => answer.body.notifications.some((n) => n.referralId === referralId),
    );
    expect(list.body.notifications.length).toBeGreaterThan(0);
    expect(list.body.notifications[0]).toMatchObject({ kind: 'urgent_referral', referralId });

    // Assigned to london-intake (a later version), then escalated: the desk and the worker.
    await publish(referralId, 'acknowledged', changed(referralId, 50, 'acknowledged', 'london-intake'), {
      agency: 'london-coalition',
      user: 'london-supervisor',
      role: 'supervisor',
    });
    await publish(referralId, 'escalated', changed(referralId, 51, 'acknowledged', 'london-intake'), {
      agency: 'passage-system',
      user: 'escalation-service',
      role: 'service',
    });
    const [escalatedToWorker] = await waitFor(
      () => Promise.resolve(inbox.to(emails['london-intake'], ref)),
      (found) => found.some((mail) => mail.subject.includes('needs attention')),
    );
    expect(escalatedToWorker!.subject).toBe(`Passage ${ref}: A referral needs attention`);
    expectClean(escalatedToWorker!, referralId);
    await waitFor(
      () => Promise.resolve(inbox.to(desk, ref)),
      (found) => found.some((mail) => mail.subject.includes('needs attention')),
    );

    // The receiving worker writes: the sender is told. The sender writes: the assigned worker is told.
    await publish(referralId, 'message_posted', posted(referralId, 'london-coalition'), {
      agency: 'london-coalition',
      user: 'london-intake',
      role: 'intake_worker',
    });
    const [toSender] = await waitFor(
      () => Promise.resolve(inbox.to(emails['peel-officer'], ref)),
      (found) => found.some((mail) => mail.subject.includes('new message')),
    );
    expectClean(toSender!, referralId);
    await publish(referralId, 'message_posted', posted(referralId, 'peel-regional-police'), {
      agency: 'peel-regional-police',
      user: 'peel-officer',
      role: 'officer',
    });
    await waitFor(
      () => Promise.resolve(inbox.to(emails['london-intake'], ref)),
      (found) => found.some((mail) => mail.subject.includes('new message')),
    );

    // The worker turns messages off for e-mail: the next one is a console notice only.
    const worker = await as('london-intake');
    const set = await http.json<{ preferences: { emailKinds: string[] } }>('POST', '/api/notifications/preferences', {
      session: worker,
      body: { preferences: { emailKinds: ['urgent_referral', 'escalated', 'declined'] } },
    });
    expect(set).toMatchObject({
      status: 200,
      body: { preferences: { emailKinds: ['urgent_referral', 'escalated', 'declined'] } },
    });
    const quiet = await publish(referralId, 'message_posted', posted(referralId, 'peel-regional-police'), {
      agency: 'peel-regional-police',
      user: 'peel-officer',
      role: 'officer',
    });
    await waitFor(
      async () => (await lab.n.sql.query('select 1 from gateway.notifications where event_id = $1', [quiet])).rowCount,
      (count) => count === 1,
    );
    const { rows: quietMail } = await lab.n.sql.query('select 1 from gateway.notification_mail where event_id = $1', [
      quiet,
    ]);
    expect(quietMail).toEqual([]);

    // A decline (a real one, with a note): the person who sent it is told, in their language, without the note.
    const declined = await http.json('POST', `/api/referrals/${referralId}/decline`, {
      session: worker,
      idempotencyKey: randomUUID(),
      body: { reason: 'no_capacity', note: 'Synthetic note QXNOTEQX about Zyxwvut' },
    });
    expect(declined.status, JSON.stringify(declined.body)).toBe(200);
    const [declinedMail] = await waitFor(
      () => Promise.resolve(inbox.to(emails['peel-officer'], ref)),
      (found) => found.some((mail) => mail.subject.includes('declined')),
    ).then((found) => found.filter((mail) => mail.subject.includes('declined')));
    expect(declinedMail!.subject).toBe(`Passage ${ref}: A referral you sent was declined`);
    expectClean(declinedMail!, referralId);

    // Every e-mail about this referral: each once, none with personal data.
    const all = inbox.mails.filter((mail) => mail.subject.includes(ref));
    expect(all.length).toBe(6);
    for (const mail of all) expectClean(mail, referralId);
    const ids = all.map((mail) => /^Message-ID: (.*)$/im.exec(mail.raw)?.[1]);
    expect(new Set(ids).size).toBe(all.length);
    // Nobody is told of their own deed: the officer has no notice of their own send or messages.
    const officerNotices = await http.json<{ notifications: { kind: string; referralId: string }[] }>(
      'GET',
      '/api/notifications',
      { session: await as('peel-officer') },
    );
    expect(
      officerNotices.body.notifications
        .filter((n) => n.referralId === referralId)
        .map((n) => n.kind)
        .sort(),
    ).toEqual(['declined', 'message']);
  }, 90_000);

  it('counts unread notices, marks them read, and keeps each person to their own', async () => {
    const referralId = await sendUrgent();
    const supervisor = await as('london-supervisor');
    const listed = await waitFor(
      () =>
        http.json<{ notifications: { notificationId: string; referralId: string }[] }>(
          'GET',
          '/api/notifications?unreadOnly=true',
          {
            session: supervisor,
          },
        ),
      (answer) => answer.body.notifications.some((n) => n.referralId === referralId),
    );
    const mine = listed.body.notifications.find((n) => n.referralId === referralId)!;
    const before = await http.json<{ unread: number }>('GET', '/api/notifications/unread-count', {
      session: supervisor,
    });
    expect(before.body.unread).toBeGreaterThan(0);
    // Someone else's notice id marks nothing.
    const other = await http.json<{ marked: number }>('POST', '/api/notifications/read', {
      session: await as('windsor-intake'),
      body: { notificationIds: [mine.notificationId] },
    });
    expect(other.body.marked).toBe(0);
    const marked = await http.json<{ marked: number }>('POST', '/api/notifications/read', {
      session: supervisor,
      body: { notificationIds: [mine.notificationId] },
    });
    expect(marked.body.marked).toBe(1);
    const after = await http.json<{ unread: number }>('GET', '/api/notifications/unread-count', {
      session: supervisor,
    });
    expect(after.body.unread).toBe(before.body.unread - 1);
    const all = await http.json<{ marked: number }>('POST', '/api/notifications/read', {
      session: supervisor,
      body: { all: true },
    });
    expect(all.body.marked).toBe(after.body.unread);
    const none = await http.json('POST', '/api/notifications/read', { session: supervisor, body: {} });
    expect(none.status).toBe(400);
    const unknownKind = await http.json('POST', '/api/notifications/preferences', {
      session: supervisor,
      body: { preferences: { emailKinds: ['everything'] } },
    });
    expect(unknownKind.status).toBe(400);
    const anonymous = await http.json('GET', '/api/notifications/unread-count');
    expect(anonymous.status).toBe(401);
  }, 60_000);

  it('an e-mail queued while the SMTP server is down goes out once it is back, once', async () => {
    await inbox.stop();
    const referralId = await sendUrgent();
    const ref = reference(referralId);
    // Tried and failed at least twice (no address in the error kept), the gateway still serving.
    const failing = await waitFor(
      async () =>
        (
          await lab.n.sql.query<{ attempts: number; last_error: string | null }>(
            'select attempts, last_error from gateway.notification_mail where referral_id = $1 and agency_id is not null',
            [referralId],
          )
        ).rows,
      (rows) => rows.length === 1 && rows[0]!.attempts >= 2,
    );
    expect(failing[0]!.last_error).toMatch(/^[A-Z0-9 ]+$/);
    expect(
      (await http.json('GET', '/api/notifications/unread-count', { session: await as('london-intake') })).status,
    ).toBe(200);
    await inbox.start();
    const delivered = await waitFor(
      async () =>
        (
          await lab.n.sql.query<{ sent_at: Date | null }>(
            'select sent_at from gateway.notification_mail where referral_id = $1 and agency_id is not null',
            [referralId],
          )
        ).rows,
      (rows) => rows[0]?.sent_at != null,
      30_000,
    );
    expect(delivered).toHaveLength(1);
    expect(inbox.to(desk, ref)).toHaveLength(1);
    expectClean(inbox.to(desk, ref)[0]!, referralId);
  }, 90_000);
});
