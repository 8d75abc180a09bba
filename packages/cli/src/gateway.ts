import { fieldPath, type HttpMethod } from '@passage/contracts';
import { apiContract } from '@passage/contracts/descriptor';
import { PassageError } from '@passage/platform';
import { UsageError } from './connection.ts';

/**
 * The gateway's HTTP API, signed in as the person running the command. People administration
 * lives in the gateway's own process (ADR 30), so this is the one way to it; the command meets
 * the same session, role checks, field rules and audit as the console. Paths and verbs come
 * from the proto's google.api.http rules (the descriptor `pnpm gen` built), never restated.
 */
export class GatewayClient {
  readonly #base: string;
  readonly #cookie: string;
  readonly #csrf: string;
  readonly #methods: readonly HttpMethod[];

  private constructor(base: string, cookie: string, csrf: string) {
    this.#base = base;
    this.#cookie = cookie;
    this.#csrf = csrf;
    this.#methods = apiContract().methods;
  }

  /**
   * GATEWAY_URL (default http://127.0.0.1:8080); PASSAGE_USERNAME and PASSAGE_PASSWORD, or in
   * development `--as <demo user>` with DEMO_PASSWORD (the gateway's demo password).
   */
  static async signIn(env: NodeJS.ProcessEnv, asUser: string | undefined): Promise<GatewayClient> {
    const base = (env['GATEWAY_URL'] ?? 'http://127.0.0.1:8080').replace(/\/$/, '');
    let username = env['PASSAGE_USERNAME'];
    let password = env['PASSAGE_PASSWORD'];
    if (!username || !password) {
      if (env['PASSAGE_ENV'] !== 'development')
        throw new UsageError('set PASSAGE_USERNAME and PASSAGE_PASSWORD (or PASSAGE_ENV=development with --as USER)');
      username = asUser ?? 'admin';
      password = env['DEMO_PASSWORD'] ?? 'passage-demo';
    }
    const response = await fetch(`${base}/api/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, password }),
    });
    const body = (await response.json()) as { csrfToken?: string; mustChangePassword?: boolean; detail?: string };
    if (response.status !== 201) throw new PassageError('unauthenticated', `sign-in refused: ${body.detail ?? ''}`);
    if (body.mustChangePassword)
      throw new UsageError('choose your own password first (you signed in with a temporary one): use the console');
    const cookie = (response.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    return new GatewayClient(base, cookie, body.csrfToken ?? '');
  }

  /** Calls an RPC by its service and method name with the request as proto3 JSON; answers the response JSON. */
  async call<T>(service: string, method: string, request: Record<string, unknown>): Promise<T> {
    const http = this.#methods.find((m) => m.service.typeName === service && m.method.name === method);
    if (!http) throw new Error(`${service}.${method} has no HTTP mapping`);
    const rest: Record<string, unknown> = structuredClone(request);
    const path = http.path.replace(/\{([a-z0-9_.]+)\}/g, (_, name: string) => {
      const json = (fieldPath(http.method.input, name.split('.')) ?? []).map((f) => f.jsonName);
      let holder: Record<string, unknown> = rest;
      for (const key of json.slice(0, -1)) holder = (holder[key] ?? {}) as Record<string, unknown>;
      const key = json.at(-1) ?? '';
      const value = holder[key];
      holder[key] = undefined; // named by the path, not sent again
      return encodeURIComponent(typeof value === 'string' || typeof value === 'number' ? String(value) : '');
    });
    let url = `${this.#base}${path}`;
    let body: string | undefined;
    if (http.body === '') {
      const query = new URLSearchParams();
      for (const [key, value] of Object.entries(rest))
        if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')
          if (value !== '') query.append(key, String(value));
      if ([...query].length > 0) url += `?${query.toString()}`;
    } else {
      const field = http.method.input.fields.find((f) => f.name === http.body);
      body = JSON.stringify(http.body === '*' ? rest : (rest[field?.jsonName ?? ''] ?? {}));
    }
    const response = await fetch(url, {
      method: http.verb,
      headers: {
        cookie: this.#cookie,
        ...(http.verb === 'GET' ? {} : { 'x-csrf-token': this.#csrf }),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body,
    });
    const text = await response.text();
    const json = (text ? JSON.parse(text) : {}) as Record<string, unknown>;
    if (!response.ok) {
      const violations = (json['violations'] as { field: string; description: string }[] | undefined) ?? [];
      throw new PassageError(
        (json['code'] as never) ?? 'internal',
        `${typeof json['detail'] === 'string' ? json['detail'] : response.statusText}${violations.map((v) => `\n  ${v.field}: ${v.description}`).join('')}`,
        violations,
      );
    }
    return json as T;
  }

  /** Signs out: the session ends. */
  async close(): Promise<void> {
    await fetch(`${this.#base}/api/session`, {
      method: 'DELETE',
      headers: { cookie: this.#cookie, 'x-csrf-token': this.#csrf },
    }).catch(() => undefined);
  }
}
