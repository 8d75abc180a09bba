import { describe, expect, it } from 'vitest';
import { evaluate, type RecipientKind } from '@passage/consent-policy';
import { asIssued, planAmendment, amendmentRefusal, maximumScopes, type RawAmendment } from './amendment.ts';
import { receiptVersion, type Actor, type ConsentRecord } from './consent.ts';
import { kantaraReceipt, receiptText } from './receipt.ts';
import { withdrawalRights } from './revocation.ts';

const granted = new Date('2026-12-01T15:00:00Z');
const later = new Date('2026-12-03T16:00:00Z');
const recorder: Actor = { agencyId: 'ontario-ht-crisis-line', userId: 'crisis-counsellor', role: 'crisis_counsellor' };
const police: Actor = { agencyId: 'peel-regional-police', userId: 'peel-officer', role: 'officer' };

const consent: ConsentRecord = {
  id: '0193a3c4-1111-7000-8000-00000000abcd',
  subjectRef: '0193a3c4-2222-7000-8000-000000000001',
  capturedBy: recorder,
  method: 'verbal',
  interpreterLanguage: '',
  language: 'en',
  grantedAt: granted,
  expiresAt: new Date('2027-03-01T05:00:00Z'),
  scopes: [
    {
      id: 's1',
      recipientAgencyIds: ['london-coalition'],
      recipientKinds: [],
      purposes: ['referral'],
      categories: ['needs', 'safe_contact'],
      doNotContact: false,
    },
  ],
};

const kinds: Record<string, RecipientKind> = {
  'london-coalition': 'coalition',
  'pact-ottawa': 'coalition',
  'walk-with-me': 'first_response',
  'peel-regional-police': 'police',
  'ontario-ht-crisis-line': 'crisis_line',
};
const kindOf = (id: string) => kinds[id];
let ids = 0;
const context = (overrides: { proposes?: boolean; actor?: Actor; now?: Date } = {}) => ({
  now: overrides.now ?? later,
  actor: overrides.actor ?? recorder,
  proposes: overrides.proposes ?? false,
  kindOf,
  newId: () => `added-${++ids}`,
});
const toPact = (overrides: Partial<RawAmendment['scopes'][number]> = {}): RawAmendment => ({
  method: 'verbal',
  interpreterLanguage: '',
  scopes: [
    {
      recipientAgencyIds: ['pact-ottawa'],
      recipientKinds: [],
      purposes: ['referral'],
      categories: ['needs'],
      doNotContact: false,
      ...overrides,
    },
  ],
});

function amended(record: ConsentRecord, raw: RawAmendment, ctx = context()): ConsentRecord {
  const plan = planAmendment(record, raw, ctx);
  if (!plan.ok) throw new Error(JSON.stringify(plan.violations));
  return { ...record, scopes: [...record.scopes, ...plan.value.scopes] };
}

