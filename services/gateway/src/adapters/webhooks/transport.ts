import { lookup } from 'node:dns/promises';
import * as http from 'node:http';
import * as https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import type { HostResolver, WebhookTransport } from '../../app/webhooks.ts';
import { webhookHeaders } from './signing.ts';

/** A host's addresses as the system's resolver gives them (what a connection would use). */
export const systemResolver: HostResolver = {
  async addresses(host) {
    const found = await lookup(host, { all: true, order: 'verbatim' });
    return found.map((entry) => entry.address);
  },
};

/** How much of a receiver's answer is read before the connection is closed: only its status matters. */
const answerLimit = 64 * 1024;

/**
 * Signed POSTs (ADR 46) with node:http(s): connected to the address the sender checked (never a
 * second lookup a DNS answer could change in between), TLS still verifying the certificate for
 * the URL's host; redirects are not followed (a 3xx is a failure); the whole attempt, answer
 * included, ends after `timeoutMs`.
 */
export class HttpWebhookTransport implements WebhookTransport {
  readonly #timeoutMs: number;

  constructor(timeoutMs: number) {
    this.#timeoutMs = timeoutMs;
  }

  post(request: Parameters<WebhookTransport['post']>[0]): Promise<number> {
    const { url, address, body } = request;
    const family = isIP(address);
    if (family === 0) return Promise.reject(Object.assign(new Error('not an address'), { code: 'address_refused' }));
    // The checked address, however the socket asks (one address, or all for happy eyeballs).
    const pinned: LookupFunction = (_host, options, callback) => {
      if ((options as { all?: boolean }).all)
        (callback as (e: null, a: { address: string; family: number }[]) => void)(null, [{ address, family }]);
      else callback(null, address, family);
    };
    const headers = {
      'content-type': 'application/json',
      'user-agent': 'Passage-Webhooks/1',
      ...webhookHeaders(request.webhookId, request.secrets, request.at, body),
    };
    const secure = url.protocol === 'https:';
    const options: https.RequestOptions = {
      method: 'POST',
      protocol: url.protocol,
      hostname: url.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: url.port || (secure ? 443 : 80),
      path: `${url.pathname}${url.search}`,
      headers: { ...headers, 'content-length': Buffer.byteLength(body) },
      lookup: pinned,
      agent: false,
      signal: AbortSignal.timeout(this.#timeoutMs),
    };
    return new Promise<number>((resolve, reject) => {
      const sent = (secure ? https : http).request(options, (answer) => {
        let read = 0;
        answer.on('data', (chunk: Buffer) => {
          read += chunk.length;
          if (read > answerLimit) answer.destroy();
        });
        answer.on('close', () => resolve(answer.statusCode ?? 0));
        answer.on('error', () => resolve(answer.statusCode ?? 0));
      });
      sent.on('error', (error: Error & { code?: string }) =>
        reject(
          error.name === 'AbortError' || error.code === 'ABORT_ERR' ? Object.assign(error, { code: 'timeout' }) : error,
        ),
      );
      sent.end(body);
    });
  }
}
