import type { Server } from 'node:http';
import Provider from 'oidc-provider';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { sparePort } from '@passage/testing';
import { Http, startGatewayLab, type GatewayLab } from './support.ts';

// Sign-in through a real OpenID Connect provider (oidc-provider, with its development
// login pages) running in the test: authorization code, PKCE, state and nonce.
let lab: GatewayLab;
let issuerServer: Server;
let issuer: string;

beforeAll(async () => {
  const port = await sparePort();
  issuer = `http://127.0.0.1:${port}`;
  const gatewayPort = await sparePort();
  const callback = `http://127.0.0.1:${gatewayPort}/api/session/oidc/callback`;
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: 'passage',
        client_secret: 'synthetic-test-secret',
        redirect_uris: [callback],
        response_types: ['code'],
        grant_types: ['authorization_code'],
      },
    ],
    findAccount: (_ctx, id) => ({ accountId: id, claims: () => ({ sub: id, preferred_username: id }) }),
    claims: { openid: ['sub'], profile: ['preferred_username'] },
    cookies: { keys: ['synthetic-cookie-key'] },
    pkce: { required: () => true },
  });
  issuerServer = provider.listen(port);
  lab = await startGatewayLab('oidc', {
    HTTP_PORT: String(gatewayPort),
    OIDC_ISSUER: issuer,
    OIDC_CLIENT_ID: 'passage',
    OIDC_CLIENT_SECRET: 'synthetic-test-secret',
    OIDC_REDIRECT_URL: callback,
  });
  // Sign-in goes by the issuer's subject, linked to an account by an administrator (ADR 30).
  const http = new Http(lab.gateway.url);
  const admin = await http.signIn('admin');
  const linked = await http.json('POST', '/api/people/london-intake/oidc-subjects', {
    session: admin,
    body: { subject: { issuer, subject: 'london-intake' } },
  });
  if (linked.status !== 200) throw new Error(`link: ${JSON.stringify(linked.body)}`);
});

afterAll(async () => {
  await lab?.stop();
  issuerServer?.close();
});

/** A browser, as far as the flow needs one: cookies per host, redirects followed by hand. */
class Browser {
  readonly #jar = new Map<string, Map<string, string>>();

