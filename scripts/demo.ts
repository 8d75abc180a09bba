// `pnpm demo`: plays the seed's story through the running network's HTTP API (start it with
// `pnpm start`), printing each step. GATEWAY_URL (default http://localhost:8080) and
// DEMO_PASSWORD (default passage-demo) must match the gateway's. Exits non-zero on the
// first step that does not go as the story says.
import { randomUUID } from 'node:crypto';

const base = process.env['GATEWAY_URL'] ?? 'http://localhost:8080';
const password = process.env['DEMO_PASSWORD'] ?? 'passage-demo';
const inAWeek = () => new Date(Date.now() + 7 * 86_400_000).toISOString();
let stepNumber = 0;
const say = (text: string) => console.log(`${++stepNumber}. ${text}`);

class DemoFailed extends Error {}

/** One signed-in person: the session cookie, the CSRF token, JSON in and out. */
class Person {
  readonly #cookie: string;
  readonly #csrf: string;
  readonly name: string;

  private constructor(cookie: string, csrf: string, name: string) {
    this.#cookie = cookie;
    this.#csrf = csrf;
    this.name = name;
  }

  static async signIn(username: string): Promise<Person> {
    const response = await fetch(`${base}/api/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, password }),
    });
    if (response.status !== 201) throw new DemoFailed(`${username} could not sign in: ${await response.text()}`);
    const body = (await response.json()) as { csrfToken: string; user: { displayName: string } };
    return new Person((response.headers.get('set-cookie') ?? '').split(';')[0]!, body.csrfToken, body.user.displayName);
  }

  async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { cookie: this.#cookie };
    if (method !== 'GET') {
      headers['x-csrf-token'] = this.#csrf;
      headers['idempotency-key'] = randomUUID();
    }
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(`${base}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) throw new DemoFailed(`${method} ${path} → ${response.status}: ${text}`);
    return (text ? JSON.parse(text) : {}) as T;
  }
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, seconds = 30): Promise<T> {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new DemoFailed(`waited ${seconds} s for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

interface Referral {
  id: string;
  state: string;
  acknowledgeDueAt?: string;
  reason?: string;
}

async function consentAndSend(
  by: Person,
  from: string,
  to: string,
  options: { language: 'en' | 'fr'; needs: string[]; priority: 'PRIORITY_URGENT' | 'PRIORITY_STANDARD' },
) {
  const consent = await by.call<{ subjectRef: string; consentId: string }>('POST', '/api/consents', {
    method: 'CAPTURE_METHOD_VERBAL',
    language: options.language,
    expiresAt: inAWeek(),
    scopes: [
      { recipientAgencyIds: [to], purposes: ['referral'], categories: ['needs', 'safe_contact'], doNotContact: false },
    ],
  });
  const { referral } = await by.call<{ referral: Referral }>('POST', '/api/referrals', {
    subjectRef: consent.subjectRef,
    fromAgency: from,
    toAgency: to,
    priority: options.priority,
    needs: options.needs,
    language: options.language,
    packet: [
      {
        category: 'needs',
        content: options.language === 'fr' ? 'Synthétique : hébergement sûr' : 'Synthetic: safe housing tonight',
      },
      {
        category: 'safe_contact',
        content: options.language === 'fr' ? 'Synthétique : texto après 18 h' : 'Synthetic: text after 6 pm',
      },
    ],
  });
  return { consentId: consent.consentId, subjectRef: consent.subjectRef, referral };
}

async function main(): Promise<void> {
  console.log(`Passage demo against ${base}`);

  const peel = await Person.signIn('peel-officer');
  say(`${peel.name} signs in.`);
  const first = await consentAndSend(peel, 'peel-regional-police', 'london-coalition', {
    language: 'en',
    needs: ['shelter', 'counselling'],
    priority: 'PRIORITY_URGENT',
  });
  say(
    `Consent recorded (read aloud in English): the London coalition may see needs and safe contact, for a referral — no scope for police follow-up. Referral ${first.referral.id} sent to the London coalition, urgent, to be acknowledged by ${first.referral.acknowledgeDueAt}.`,
  );

  const london = await Person.signIn('london-intake');
  const inbox = await london.call<{ referrals: Referral[] }>('GET', '/api/inbox');
  if (!inbox.referrals.some((r) => r.id === first.referral.id))
    throw new DemoFailed('the referral is not in London’s inbox');
  await london.call('POST', `/api/referrals/${first.referral.id}/acknowledge`, {});
  await london.call('POST', `/api/referrals/${first.referral.id}/accept`, {});
  await london.call('POST', `/api/referrals/${first.referral.id}/contact`, {
    at: new Date().toISOString(),
    method: 'phone',
  });
  const closed = await london.call<{ referral: Referral }>('POST', `/api/referrals/${first.referral.id}/close`, {
    outcome: 'services_provided',
  });
  say(
    `${london.name} finds it in the inbox, acknowledges, accepts, records first contact and closes it: ${closed.referral.state}.`,
  );

  const crisis = await Person.signIn('crisis-counsellor');
  const night = new Date();
  night.setUTCHours(7, 0, 0, 0); // 02:00 or 03:00 in Toronto
  const match = await crisis.call<{ candidates: { agency: { id: string; nameEn: string }; reasons: string[] }[] }>(
    'GET',
    `/api/match?needs=first_response&needs=safety_planning&municipality=brampton&priority=PRIORITY_URGENT&at=${encodeURIComponent(night.toISOString())}`,
  );
  const walk = match.candidates.find((c) => c.agency.id === 'walk-with-me');
  if (!walk)
    throw new DemoFailed(
      `Match did not suggest Walk With Me at night: ${JSON.stringify(match.candidates.map((c) => c.agency.id))}`,
    );
  const afterHours = await consentAndSend(crisis, 'ontario-ht-crisis-line', 'walk-with-me', {
    language: 'en',
    needs: ['first_response', 'safety_planning'],
    priority: 'PRIORITY_URGENT',
  });
  say(
    `An after-hours call to the crisis line: Match suggests ${walk.agency.nameEn} (${walk.reasons.join(', ')}); referral ${afterHours.referral.id} sent there.`,
  );

  // PACT-Ottawa keeps office hours: ask for the next weekday morning, as a counsellor would plan it.
  const morning = new Date();
  do morning.setUTCDate(morning.getUTCDate() + 1);
  while ([0, 6].includes(morning.getUTCDay()));
  morning.setUTCHours(15, 0, 0, 0); // 10:00 or 11:00 in Ottawa
  const ottawa = await crisis.call<{ candidates: { agency: { id: string }; reasons: string[] }[] }>(
    'GET',
    `/api/match?needs=counselling&needs=housing&municipality=ottawa&language=fr&at=${encodeURIComponent(morning.toISOString())}`,
  );
  const pact = ottawa.candidates.find((c) => c.agency.id === 'pact-ottawa');
  if (!pact) throw new DemoFailed('Match did not suggest PACT-Ottawa for a French speaker in Ottawa');
  const french = await consentAndSend(crisis, 'ontario-ht-crisis-line', 'pact-ottawa', {
    language: 'fr',
    needs: ['counselling', 'housing'],
    priority: 'PRIORITY_STANDARD',
  });
  const pactIntake = await Person.signIn('pact-intake');
  const seen = await pactIntake.call<{
    referral: Referral;
    packet: { category: string; content: string; withheld: boolean }[];
  }>('GET', `/api/referrals/${french.referral.id}`);
  say(
    `A French-speaking person in Ottawa: Match suggests PACT-Ottawa (${pact.reasons.join(', ')}); ${pactIntake.name} reads the referral in French: « ${seen.packet.find((p) => p.category === 'needs')?.content ?? ''} ».`,
  );

  await crisis.call('POST', `/api/consents/${afterHours.consentId}/revoke`, { all: true, reason: 'person_asked' });
  const withdrawn = await until('the Walk With Me referral to be withdrawn', async () => {
    const { referral } = await crisis.call<{ referral: Referral }>('GET', `/api/referrals/${afterHours.referral.id}`);
    return referral.state === 'STATE_WITHDRAWN' ? referral : undefined;
  });
  say(
    `The person who called at night withdraws their consent: the open referral to Walk With Me is withdrawn (${withdrawn.reason}).`,
  );

  const auditor = await Person.signIn('auditor');
  // The proto3 JSON mapping leaves out zeros: an absent count is 0.
  type Row = {
    group: string;
    referrals?: number;
    acknowledge?: { count?: number; p50Seconds?: number };
    close?: { count?: number };
  };
  const report = await until('the audit log to hold the story', async () => {
    const handoff = await auditor.call<{ rows: Row[] }>('GET', '/api/reports/handoff?groupBy=agency');
    return handoff.rows.some((r) => r.group === 'london-coalition' && (r.close?.count ?? 0) >= 1) ? handoff : undefined;
  });
  say('The hand-off report, by receiving agency:');
  for (const row of report.rows) {
    const referrals = row.referrals ?? 0;
    const acknowledged = row.acknowledge?.count ?? 0;
    const median = acknowledged > 0 ? `, median ${Math.round(row.acknowledge?.p50Seconds ?? 0)} s` : '';
    console.log(
      `   ${row.group.padEnd(26)} ${referrals} referral${referrals === 1 ? '' : 's'}, ${acknowledged} acknowledged${median}, ${row.close?.count ?? 0} closed`,
    );
  }

  const verified = await until('a signed checkpoint', async () => {
    const result = await auditor.call<{ ok: boolean; treeSize: number; checkpointsChecked: number; problem: string }>(
      'POST',
      '/api/audit/verify',
      {},
    );
    return result.ok && result.checkpointsChecked > 0 ? result : undefined;
  });
  say(`Audit log verified: OK — ${verified.treeSize} entries, ${verified.checkpointsChecked} signed checkpoints.`);
  console.log('Demo complete.');
}

try {
  await main();
} catch (error) {
  console.error(`demo failed: ${(error as Error).message}`);
  process.exitCode = 1;
}