describe('planAmendment', () => {
  it('adds a scope as receipt version 2, with when, who and how', () => {
    const plan = planAmendment(consent, toPact(), context());
    expect(plan.ok).toBe(true);
    if (!plan.ok) return;
    expect(plan.value.version).toBe(2);
    expect(plan.value.scopes).toHaveLength(1);
    expect(plan.value.scopes[0]).toMatchObject({
      recipientAgencyIds: ['pact-ottawa'],
      addedAt: later,
      addedBy: recorder,
      addedInVersion: 2,
      addedMethod: 'verbal',
    });
    expect(plan.value.scopes[0]!.proposedAt).toBeUndefined();
  });

  it('numbers each amendment one version on', () => {
    const v2 = amended(consent, toPact());
    const v3 = amended(v2, toPact({ recipientAgencyIds: ['walk-with-me'] }));
    expect(receiptVersion(consent)).toBe(1);
    expect(receiptVersion(v2)).toBe(2);
    expect(receiptVersion(v3)).toBe(3);
  });

  it('lets the added agency read at once, the others as before', () => {
    const v2 = amended(consent, toPact());
    const at = new Date(later.getTime() + 1);
    expect([
      ...evaluate([consent], { agencyId: 'pact-ottawa', kind: 'coalition' }, 'referral', at).allowed.keys(),
    ]).toEqual([]);
    expect([...evaluate([v2], { agencyId: 'pact-ottawa', kind: 'coalition' }, 'referral', at).allowed.keys()]).toEqual([
      'needs',
    ]);
    expect(
      [...evaluate([v2], { agencyId: 'london-coalition', kind: 'coalition' }, 'referral', at).allowed.keys()].sort(),
    ).toEqual(['needs', 'safe_contact']);
  });

  it('refuses a scope the consent already allows, and checks scopes as a grant does', () => {
    const same = planAmendment(consent, toPact({ recipientAgencyIds: ['london-coalition'] }), context());
    expect(same.ok || same.violations.map((v) => v.field)).toEqual(['scopes[0]']);
    const bad = planAmendment(
      consent,
      {
        method: 'shouted',
        interpreterLanguage: '',
        scopes: [{ ...toPact().scopes[0]!, categories: [], purposes: ['x'] }],
      },
      context(),
    );
    expect(bad.ok || bad.violations.map((v) => v.field).sort()).toEqual([
      'method',
      'scopes[0].categories',
      'scopes[0].purposes[0]',
    ]);
    const none = planAmendment(consent, { method: 'verbal', interpreterLanguage: '', scopes: [] }, context());
    expect(none.ok || none.violations.map((v) => v.field)).toEqual(['scopes']);
  });

  it('counts a withdrawn scope as allowing nothing: adding it again is an amendment', () => {
    const withdrawn = { ...consent, scopes: [{ ...consent.scopes[0]!, revokedAt: granted }] };
    expect(planAmendment(withdrawn, toPact({ recipientAgencyIds: ['london-coalition'] }), context()).ok).toBe(true);
  });

  it('carries a do-not-contact wish over to every added scope', () => {
    const quiet = { ...consent, scopes: [{ ...consent.scopes[0]!, doNotContact: true }] };
    const plan = planAmendment(quiet, toPact(), context());
    expect(plan.ok && plan.value.scopes.every((s) => s.doNotContact)).toBe(true);
  });

  it('only proposes a scope that lets police read when police amend (ADR 22)', () => {
    const investigation = toPact({
      recipientAgencyIds: ['peel-regional-police'],
      purposes: ['investigation'],
      categories: ['identity'],
    });
    const byPolice = planAmendment(
      { ...consent, capturedBy: police },
      investigation,
      context({ proposes: true, actor: police }),
    );
    expect(byPolice.ok && byPolice.value.scopes[0]).toMatchObject({ proposedAt: later, proposedBy: police });
    const byCrisisLine = planAmendment(consent, investigation, context());
    expect(byCrisisLine.ok && byCrisisLine.value.scopes[0]!.proposedAt).toBeUndefined();
  });

  it('keeps to the most scopes a consent may hold', () => {
    const full = {
      ...consent,
      scopes: Array.from({ length: maximumScopes }, (_, i) => ({ ...consent.scopes[0]!, id: `s${i}` })),
    };
    const plan = planAmendment(full, toPact(), context());
    expect(plan.ok || plan.violations.map((v) => v.field)).toEqual(['scopes']);
  });
});

describe('amendmentRefusal', () => {
  it('refuses a withdrawn or expired consent, and lets an active one be amended', () => {
    expect(amendmentRefusal(consent, later)).toBeUndefined();
    expect(amendmentRefusal({ ...consent, revokedAt: granted }, later)).toMatch(/withdrawn/);
    expect(amendmentRefusal(consent, consent.expiresAt)).toMatch(/expired/);
  });
});

