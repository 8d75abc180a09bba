import { randomUUID } from 'node:crypto';

/** Every demo user's password, in these tests (DEMO_PASSWORD). */
export const demoPassword = 'passage-demo';

/** A demo user on the gateway's HTTP API: what a test sets up before the browser looks at it. */
export class ApiUser {
  readonly #base: string;
  readonly #cookie: string;
  readonly #csrf: string;

  private constructor(base: string, cookie: string, csrf: string) {
    this.#base = base;
    this.#cookie = cookie;
    this.#csrf = csrf;
  }

  static async signIn(base: string, username: string): Promise<ApiUser> {
    const response = await fetch(`${base}/api/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, password: demoPassword }),
    });
    if (response.status !== 201) throw new Error(`${username} could not sign in: ${await response.text()}`);
    const body = (await response.json()) as { csrfToken: string };
    return new ApiUser(base, (response.headers.get('set-cookie') ?? '').split(';')[0]!, body.csrfToken);
  }

  /** The response body as text, whatever the status: what the caller was shown. */
  async raw(method: 'GET', path: string): Promise<string> {
    const response = await fetch(`${this.#base}${path}`, { method, headers: { cookie: this.#cookie } });
    return response.text();
  }

  async call<T>(method: 'GET' | 'POST' | 'PUT', path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { cookie: this.#cookie };
    if (method !== 'GET') {
      headers['x-csrf-token'] = this.#csrf;
      headers['idempotency-key'] = randomUUID();
      headers['content-type'] = 'application/json';
    }
    const response = await fetch(`${this.#base}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${path} → ${response.status}: ${text}`);
    return JSON.parse(text) as T;
  }
}

const inAWeek = () => new Date(Date.now() + 7 * 86_400_000).toISOString();

/**
 * Consent for the needs category (one scope naming `recipients`), then a referral to `to`
 * with one synthetic needs section: the usual set-up of a browser test.
 */
export async function consentAndSend(
  sender: ApiUser,
  options: {
    from: string;
    to: string;
    recipients?: string[];
    needs: string[];
    content: string;
    priority?: 'PRIORITY_URGENT' | 'PRIORITY_STANDARD';
  },
): Promise<{ referralId: string; subjectRef: string; reference: string }> {
  const consent = await sender.call<{ subjectRef: string }>('POST', '/api/consents', {
    method: 'CAPTURE_METHOD_VERBAL',
    language: 'en',
    expiresAt: inAWeek(),
    scopes: [
      {
        recipientAgencyIds: options.recipients ?? [options.to],
        purposes: ['referral'],
        categories: ['needs'],
        doNotContact: false,
      },
    ],
  });
  const { referral } = await sender.call<{ referral: { id: string; reference: string } }>('POST', '/api/referrals', {
    subjectRef: consent.subjectRef,
    fromAgency: options.from,
    toAgency: options.to,
    priority: options.priority ?? 'PRIORITY_STANDARD',
    needs: options.needs,
    language: 'en',
    packet: [{ category: 'needs', content: options.content }],
  });
  return { referralId: referral.id, subjectRef: consent.subjectRef, reference: referral.reference };
}

/**
 * A referral whose consent first covered needs, safe contact and situation, then lost the
 * scope for situation (the person took it back): the recipient sees two categories and the
 * third as withheld. All content synthetic.
 */
export async function referralWithWithheldCategory(
  sender: ApiUser,
  options: {
    from: string;
    to: string;
    language: 'en' | 'fr';
    needs: string[];
    content: { needs: string; safe_contact: string; situation: string };
    doNotContact?: boolean;
  },
): Promise<{ referralId: string; subjectRef: string; reference: string }> {
  const consent = await sender.call<{
    consentId: string;
    subjectRef: string;
    consent: { scopes: { id: string; categories: string[] }[] };
  }>('POST', '/api/consents', {
    method: 'CAPTURE_METHOD_VERBAL',
    language: options.language,
    expiresAt: inAWeek(),
    scopes: [
      {
        recipientAgencyIds: [options.to],
        purposes: ['referral'],
        categories: ['needs', 'safe_contact'],
        doNotContact: options.doNotContact ?? false,
      },
      { recipientAgencyIds: [options.to], purposes: ['referral'], categories: ['situation'], doNotContact: false },
    ],
  });
  const { referral } = await sender.call<{ referral: { id: string; reference: string } }>('POST', '/api/referrals', {
    subjectRef: consent.subjectRef,
    fromAgency: options.from,
    toAgency: options.to,
    priority: 'PRIORITY_URGENT',
    needs: options.needs,
    language: options.language,
    packet: Object.entries(options.content).map(([category, content]) => ({ category, content })),
  });
  const situationScope = consent.consent.scopes.find((s) => s.categories.includes('situation'))!;
  await sender.call('POST', `/api/consents/${consent.consentId}/revoke`, {
    scopeIds: [situationScope.id],
    reason: 'person_asked',
  });
  return { referralId: referral.id, subjectRef: consent.subjectRef, reference: referral.reference };
}
