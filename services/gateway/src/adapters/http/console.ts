import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The web console (packages/console, built by Vite) served from the gateway's own origin, so
 * its API calls are same-origin and the Strict session cookie goes with them. Every path
 * that is not the API answers with the console's page (its router reads the path), so a
 * referral's link opens directly.
 */
const securityHeaders = {
  // Nothing but our own files runs or loads; the page cannot be framed (clickjacking).
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
    "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'permissions-policy': 'camera=(), microphone=(), geolocation=()',
} as const;

export function consoleBuilt(directory: string): boolean {
  return existsSync(join(directory, 'index.html'));
}

export async function serveConsole(app: FastifyInstance, directory: string): Promise<void> {
  await app.register(fastifyStatic, {
    root: directory,
    // Files are looked up when asked for, so a rebuilt console is served without a restart.
    wildcard: true,
    index: 'index.html',
    setHeaders: (reply, path) => {
      reply.headers(securityHeaders);
      // Hashed file names never change content. The page itself is never stored: a browser
      // then keeps no copy of a screen to restore with Back after the quick exit.
      reply.header(
        'cache-control',
        path.includes(join(directory, 'assets')) ? 'public, max-age=31536000, immutable' : 'no-store',
      );
    },
  });
}

/** Paths the console's page answers: not the API, not a missing built file (that is a 404). */
export function isConsolePath(method: string, path: string): boolean {
  return (method === 'GET' || method === 'HEAD') && !path.startsWith('/api/') && !path.startsWith('/assets/');
}

/** The console's page for a path the API does not own. */
export function sendConsolePage(reply: FastifyReply): FastifyReply {
  return reply.headers(securityHeaders).header('cache-control', 'no-store').sendFile('index.html');
}
