import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { deliveryIdOf, newWebhookSecret, signature, webhookHeaders } from './signing.ts';

describe('Standard Webhooks signatures', () => {
  it('match the specification’s example', () => {
    // From the Standard Webhooks specification's test vectors.
    expect(
      signature(
        'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
        'msg_p5jXN8AQM9LWM0D4loKWxJek',
        1614265330,
        '{"test": 2432232314}',
      ),
    ).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });

  it('verify with the reference library, with either secret during a rotation', () => {
    const [current, previous] = [newWebhookSecret(), newWebhookSecret()];
    expect(current).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const body = JSON.stringify({
      type: 'referral.sent',
      timestamp: '2026-12-03T12:00:00.000Z',
      data: { referral_id: 'r1' },
    });
    const headers = webhookHeaders('4b2d6d43-2a0e-8f8e-9d3c-0a1b2c3d4e5f', [current, previous], new Date(), body);
    expect(headers['webhook-signature'].split(' ')).toHaveLength(2);
    expect(new Webhook(current).verify(body, headers)).toEqual(JSON.parse(body));
    expect(new Webhook(previous).verify(body, headers)).toEqual(JSON.parse(body));
    expect(() => new Webhook(newWebhookSecret()).verify(body, headers)).toThrow(/No matching signature/);
    expect(() => new Webhook(current).verify(`${body} `, headers)).toThrow(/No matching signature/);
  });

  it('sign the attempt’s time in seconds, and the same delivery id for an event and a subscription', () => {
    const headers = webhookHeaders('id', ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'], new Date(1_614_265_330_999), '{}');
    expect(headers['webhook-timestamp']).toBe('1614265330');
    const id = deliveryIdOf('s1', 'e1');
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(deliveryIdOf('s1', 'e1')).toBe(id);
    expect(deliveryIdOf('s2', 'e1')).not.toBe(id);
    expect(deliveryIdOf('s1', 'e2')).not.toBe(id);
  });
});
