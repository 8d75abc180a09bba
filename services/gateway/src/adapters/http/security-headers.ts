/**
 * The security headers of every answer the gateway gives, in one place: the API, its
 * problems and 404s, the live feed, the OpenAPI page and the web console. Set on the raw
 * response as each request arrives (server.ts), so an answer written outside Fastify's
 * reply (the live feed) or by a plugin (static files, the OpenAPI page) carries them too.
 */
const always = {
  // Only ever over HTTPS, for a year, subdomains too (browsers ignore it over plain HTTP).
  'strict-transport-security': 'max-age=31536000; includeSubDomains',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'permissions-policy': 'camera=(), microphone=(), geolocation=()',
} as const;

/** The console: nothing but our own files runs or loads; it cannot be framed (clickjacking). */
const consolePolicy =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
/** The OpenAPI page (Swagger UI): our own scripts; its styles set inline style attributes. */
const docsPolicy =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
  "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
/** Everything else is data, never a page: it may load and run nothing. */
const apiPolicy = "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

export function securityHeaders(path: string): Readonly<Record<string, string>> {
  const policy =
    path === '/api/docs' || path.startsWith('/api/docs/')
      ? docsPolicy
      : path.startsWith('/api/')
        ? apiPolicy
        : consolePolicy;
  return { ...always, 'content-security-policy': policy };
}
