/**
 * The gateway's HTTP API as the console uses it: same-origin, the session cookie goes by
 * itself; every change carries the CSRF token and a fresh Idempotency-Key. Failures arrive
 * as RFC 9457 problem+json and become one ApiError.
 */
export interface Violation {
  readonly field: string;
  readonly description: string;
}

/** Where a refused value is (RFC 9457 `errors`): a JSON pointer into the body, or a parameter. */
export interface ProblemError {
  readonly detail: string;
  readonly pointer?: string;
  readonly parameter?: string;
  readonly header?: string;
}

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly violations: readonly Violation[];
  readonly errors: readonly ProblemError[];
  /** Why a 401: `locked` when the session locked after a while without input (ADR 35). */
  readonly reason: string;

  constructor(
    status: number,
    code: string,
    message: string,
    violations: readonly Violation[] = [],
    errors: readonly ProblemError[] = [],
    reason = '',
  ) {
    super(message);
    this.reason = reason;
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.violations = violations;
    this.errors = errors;
  }
}

let csrfToken = '';
let whenSignedOut: (reason: string) => void = () => undefined;

/**
 * Called when the gateway says the session is gone (expired, revoked: the console signs in
 * again) or locked for want of input (`reason` "locked": the console asks for the password).
 */
export function onSignedOut(handler: (reason: string) => void): void {
  whenSignedOut = handler;
}

/** Set once signed in (and cleared on sign-out): changes are refused without it. */
export function setCsrfToken(token: string): void {
  csrfToken = token;
}

/**
 * Ends the session without waiting for the answer, even as the page goes away (keepalive):
 * the quick exit leaves nothing signed in behind it.
 */
export function signOutNow(): void {
  if (!csrfToken) return;
  void fetch('/api/session', {
    method: 'DELETE',
    headers: { 'x-csrf-token': csrfToken },
    credentials: 'same-origin',
    keepalive: true,
  }).catch(() => undefined);
  csrfToken = '';
}

async function toError(response: Response): Promise<ApiError> {
  try {
    const body = (await response.json()) as {
      code?: string;
      detail?: string;
      title?: string;
      violations?: Violation[];
      errors?: ProblemError[];
      reason?: string;
    };
    return new ApiError(
      response.status,
      body.code ?? 'unknown',
      body.detail ?? body.title ?? response.statusText,
      body.violations ?? [],
      body.errors ?? [],
      body.reason ?? '',
    );
  } catch {
    return new ApiError(response.status, 'unknown', response.statusText);
  }
}

/**
 * One call to the API. `idempotencyKey`: the same for every attempt of one logical
 * submission (so a retry after a lost answer cannot send a referral twice); fresh otherwise.
 */
export async function request<T>(
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
  path: string,
  body?: unknown,
  idempotencyKey?: string,
): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (method !== 'GET') {
    headers['x-csrf-token'] = csrfToken;
    headers['idempotency-key'] = idempotencyKey ?? crypto.randomUUID();
  }
  if (body !== undefined) headers['content-type'] = 'application/json';
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers,
      credentials: 'same-origin',
      // Answers hold people's data: never from or into the browser's cache.
      cache: 'no-store',
      body: body === undefined ? null : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, 'unavailable', 'the network is unreachable');
  }
  // A refused sign-in or unlock is not a lost session.
  const signingIn = method === 'POST' && (path === '/api/session' || path === '/api/session/unlock');
  if (!response.ok) {
    const error = await toError(response);
    if (response.status === 401 && !signingIn) whenSignedOut(error.reason);
    throw error;
  }
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
}

export const get = <T>(path: string): Promise<T> => request<T>('GET', path);
export const post = <T>(path: string, body: unknown = {}, idempotencyKey?: string): Promise<T> =>
  request<T>('POST', path, body, idempotencyKey);
export const put = <T>(path: string, body: unknown): Promise<T> => request<T>('PUT', path, body);

/** A query string from a record; arrays repeat the key, empty values are left out. */
export function query(values: Record<string, string | readonly string[] | undefined>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(values)) {
    for (const item of [value ?? []].flat()) if (item !== '') params.append(key, item);
  }
  const text = params.toString();
  return text ? `?${text}` : '';
}

/** A GET the generated API describes: its path (for useGet) and the call itself. */
export interface Read<T> {
  readonly path: string;
  fetch(): Promise<T>;
}

/** A path segment from a request field. */
export const seg = (value: string | undefined): string => encodeURIComponent(value ?? '');

/**
 * The query string of a request: every field the path does not carry, messages by dotted
 * name ("range.since"), lists as the name once per value, empty values left out.
 */
function queryOf(request: object, fromPath: readonly string[]): string {
  const params = new URLSearchParams();
  const add = (prefix: string, value: unknown): void => {
    if (value === undefined || value === null || value === '') return;
    if (Array.isArray(value)) for (const item of value) add(prefix, item);
    else if (typeof value === 'object') for (const [k, v] of Object.entries(value)) add(`${prefix}.${k}`, v);
    else if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')
      params.append(prefix, String(value));
  };
  for (const [key, value] of Object.entries(request)) if (!fromPath.includes(key)) add(key, value);
  const text = params.toString();
  return text ? `?${text}` : '';
}

export function read<T>(path: string, request: object, fromPath: readonly string[]): Read<T> {
  const full = `${path}${queryOf(request, fromPath)}`;
  return { path: full, fetch: () => get<T>(full) };
}

export function send<T>(
  method: 'POST' | 'PUT' | 'PATCH' | 'DELETE',
  path: string,
  body: object,
  fromPath: readonly string[],
  idempotencyKey?: string,
): Promise<T> {
  const rest = Object.fromEntries(Object.entries(body).filter(([key]) => !fromPath.includes(key)));
  return request<T>(method, path, rest, idempotencyKey);
}
