import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpWebhookTransport } from '../src/adapters/webhooks/transport.ts';
import { newWebhookSecret } from '../src/adapters/webhooks/signing.ts';

// The webhook POST against a real HTTP server on this machine: where it connects, what it
// sends, and what it does not do (follow a redirect, wait for ever).

interface Seen {
  readonly path: string;
  readonly host: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

const seen: Seen[] = [];
let server: Server;
let port = 0;

beforeAll(async () => {
  server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const path = request.url ?? '';
      seen.push({
        path,
        host: request.headers.host ?? '',
        headers: request.headers,
        body: Buffer.concat(chunks).toString(),
      });
      if (path.startsWith('/redirect'))
        response.writeHead(302, { location: `http://127.0.0.1:${port}/elsewhere` }).end();
      else if (path.startsWith('/slow')) setTimeout(() => response.writeHead(200).end(), 5_000);
      else response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as { port: number }).port;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const post = (path: string, transport = new HttpWebhookTransport(2_000), secret = newWebhookSecret()) =>
  transport.post({
    // A name no DNS knows: the POST can only reach the receiver through the address it was given.
    url: new URL(`http://hooks.passage.invalid:${port}${path}`),
    address: '127.0.0.1',
    webhookId: 'e3a1f9f4-0c1d-8a2b-9c3d-4e5f60718293',
    secrets: [secret],
    body: '{"type":"referral.sent"}',
    at: new Date(),
  });

describe('the webhook POST', () => {
  it('connects to the checked address, names the URL’s host, and signs what it sends', async () => {
    const secret = newWebhookSecret();
    expect(await post('/in?agency=1', undefined, secret)).toBe(204);
    const request = seen.find((s) => s.path === '/in?agency=1');
    expect(request).toBeDefined();
    expect(request!.host).toBe(`hooks.passage.invalid:${port}`);
    expect(request!.headers['content-type']).toBe('application/json');
    const headers = {
      'webhook-id': String(request!.headers['webhook-id']),
      'webhook-timestamp': String(request!.headers['webhook-timestamp']),
      'webhook-signature': String(request!.headers['webhook-signature']),
    };
    expect(new Webhook(secret).verify(request!.body, headers)).toEqual({ type: 'referral.sent' });
  });

  it('follows no redirect: a 302 is the answer', async () => {
    expect(await post('/redirect')).toBe(302);
    expect(seen.some((s) => s.path === '/elsewhere')).toBe(false);
  });

  it('gives up on an answer that does not come in time', async () => {
    const started = Date.now();
    const failure = await post('/slow', new HttpWebhookTransport(300)).catch((error: unknown) => error);
    expect((failure as { code?: string }).code).toBe('timeout');
    expect(Date.now() - started).toBeLessThan(4_000);
  });

  it('refuses to connect to what is not an address', async () => {
    const failure = await new HttpWebhookTransport(1_000)
      .post({
        url: new URL('https://cms.example/'),
        address: 'cms.example',
        webhookId: 'x',
        secrets: [],
        body: '',
        at: new Date(),
      })
      .catch((error: unknown) => error);
    expect((failure as { code?: string }).code).toBe('address_refused');
  });
});
