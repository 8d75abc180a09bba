import { describe, expect, it } from 'vitest';
import { Topology } from './topology.ts';
import { uuidv7 } from './envelope.ts';

describe('subjects and streams', () => {
  it('uses the names of the design when no namespace is set', () => {
    const t = new Topology();
    expect(t.referral('opp', 'london-coalition', 'sent')).toBe('referral.v1.opp.london-coalition.sent');
    expect(t.referralsTo('london-coalition')).toBe('referral.v1.*.london-coalition.>');
    expect(t.referralsFrom('opp')).toBe('referral.v1.opp.*.>');
    expect(t.consent('revoked')).toBe('consent.v1.revoked');
    expect(t.stream('referral')).toMatchObject({ name: 'REFERRALS', subjects: ['referral.v1.>'] });
    expect(t.allStreams().map((s) => s.name)).toEqual(['REFERRALS', 'CONSENT', 'DIRECTORY', 'AUDIT']);
    expect(t.audit('access')).toBe('audit.v1.access');
  });

  it('prefixes streams and subjects with a namespace', () => {
    const t = new Topology('t1');
    expect(t.directory('agency_upserted')).toBe('t1.directory.v1.agency_upserted');
    expect(t.stream('directory')).toMatchObject({ name: 'T1_DIRECTORY', subjects: ['t1.directory.v1.>'] });
    expect(t.typeOf('t1.directory.v1.agency_upserted')).toBe('directory.v1.agency_upserted');
  });

  it('refuses tokens that would change the subject hierarchy', () => {
    const t = new Topology();
    expect(() => t.referral('opp.*', 'x', 'sent')).toThrow(/not a valid subject token/);
    expect(() => t.referral('opp', 'x y', 'sent')).toThrow();
    expect(() => new Topology('Bad.Namespace')).toThrow();
  });
});

describe('uuidv7', () => {
  it('is a version 7, variant 10 UUID that sorts by time', () => {
    const a = uuidv7(1_700_000_000_000);
    const b = uuidv7(1_700_000_000_001);
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(a < b).toBe(true);
  });
});
