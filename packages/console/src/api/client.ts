/**
 * The gateway's HTTP API as the console uses it: same-origin, the session cookie goes by
 * itself; every change carries the CSRF token and a fresh Idempotency-Key. Failures arrive
 * as RFC 9457 problem+json and become one ApiError.
 */
export interface Violation {
  readonly field: string;
  readonly description: string;
}

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly violations: readonly Violation[];

  constructor(status: number, code: string, message: string, violations: readonly Violation[] = []) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.violations = violations;
  }
}

let csrfToken = '';
let whenSignedOut: () => void = () => undefined;

/** Called when the gateway says the session is gone (expired, revoked): the console signs in again. */
export function onSignedOut(handler: () => void): void {
  whenSignedOut = handler;
}

/** Set once signed in (and cleared on sign-out): changes are refused without it. */
export function setCsrfToken(token: string): void {
  csrfToken = token;
}

async function toError(response: Response): Promise<ApiError> {
  try {
    const body = (await response.json()) as {
      code?: string;
      detail?: string;
      title?: string;
      violations?: Violation[];
    };
    return new ApiError(
      response.status,
      body.code ?? 'unknown',
      body.detail ?? body.title ?? response.statusText,
      body.violations ?? [],
    );
  } catch {
    return new ApiError(response.status, 'unknown', response.statusText);
  }
}

export async function request<T>(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (method !== 'GET') {
    headers['x-csrf-token'] = csrfToken;
    headers['idempotency-key'] = crypto.randomUUID();
  }
  if (body !== undefined) headers['content-type'] = 'application/json';
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers,
      credentials: 'same-origin',
      body: body === undefined ? null : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, 'unavailable', 'the network is unreachable');
  }
  if (response.status === 401 && path !== '/api/session') whenSignedOut();
  if (!response.ok) throw await toError(response);
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
}

export const get = <T>(path: string): Promise<T> => request<T>('GET', path);
export const post = <T>(path: string, body: unknown = {}): Promise<T> => request<T>('POST', path, body);
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
