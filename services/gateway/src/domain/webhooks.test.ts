import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PassageError } from '@passage/errors';
import {
  addressRefusal,
  agencyFor,
  checkWebhookUrl,
  defaultRetryPolicy,
  deliverable,
  endpointHost,
  isDelivered,
  mayManage,
  retryAfterFailure,
  webhookPayload,
  type DueDelivery,
} from './webhooks.ts';

const refusedUrl = (text: string, policy: 'public-https' | 'any' = 'public-https'): string => {
  try {
    checkWebhookUrl(text, policy);
  } catch (error) {
    expect(error).toBeInstanceOf(PassageError);
    const refused = error as PassageError;
    expect(refused.code).toBe('invalid_argument');
    expect(refused.violations.map((v) => v.field)).toEqual(['url']);
    return refused.violations[0]!.description;
  }
  throw new Error(`${text} was accepted`);
};

describe('webhook endpoints', () => {
  it('takes https addresses, and http only in development', () => {
    expect(checkWebhookUrl('https://cms.example.org/hooks/passage?x=1', 'public-https').href).toBe(
      'https://cms.example.org/hooks/passage?x=1',
    );
    expect(refusedUrl('http://cms.example.org/hooks')).toMatch(/https:\/\/ address/);
    expect(checkWebhookUrl('http://127.0.0.1:8443/hooks', 'any').port).toBe('8443');
    expect(refusedUrl('ftp://cms.example.org/', 'any')).toMatch(/http/);
    expect(refusedUrl('not a url')).toMatch(/not a URL/);
    expect(refusedUrl('https://user:pw@cms.example.org/')).toMatch(/no user or password/);
    expect(refusedUrl('https://cms.example.org/#frag')).toMatch(/fragment/);
  });

  it('refuses this machine, and address literals that are not public, in production', () => {
    expect(refusedUrl('https://localhost/hooks')).toMatch(/loopback/);
    expect(refusedUrl('https://api.localhost/hooks')).toMatch(/loopback/);
    expect(refusedUrl('https://127.0.0.1/hooks')).toMatch(/loopback address \(127\.0\.0\.1\)/);
    // The URL parser writes other spellings of an IPv4 address in dotted form first.
    expect(refusedUrl('https://2130706433/hooks')).toMatch(/loopback/);
    expect(refusedUrl('https://0x7f.1/hooks')).toMatch(/loopback/);
    expect(refusedUrl('https://[::1]/hooks')).toMatch(/loopback/);
    expect(refusedUrl('https://10.1.2.3/hooks')).toMatch(/private/);
    expect(refusedUrl('https://169.254.169.254/latest/meta-data')).toMatch(/metadata/);
    expect(refusedUrl('https://[::ffff:192.168.0.1]/')).toMatch(/private/);
    expect(checkWebhookUrl('https://8.8.8.8/hooks', 'public-https').hostname).toBe('8.8.8.8');
    // Development allows a receiver on this machine.
    expect(checkWebhookUrl('https://localhost:9443/hooks', 'any').hostname).toBe('localhost');
  });

  it('names an endpoint in the audit log by its host only', () => {
    expect(endpointHost(new URL('https://cms.example.org:8443/hooks/x?token=secret'))).toBe('cms.example.org:8443');
  });
});