  async go(url: string, init: { method?: string; form?: Record<string, string> } = {}): Promise<Response> {
    const target = new URL(url);
    const cookies = [...(this.#jar.get(target.host)?.entries() ?? [])].map(([k, v]) => `${k}=${v}`).join('; ');
    const response = await fetch(target, {
      method: init.method ?? 'GET',
      redirect: 'manual',
      headers: {
        ...(cookies ? { cookie: cookies } : {}),
        ...(init.form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      },
      body: init.form ? new URLSearchParams(init.form).toString() : undefined,
    });
    for (const header of response.headers.getSetCookie()) {
      const [pair = ''] = header.split(';');
      const at = pair.indexOf('=');
      const jar = this.#jar.get(target.host) ?? new Map<string, string>();
      jar.set(pair.slice(0, at), pair.slice(at + 1));
      this.#jar.set(target.host, jar);
    }
    return response;
  }

  /** Follows redirects from `url` until a page answers (or the next stop starts with `stopBefore`). */
  async follow(
    url: string,
    init: { method?: string; form?: Record<string, string> } = {},
    stopBefore?: string,
  ): Promise<{ response: Response; url: string }> {
    let response = await this.go(url, init);
    let here = url;
    while (response.status >= 300 && response.status < 400) {
      const next = new URL(response.headers.get('location')!, here).toString();
      if (stopBefore && next.startsWith(stopBefore)) return { response, url: next };
      here = next;
      response = await this.go(here);
    }
    return { response, url: here };
  }

  cookie(host: string, name: string): string | undefined {
    return this.#jar.get(host)?.get(name);
  }
}

it('signs a person in through the identity provider into their Passage account', async () => {
  const browser = new Browser();
  const gateway = new URL(lab.gateway.url);
  const login = await browser.follow(`${lab.gateway.url}/api/session/oidc`);
  expect(login.url.startsWith(`${issuer}/interaction/`)).toBe(true);
  const consent = await browser.follow(login.url, {
    method: 'POST',
    form: { prompt: 'login', login: 'london-intake', password: 'any' },
  });
  expect(consent.url.startsWith(`${issuer}/interaction/`)).toBe(true);
  const back = await browser.follow(consent.url, { method: 'POST', form: { prompt: 'consent' } });
  expect(back.url.startsWith(`${lab.gateway.url}/api/session/oidc/callback?`)).toBe(true);
  expect(back.response.status, await back.response.clone().text()).toBe(200);
  const session = browser.cookie(gateway.host, 'passage_session');
  expect(session).toBeTruthy();
  const me = await fetch(`${lab.gateway.url}/api/session`, { headers: { cookie: `passage_session=${session}` } });
  expect(await me.json()).toMatchObject({ user: { userId: 'london-intake', agencyId: 'london-coalition' } });
});

it('refuses someone the provider knows but no Passage account is linked to, and a replayed callback', async () => {
  const browser = new Browser();
  const login = await browser.follow(`${lab.gateway.url}/api/session/oidc`);
  const consent = await browser.follow(login.url, {
    method: 'POST',
    form: { prompt: 'login', login: 'stranger', password: 'any' },
  });
  const back = await browser.follow(consent.url, { method: 'POST', form: { prompt: 'consent' } });
  expect(back.response.status).toBe(403);
  expect(await back.response.json()).toMatchObject({
    code: 'permission_denied',
    detail: expect.stringContaining('no Passage account is linked to this identity-provider account'),
  });
  const replay = await browser.go(back.url);
  expect(replay.status).toBe(401);
});

it('refuses a callback opened in another browser than the one that started the sign-in', async () => {
  const victim = new Browser();
  const attacker = new Browser();
  const login = await attacker.follow(`${lab.gateway.url}/api/session/oidc`);
  const consent = await attacker.follow(login.url, {
    method: 'POST',
    form: { prompt: 'login', login: 'london-intake', password: 'any' },
  });
  const link = await attacker.follow(
    consent.url,
    { method: 'POST', form: { prompt: 'consent' } },
    `${lab.gateway.url}/api/session/oidc/callback`,
  );
  expect(link.url.startsWith(`${lab.gateway.url}/api/session/oidc/callback?`)).toBe(true);
  const planted = await victim.go(link.url);
  expect(planted.status).toBe(401);
  expect(await planted.json()).toMatchObject({ detail: expect.stringContaining('not started in this browser') });
  expect(victim.cookie(new URL(lab.gateway.url).host, 'passage_session')).toBeUndefined();
});

it('refuses a linked person once disabled, and an unlinked one', async () => {
  const http = new Http(lab.gateway.url);
  const admin = await http.signIn('admin');
  const signIn = async (login: string) => {
    const browser = new Browser();
    const start = await browser.follow(`${lab.gateway.url}/api/session/oidc`);
    const consent = await browser.follow(start.url, {
      method: 'POST',
      form: { prompt: 'login', login, password: 'any' },
    });
    return (await browser.follow(consent.url, { method: 'POST', form: { prompt: 'consent' } })).response;
  };
  const subject = { issuer, subject: 'sarnia-intake' };
  expect(
    (await http.json('POST', '/api/people/sarnia-intake/oidc-subjects', { session: admin, body: { subject } })).status,
  ).toBe(200);
  expect((await signIn('sarnia-intake')).status).toBe(200);
  expect((await http.json('POST', '/api/people/sarnia-intake/disable', { session: admin, body: {} })).status).toBe(200);
  const disabled = await signIn('sarnia-intake');
  expect(disabled.status).toBe(403);
  expect(await disabled.json()).toMatchObject({ detail: expect.stringContaining('disabled') });
  expect((await http.json('POST', '/api/people/sarnia-intake/enable', { session: admin, body: {} })).status).toBe(200);
  const unlinked = await http.json('POST', '/api/people/sarnia-intake/oidc-subjects/unlink', {
    session: admin,
    body: { subject },
  });
  expect(unlinked.status).toBe(200);
  expect((await signIn('sarnia-intake')).status).toBe(403);
});
