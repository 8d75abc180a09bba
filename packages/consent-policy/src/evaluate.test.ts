import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { evaluate, letsPoliceRead, type Consent, type Recipient, type Scope } from './evaluate.ts';
import { dataCategories, purposes, recipientKinds, type DataCategory, type Purpose } from './vocabulary.ts';

const t0 = new Date('2026-12-01T12:00:00Z');
const hours = (n: number) => new Date(t0.getTime() + n * 3_600_000);

const londonCoalition: Recipient = { agencyId: 'london-coalition', kind: 'coalition' };
const peelPolice: Recipient = { agencyId: 'peel-regional-police', kind: 'police' };

function scope(overrides: Partial<Scope> = {}): Scope {
  return {
    id: 's1',
    recipientAgencyIds: ['london-coalition'],
    recipientKinds: [],
    purposes: ['referral'],
    categories: ['identity', 'safe_contact', 'needs'],
    doNotContact: false,
    ...overrides,
  };
}

function consent(scopes: Scope[], overrides: Partial<Consent> = {}): Consent {
  return { id: 'c1', grantedAt: hours(-1), expiresAt: hours(24 * 30), scopes, ...overrides };
}

const allowedOf = (consents: Consent[], recipient: Recipient, purpose: Purpose, at = t0) =>
  [...evaluate(consents, recipient, purpose, at).allowed.keys()].sort();

describe('evaluate: examples', () => {
  it('allows what an active scope names, citing the consent and scope', () => {
    const result = evaluate([consent([scope()])], londonCoalition, 'referral', t0);
    expect([...result.allowed.keys()].sort()).toEqual(['identity', 'needs', 'safe_contact']);
    expect(result.allowed.get('identity')).toEqual([{ consentId: 'c1', scopeId: 's1' }]);
  });

  it('denies by default: another agency, another purpose, no consent', () => {
    expect(allowedOf([consent([scope()])], { agencyId: 'pact-ottawa', kind: 'coalition' }, 'referral')).toEqual([]);
    expect(allowedOf([consent([scope()])], londonCoalition, 'statistics')).toEqual([]);
    expect(allowedOf([], londonCoalition, 'referral')).toEqual([]);
  });

  it('covers every agency of a kind named by the scope', () => {
    const byKind = consent([scope({ recipientAgencyIds: [], recipientKinds: ['coalition'] })]);
    expect(allowedOf([byKind], { agencyId: 'pact-ottawa', kind: 'coalition' }, 'referral')).toHaveLength(3);
    expect(allowedOf([byKind], { agencyId: 'walk-with-me', kind: 'first_response' }, 'referral')).toEqual([]);
  });

  it('allows nothing before the grant, at or after expiry, or from revocation on', () => {
    const c = consent([scope()], { grantedAt: hours(0), expiresAt: hours(10) });
    expect(allowedOf([c], londonCoalition, 'referral', hours(-0.1))).toEqual([]);
    expect(allowedOf([c], londonCoalition, 'referral', hours(10))).toEqual([]);
    const revoked = consent([scope()], { revokedAt: hours(1) });
    expect(allowedOf([revoked], londonCoalition, 'referral', hours(0.5))).toHaveLength(3);
    expect(allowedOf([revoked], londonCoalition, 'referral', hours(1))).toEqual([]);
    const scopeRevoked = consent([scope({ revokedAt: hours(1) }), scope({ id: 's2', categories: ['needs'] })]);
    expect(allowedOf([scopeRevoked], londonCoalition, 'referral', hours(2))).toEqual(['needs']);
  });

  it('gives police nothing for a referral, even under a scope that names them', () => {
    const namesPolice = consent([scope({ recipientKinds: ['police'], purposes: ['referral', 'investigation'] })]);
    expect(allowedOf([namesPolice], peelPolice, 'referral')).toEqual([]);
    expect(allowedOf([namesPolice], peelPolice, 'investigation')).toHaveLength(3);
  });

  it('gives nothing under a proposed scope until it is confirmed, and from the confirmation on', () => {
    const proposed = scope({ recipientAgencyIds: ['peel-regional-police'], purposes: ['investigation'] });
    const pending = consent([{ ...proposed, proposedAt: hours(-1) }]);
    expect(allowedOf([pending], peelPolice, 'investigation')).toEqual([]);
    const confirmed = consent([{ ...proposed, proposedAt: hours(-1), confirmedAt: hours(1) }]);
    expect(allowedOf([confirmed], peelPolice, 'investigation', hours(0.5))).toEqual([]);
    expect(allowedOf([confirmed], peelPolice, 'investigation', hours(1))).toHaveLength(3);
  });

  it('knows which scopes let police read', () => {
    const kindOf = (id: string) => (id === 'peel-regional-police' ? 'police' : id === 'x' ? undefined : 'coalition');
    expect(letsPoliceRead(scope({ purposes: ['investigation'], recipientKinds: ['police'] }), kindOf)).toBe(true);
    expect(
      letsPoliceRead(scope({ purposes: ['investigation'], recipientAgencyIds: ['x', 'peel-regional-police'] }), kindOf),
    ).toBe(true);
    expect(letsPoliceRead(scope({ purposes: ['referral'], recipientKinds: ['police'] }), kindOf)).toBe(false);
    expect(letsPoliceRead(scope({ purposes: ['investigation'] }), kindOf)).toBe(false);
  });

  it('carries do-not-contact from any scope that allows', () => {
    const c = consent([scope({ doNotContact: true, categories: ['needs'] }), scope({ id: 's2' })]);
    expect(evaluate([c], londonCoalition, 'referral', t0).doNotContact).toBe(true);
    expect(evaluate([consent([scope()])], londonCoalition, 'referral', t0).doNotContact).toBe(false);
  });
});