describe('addresses deliveries may go to in production', () => {
  it.each([
    ['0.0.0.0', 'unspecified'],
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['10.0.0.1', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['100.64.0.1', 'shared'],
    ['100.127.255.255', 'shared'],
    ['169.254.1.1', 'link_local'],
    ['169.254.169.254', 'metadata'],
    ['100.100.100.200', 'metadata'],
    ['224.0.0.1', 'multicast'],
    ['255.255.255.255', 'reserved'],
    ['192.0.2.10', 'documentation'],
    ['::', 'unspecified'],
    ['::1', 'loopback'],
    ['fc00::1', 'private'],
    ['fd12:3456::1', 'private'],
    ['fd00:ec2::254', 'metadata'],
    ['fe80::1', 'link_local'],
    ['ff02::1', 'multicast'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['64:ff9b::a00:1', 'private'],
    ['2002:c0a8:0101::1', 'private'],
    ['2001:db8::1', 'documentation'],
    ['not-an-address', 'reserved'],
  ])('%s is %s', (address, refusal) => {
    expect(addressRefusal(address)).toBe(refusal);
  });

  it.each(['8.8.8.8', '1.1.1.1', '172.32.0.1', '100.128.0.1', '169.255.0.1', '2606:4700::1111', '::ffff:8.8.8.8'])(
    '%s is public',
    (address) => {
      expect(addressRefusal(address)).toBeUndefined();
    },
  );

  it('refuses every address of the private IPv4 ranges, and judges a mapped IPv6 address as its IPv4 one', () => {
    const octet = fc.integer({ min: 0, max: 255 });
    fc.assert(
      fc.property(octet, octet, octet, (b, c, d) => {
        expect(addressRefusal(`10.${b}.${c}.${d}`)).toBe('private');
        expect(addressRefusal(`192.168.${c}.${d}`)).toBe('private');
        expect(addressRefusal(`172.${16 + (b % 16)}.${c}.${d}`)).toBe('private');
        expect(addressRefusal(`127.${b}.${c}.${d}`)).toBe('loopback');
        const four = `${b}.${c}.${d}.${(b + d) % 256}`;
        expect(addressRefusal(`::ffff:${four}`)).toBe(addressRefusal(four));
      }),
    );
  });
});

describe('who manages an agency’s webhooks', () => {
  const supervisor = { userId: 'london-supervisor', agencyId: 'london-coalition', roles: ['supervisor'] };
  const client = { userId: 'client-1', agencyId: 'london-coalition', roles: ['system'] };
  const admin = { userId: 'admin', agencyId: 'passage-oversight', roles: ['admin'] };
  const intake = { userId: 'london-intake', agencyId: 'london-coalition', roles: ['intake_worker'] };

  it('a supervisor or integration client its own agency, an administrator the one it names', () => {
    expect(agencyFor(supervisor, '')).toBe('london-coalition');
    expect(agencyFor(client, 'london-coalition')).toBe('london-coalition');
    expect(agencyFor(admin, 'pact-ottawa')).toBe('pact-ottawa');
    expect(() => agencyFor(admin, '')).toThrow(/name the agency/);
    expect(() => agencyFor(supervisor, 'pact-ottawa')).toThrow(/own agency/);
    expect(() => agencyFor(intake, '')).toThrow(/supervisor or its integration client/);
    expect(mayManage(client, 'london-coalition')).toBe(true);
    expect(mayManage(client, 'pact-ottawa')).toBe(false);
    expect(mayManage(intake, 'london-coalition')).toBe(false);
    expect(mayManage(admin, 'pact-ottawa')).toBe(true);
  });
});

describe('what a delivery says', () => {
  it('is thin: the event, the referral and its state, in the Standard Webhooks shape', () => {
    const occurredAt = new Date('2026-12-03T14:00:00Z');
    const body = JSON.parse(
      webhookPayload({
        eventId: 'e1',
        type: 'escalated',
        referralId: 'r1',
        occurredAt,
        fromAgency: 'peel-regional-police',
        toAgency: 'london-coalition',
        priority: 'urgent',
        reference: 'R-7K3M-Q9',
        state: 'sent',
        version: 3,
        reason: 'acknowledge_overdue',
        messageId: '',
        authorAgency: '',
      }),
    ) as Record<string, unknown>;
    expect(body).toEqual({
      type: 'referral.escalated',
      timestamp: '2026-12-03T14:00:00.000Z',
      data: {
        event_id: 'e1',
        referral_id: 'r1',
        reference: 'R-7K3M-Q9',
        from_agency: 'peel-regional-police',
        to_agency: 'london-coalition',
        priority: 'urgent',
        state: 'sent',
        version: 3,
        reason: 'acknowledge_overdue',
        occurred_at: '2026-12-03T14:00:00.000Z',
      },
    });
  });

  it('counts 2xx answers as delivered, and redirects and errors as failures', () => {
    expect([200, 201, 204, 299].every(isDelivered)).toBe(true);
    expect([0, 199, 301, 302, 400, 410, 500, 503].some(isDelivered)).toBe(false);
  });
});

describe('the retry schedule', () => {
  const hour = 3_600_000;
  const start = new Date('2026-12-03T00:00:00Z');

  /** A receiver that never answers: every attempt fails at once, the clock moved to each retry. */
  function scheduleOf(random: () => number): Date[] {
    const attempts = [start];
    for (;;) {
      const next = retryAfterFailure(attempts.length, start, attempts.at(-1)!, random());
      if (!next) return attempts;
      attempts.push(next);
    }
  }

  it('doubles from 5 s to an hour apart, and gives up only once 24 hours have passed', () => {
    const attempts = scheduleOf(() => 0.5); // no spread
    const gaps = attempts.slice(1).map((at, i) => at.getTime() - attempts[i]!.getTime());
    expect(gaps.length).toBeGreaterThan(0);
    expect(gaps.slice(0, 5)).toEqual([5_000, 10_000, 20_000, 40_000, 80_000]);
    expect(Math.max(...gaps)).toBe(hour);
    expect(gaps.every((gap, i) => i === 0 || gap >= gaps[i - 1]!)).toBe(true);
    // The last attempt is at least 24 hours after the first; the one before it is not.
    expect(attempts.at(-1)!.getTime() - start.getTime()).toBeGreaterThanOrEqual(24 * hour);
    expect(attempts.at(-2)!.getTime() - start.getTime()).toBeLessThan(24 * hour);
    expect(attempts.length).toBe(34); // 11 in the first 1.4 hours, then hourly
  });

  it('spreads every delay by at most a fifth either way, and always tries for at least 24 hours', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0, max: 0.999999, noNaN: true }), { minLength: 1 }), (randoms) => {
        let i = 0;
        const attempts = scheduleOf(() => randoms[i++ % randoms.length]!);
        expect(attempts.at(-1)!.getTime() - start.getTime()).toBeGreaterThanOrEqual(defaultRetryPolicy.windowMs);
        attempts.slice(1).forEach((at, n) => {
          const gap = at.getTime() - attempts[n]!.getTime();
          const nominal = Math.min(hour, 5_000 * 2 ** n);
          expect(gap).toBeGreaterThanOrEqual(Math.floor(nominal * 0.8));
          expect(gap).toBeLessThanOrEqual(Math.ceil(nominal * 1.2));
        });
      }),
      { numRuns: 50 },
    );
  });

  it('starts the window again for a delivery redelivered by hand (its first attempt is the new one)', () => {
    const later = new Date(start.getTime() + 30 * hour);
    expect(retryAfterFailure(40, start, later, 0.5)).toBeUndefined();
    expect(retryAfterFailure(40, later, later, 0.5)).toEqual(new Date(later.getTime() + hour));
  });
});

