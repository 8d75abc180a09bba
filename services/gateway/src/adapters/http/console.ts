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

export function consoleBuilt(directory: string): boolean {
  return existsSync(join(directory, 'index.html'));
}

export async function serveConsole(app: FastifyInstance, directory: string): Promise<void> {
  await app.register(fastifyStatic, {
    root: directory,
    // Files are looked up when asked for, so a rebuilt console is served without a restart.
    wildcard: true,
    index: 'index.html',
    // The security headers are set for every answer in one place (security-headers.ts).
    setHeaders: (reply, path) => {
      // Hashed file names never change content. The page itself is never stored: a browser
      // then keeps no copy of a screen to restore with Back after the quick exit.
      reply.header(
        'cache-control',
        path.includes(join(directory, 'assets')) ? 'public, max-age=31536000, immutable' : 'no-store',
      );
    },
  });
}

/**
 * Paths an operator's tool asks and the console never shows: a missing one is a 404, never the
 * console's page (a scraper reading HTML as metrics, a probe reading it as health).
 */
const operationalPaths = new Set(['/metrics', '/healthz', '/livez', '/readyz']);

/**
 * Paths the console's page answers: not the API, not an operational path, not a missing built
 * file (under /assets/, or a name with an extension such as /favicon.ico): those are 404s.
 */
export function isConsolePath(method: string, path: string): boolean {
  const last = path.split('/').at(-1) ?? '';
  return (
    (method === 'GET' || method === 'HEAD') &&
    !path.startsWith('/api/') &&
    !path.startsWith('/assets/') &&
    !path.startsWith('/.well-known/') &&
    !operationalPaths.has(path.replace(/\/+$/, '')) &&
    !last.includes('.')
  );
}

/** The console's page for a path the API does not own. */
export function sendConsolePage(reply: FastifyReply): FastifyReply {
  return reply.header('cache-control', 'no-store').sendFile('index.html');
}