// ---- properties ----

const agencyIds = [
  'opp',
  'peel-regional-police',
  'london-coalition',
  'pact-ottawa',
  'walk-with-me',
  'ontario-ht-crisis-line',
];
const kindOf: Record<string, Recipient['kind']> = {
  opp: 'police',
  'peel-regional-police': 'police',
  'london-coalition': 'coalition',
  'pact-ottawa': 'coalition',
  'walk-with-me': 'first_response',
  'ontario-ht-crisis-line': 'crisis_line',
};
const hour = fc.integer({ min: -48, max: 48 });
const recipientArb = fc
  .constantFrom(...agencyIds)
  .map((agencyId): Recipient => ({ agencyId, kind: kindOf[agencyId]! }));
const scopeArb = (id: fc.Arbitrary<string>) =>
  fc.record({
    id,
    recipientAgencyIds: fc.subarray(agencyIds),
    recipientKinds: fc.subarray([...recipientKinds]),
    purposes: fc.subarray([...purposes]),
    categories: fc.subarray([...dataCategories]),
    doNotContact: fc.boolean(),
    revokedAt: fc.option(hour.map(hours), { nil: undefined }),
  });
const consentArb = fc
  .record({
    id: fc.uuid(),
    granted: hour,
    lifetime: fc.integer({ min: 1, max: 96 }),
    revokedAt: fc.option(hour.map(hours), { nil: undefined }),
    scopes: fc.array(scopeArb(fc.uuid()), { minLength: 1, maxLength: 4 }),
  })
  .map((c): Consent => ({
    id: c.id,
    grantedAt: hours(c.granted),
    expiresAt: hours(c.granted + c.lifetime),
    revokedAt: c.revokedAt,
    scopes: c.scopes,
  }));
const consentsArb = fc.array(consentArb, { maxLength: 5 });
const purposeArb = fc.constantFrom(...purposes);
const atArb = hour.map(hours);

function scopeIsActive(c: Consent, s: Scope, at: Date): boolean {
  return (
    c.grantedAt <= at && at < c.expiresAt && (!c.revokedAt || at < c.revokedAt) && (!s.revokedAt || at < s.revokedAt)
  );
}

describe('evaluate: properties', () => {
  it('never allows a category that no active scope naming the recipient and purpose grants', () => {
    fc.assert(
      fc.property(consentsArb, recipientArb, purposeArb, atArb, (consents, recipient, purpose, at) => {
        for (const [category, grants] of evaluate(consents, recipient, purpose, at).allowed) {
          expect(grants.length).toBeGreaterThan(0);
          for (const grant of grants) {
            const c = consents.find((x) => x.id === grant.consentId)!;
            const s = c.scopes.find((x) => x.id === grant.scopeId)!;
            expect(scopeIsActive(c, s, at)).toBe(true);
            expect(s.purposes).toContain(purpose);
            expect(s.categories).toContain(category);
            expect(s.recipientAgencyIds.includes(recipient.agencyId) || s.recipientKinds.includes(recipient.kind)).toBe(
              true,
            );
          }
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('never allows anything once every consent is revoked or expired', () => {
    fc.assert(
      fc.property(
        consentsArb,
        recipientArb,
        purposeArb,
        atArb,
        fc.boolean(),
        (consents, recipient, purpose, at, byRevocation) => {
          const ended = consents.map((c) =>
            byRevocation ? { ...c, revokedAt: new Date(at.getTime() - 1) } : { ...c, expiresAt: at },
          );
          expect(evaluate(ended, recipient, purpose, at).allowed.size).toBe(0);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('never allows police anything without an active investigation scope naming police', () => {
    fc.assert(
      fc.property(
        consentsArb,
        fc.constantFrom('opp', 'peel-regional-police'),
        purposeArb,
        atArb,
        (consents, agencyId, purpose, at) => {
          const police: Recipient = { agencyId, kind: 'police' };
          const explicit = consents.some((c) =>
            c.scopes.some(
              (s) =>
                scopeIsActive(c, s, at) &&
                s.purposes.includes('investigation') &&
                s.categories.length > 0 &&
                (s.recipientAgencyIds.includes(agencyId) || s.recipientKinds.includes('police')),
            ),
          );
          const allowed = evaluate(consents, police, purpose, at).allowed.size;
          if (purpose !== 'investigation' || !explicit) expect(allowed).toBe(0);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('never allows anything under a scope proposed and not yet confirmed', () => {
    fc.assert(
      fc.property(consentsArb, recipientArb, purposeArb, atArb, (consents, recipient, purpose, at) => {
        const proposed = consents.map((c) => ({
          ...c,
          scopes: c.scopes.map((s) => ({ ...s, proposedAt: c.grantedAt, confirmedAt: undefined })),
        }));
        expect(evaluate(proposed, recipient, purpose, at).allowed.size).toBe(0);
      }),
      { numRuns: 1000 },
    );
  });

  it('never allows less with more scopes or more consents', () => {
    fc.assert(
      fc.property(consentsArb, consentsArb, recipientArb, purposeArb, atArb, (base, extra, recipient, purpose, at) => {
        const before = new Set<DataCategory>(evaluate(base, recipient, purpose, at).allowed.keys());
        const widened = [
          ...base.map((c, i) => ({ ...c, scopes: [...c.scopes, ...(extra[i]?.scopes ?? [])] })),
          ...extra,
        ];
        const after = new Set<DataCategory>(evaluate(widened, recipient, purpose, at).allowed.keys());
        for (const category of before) expect(after.has(category)).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });
});
