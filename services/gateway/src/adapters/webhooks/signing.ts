import { createHash, createHmac, randomBytes } from 'node:crypto';

/**
 * Signing per the Standard Webhooks specification (ADR 46): a secret is `whsec_` and the base64
 * of its key; each delivery carries `webhook-id`, `webhook-timestamp` (seconds) and
 * `webhook-signature`: `v1,` and the base64 HMAC-SHA256 of `<id>.<timestamp>.<body>`, one for
 * each secret in force, separated by spaces (during a rotation, the new one and the old one).
 */
export const secretPrefix = 'whsec_';

/** A new secret: 32 random bytes. */
export function newWebhookSecret(): string {
  return `${secretPrefix}${randomBytes(32).toString('base64')}`;
}

function keyOf(secret: string): Buffer {
  return Buffer.from(secret.startsWith(secretPrefix) ? secret.slice(secretPrefix.length) : secret, 'base64');
}

export function signature(secret: string, webhookId: string, timestamp: number, body: string): string {
  const mac = createHmac('sha256', keyOf(secret)).update(`${webhookId}.${timestamp}.${body}`).digest('base64');
  return `v1,${mac}`;
}

/** The three headers of one attempt: its time is the attempt's, its id the delivery's. */
export function webhookHeaders(
  webhookId: string,
  secrets: readonly string[],
  at: Date,
  body: string,
): Record<'webhook-id' | 'webhook-timestamp' | 'webhook-signature', string> {
  const timestamp = Math.floor(at.getTime() / 1000);
  return {
    'webhook-id': webhookId,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': secrets.map((secret) => signature(secret, webhookId, timestamp, body)).join(' '),
  };
}

/**
 * A delivery's id (and webhook-id): the same for one event and one subscription however often
 * it is made or attempted, a UUID drawn from their SHA-256.
 */
export function deliveryIdOf(subscriptionId: string, eventId: string): string {
  const bytes = createHash('sha256').update(`${subscriptionId}:${eventId}`).digest().subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x80; // version 8: made by the application
  bytes[8] = (bytes[8]! & 0x3f) | 0x80; // the RFC 9562 variant
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