describe('receipt versions', () => {
  const names = (id: string) => ({ en: `${id} (en)`, fr: `${id} (fr)` });

  it('prints version 2 with the date of the amendment and what was added, in English and French', () => {
    const v2 = amended(consent, toPact());
    const en = receiptText(v2, 'en', names, 'Synthetic');
    expect(en).toContain('Version 2, updated on December 3, 2026. It replaces the earlier versions.');
    expect(en).toContain('On December 1, 2026 you agreed, by telling us, to the following:');
    expect(en).toContain('On December 3, 2026 you also agreed, by telling us, to the following:');
    expect(en.indexOf('london-coalition (en) may see')).toBeLessThan(en.indexOf('also agreed'));
    expect(en.indexOf('pact-ottawa (en) may see your needs')).toBeGreaterThan(en.indexOf('also agreed'));
    const fr = receiptText(v2, 'fr', names, 'Synthetic');
    expect(fr).toContain('Version 2, mise à jour le 3 décembre 2026. Elle remplace les versions précédentes.');
    expect(fr).toContain('Le 3 décembre 2026, vous avez aussi accepté, de vive voix, ce qui suit :');
    expect(fr).toContain('pact-ottawa (fr) peut consulter vos besoins');
  });

  it('keeps version 1 exactly as it was issued, whatever happened since', () => {
    const v1Text = receiptText(consent, 'en', names, 'Synthetic');
    const v1Json = kantaraReceipt(consent, 'en');
    const v2 = amended(consent, toPact());
    // The person then withdraws the first scope: version 1 as issued did not say so.
    const since = {
      ...v2,
      scopes: v2.scopes.map((s) => (s.id === 's1' ? { ...s, revokedAt: new Date('2026-12-05') } : s)),
    };
    expect(receiptText(asIssued(since, 1), 'en', names, 'Synthetic')).toBe(v1Text);
    expect(kantaraReceipt(asIssued(since, 1), 'en')).toEqual(v1Json);
    expect(receiptText(asIssued(since, 2), 'en', names, 'Synthetic')).toBe(receiptText(v2, 'en', names, 'Synthetic'));
    // The latest receipt, as the consent stands now, says it was withdrawn.
    expect(receiptText(since, 'en', names, 'Synthetic')).toContain('(You have since withdrawn this.)');
  });

  it('marks the version and each added scope in the machine-readable receipt', () => {
    const v2 = amended(consent, toPact({ categories: ['needs'] }));
    const json = kantaraReceipt(v2, 'en');
    expect(json.receiptVersion).toBe(2);
    expect(json.services[0]!.amendment).toBeUndefined();
    expect(json.services[1]!.amendment).toEqual({
      version: 2,
      agencyId: recorder.agencyId,
      userId: recorder.userId,
      at: later.toISOString(),
      collectionMethod: 'verbal',
    });
    expect(kantaraReceipt(consent, 'en').receiptVersion).toBe(1);
  });
});

describe('withdrawalRights', () => {
  const both = amended(consent, toPact({ recipientAgencyIds: [], recipientKinds: ['first_response'] }));

  it('lets the recording agency and an administrator withdraw everything', () => {
    expect(withdrawalRights(both, { agencyId: recorder.agencyId, kind: 'crisis_line', admin: false }).who).toBe(
      'recorder',
    );
    expect(withdrawalRights(both, { agencyId: 'passage-admin', kind: undefined, admin: true }).who).toBe('recorder');
  });

  it('counts an agency named by id or by its kind as covered, with the scopes naming it', () => {
    expect(withdrawalRights(both, { agencyId: 'london-coalition', kind: 'coalition', admin: false })).toEqual({
      who: 'covered',
      ownScopeIds: ['s1'],
    });
    const byKind = withdrawalRights(both, { agencyId: 'walk-with-me', kind: 'first_response', admin: false });
    expect(byKind.who).toBe('covered');
    expect(byKind.ownScopeIds).toEqual([both.scopes[1]!.id]);
  });

  it('still counts an agency whose scope was withdrawn: it is on the receipt', () => {
    const withdrawn = { ...consent, scopes: [{ ...consent.scopes[0]!, revokedAt: granted }] };
    expect(withdrawalRights(withdrawn, { agencyId: 'london-coalition', kind: 'coalition', admin: false }).who).toBe(
      'covered',
    );
  });

  it('refuses any other agency, the unlisted included', () => {
    expect(withdrawalRights(both, { agencyId: 'pact-ottawa', kind: 'coalition', admin: false }).who).toBe('none');
    expect(withdrawalRights(both, { agencyId: 'nowhere', kind: undefined, admin: false }).who).toBe('none');
  });
});