describe('order per referral', () => {
  const due = (deliveryId: string, referralId: string, sequence: number, blocked = false): DueDelivery => ({
    deliveryId,
    subscriptionId: 's1',
    referralId,
    sequence,
    blocked,
  });

  it('sends the first pending delivery of each referral, and none waiting behind an earlier one', () => {
    const chosen = deliverable([
      due('a2', 'ref-a', 2, true), // ref-a's first (1) is still being retried
      due('b1', 'ref-b', 5),
      due('b2', 'ref-b', 7),
      due('c1', 'ref-c', 3),
    ]);
    expect(chosen.map((d) => d.deliveryId).sort()).toEqual(['b1', 'c1']);
  });

  it('keeps subscriptions apart: one referral’s deliveries to two endpoints go independently', () => {
    const chosen = deliverable([
      { ...due('x', 'ref-a', 4), subscriptionId: 's1' },
      { ...due('y', 'ref-a', 4), subscriptionId: 's2' },
    ]);
    expect(chosen.map((d) => d.deliveryId).sort()).toEqual(['x', 'y']);
  });

  it('never lets a later event of a referral go before an earlier one', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ referral: fc.constantFrom('a', 'b', 'c'), blocked: fc.boolean() }), { minLength: 1 }),
        (rows) => {
          const candidates = rows.map((row, sequence) => due(`d${sequence}`, row.referral, sequence, row.blocked));
          const chosen = deliverable(candidates);
          for (const delivery of chosen) {
            expect(delivery.blocked).toBe(false);
            const earlier = candidates.filter(
              (c) => c.referralId === delivery.referralId && c.sequence < delivery.sequence && !c.blocked,
            );
            expect(earlier).toEqual([]);
          }
          expect(new Set(chosen.map((d) => d.referralId)).size).toBe(chosen.length);
        },
      ),
    );
  });
});
