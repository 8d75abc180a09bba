import { describe, expect, it } from 'vitest';
import type { ConsentRecord } from './consent.ts';
import { discreetMarkers, kantaraReceipt, receiptReference, receiptText } from './receipt.ts';
import { planRevocation } from './revocation.ts';
import { checkGrant, type RawGrant } from './validate-grant.ts';

const now = new Date('2026-12-01T15:00:00Z');
const raw: RawGrant = {
  subjectRef: '',
  method: 'verbal',
  interpreterLanguage: '',
  language: 'en',
  expiresAt: new Date('2027-03-01T00:00:00Z'),
  scopes: [
    {
      recipientAgencyIds: ['london-coalition'],
      recipientKinds: [],
      purposes: ['referral'],
      categories: ['needs', 'needs'],
      doNotContact: true,
    },
  ],
  receiptName: '  Synthetic  ',
  notes: '',
};

const record: ConsentRecord = {
  id: '0193a3c4-1111-7000-8000-00000000abcd',
  subjectRef: '0193a3c4-2222-7000-8000-000000000001',
  capturedBy: { agencyId: 'ontario-ht-crisis-line', userId: 'crisis-counsellor', role: 'crisis_counsellor' },
  method: 'via_interpreter',
  interpreterLanguage: 'es',
  language: 'es',
  grantedAt: now,
  expiresAt: new Date('2027-03-01T05:00:00Z'),
  scopes: [
    {
      id: 's1',
      recipientAgencyIds: ['london-coalition'],
      recipientKinds: [],
      purposes: ['referral'],
      categories: ['safe_contact', 'needs'],
      doNotContact: true,
    },
    {
      id: 's2',
      recipientAgencyIds: [],
      recipientKinds: ['police'],
      purposes: ['investigation'],
      categories: ['identity'],
      doNotContact: false,
    },
  ],
};

describe('checkGrant', () => {
  it('normalises a good grant', () => {
    const checked = checkGrant(raw, now);
    expect(checked.ok && checked.value).toMatchObject({
      receiptName: 'Synthetic',
      scopes: [{ categories: ['needs'] }],
    });
  });

  it('names a malformed subject reference and a missing expiry', () => {
    const checked = checkGrant({ ...raw, subjectRef: 'jane-doe', expiresAt: undefined }, now);
    expect(!checked.ok && checked.violations.map((v) => v.field)).toEqual(['subject_ref', 'expires_at']);
  });

  it('asks for recipients, purposes and categories in every scope', () => {
    const checked = checkGrant(
      {
        ...raw,
        scopes: [{ recipientAgencyIds: [], recipientKinds: [], purposes: [], categories: [], doNotContact: false }],
      },
      now,
    );
    expect(!checked.ok && checked.violations.map((v) => v.field)).toEqual([
      'scopes[0].recipient_agency_ids',
      'scopes[0].purposes',
      'scopes[0].categories',
    ]);
  });
});

describe('planRevocation', () => {
  it('revokes named scopes, or the whole consent when all remaining scopes go', () => {
    const one = planRevocation(record, { all: false, scopeIds: ['s1'] });
    expect(one.ok && one.value).toEqual({ scopeIds: ['s1'], whole: false });
    const both = planRevocation(record, { all: false, scopeIds: ['s1', 's2'] });
    expect(both.ok && both.value).toEqual({ scopeIds: ['s1', 's2'], whole: true });
    const partlyDone = { ...record, scopes: [{ ...record.scopes[0]!, revokedAt: now }, record.scopes[1]!] };
    const rest = planRevocation(partlyDone, { all: false, scopeIds: ['s2'] });
    expect(rest.ok && rest.value).toEqual({ scopeIds: ['s2'], whole: true });
  });

  it('plans nothing for what is already revoked, and refuses unknown scopes', () => {
    const done = planRevocation({ ...record, revokedAt: now }, { all: true, scopeIds: [] });
    expect(done.ok && done.value.scopeIds).toEqual([]);
    const unknown = planRevocation(record, { all: false, scopeIds: ['s1', 'nope'] });
    expect(!unknown.ok && unknown.violations[0]?.field).toBe('scope_ids[1]');
  });
});

describe('receipts', () => {
  const names = (id: string) =>
    id === 'london-coalition'
      ? { en: 'London Coalition', fr: 'Coalition de London' }
      : id === 'ontario-ht-crisis-line'
        ? { en: 'the Crisis Line', fr: 'la Ligne d’écoute' }
        : undefined;

  it('says in plain English who may see what, for what, until when, and how to withdraw', () => {
    const text = receiptText(record, 'en', names, 'Synthetic');
    expect(text).toContain('For: Synthetic');
    expect(text).toContain(`Reference: ${receiptReference(record.id)}`);
    expect(text).toContain('On December 1, 2026 you agreed, through an interpreter, to the following:');
    expect(text).toContain(
      '• London Coalition may see your safe times and ways to reach you and needs, to receive a referral and offer you support.',
    );
    expect(text).toContain('They will not contact you directly; only the Crisis Line will.');
    expect(text).toContain('• police services may see your name and identity, to investigate a crime.');
    expect(text).toContain('This lasts until March 1, 2027');
    expect(text).toContain(
      `Tell the Crisis Line, or any agency above, and quote your reference ${receiptReference(record.id)}.`,
    );
  });

  it('says the same in French', () => {
    const text = receiptText(record, 'fr', names, '');
    expect(text).not.toContain('Pour :');
    expect(text).toContain('Le 1 décembre 2026, vous avez accepté, avec un interprète, ce qui suit :');
    expect(text).toContain(
      '• Coalition de London peut consulter vos moments et moyens sûrs pour vous joindre et besoins',
    );
    expect(text).toContain('jusqu’au 1 mars 2027');
  });

  it('prints a discreet variant: agencies as Service A, B…, no word of trafficking, victims, crisis or police', () => {
    const proposed: ConsentRecord = {
      ...record,
      scopes: [
        ...record.scopes,
        {
          id: 's3',
          recipientAgencyIds: [],
          recipientKinds: ['coalition', 'victim_services', 'crisis_line', 'shelter'],
          purposes: ['referral'],
          categories: ['needs'],
          doNotContact: false,
          proposedAt: now,
          proposedBy: { agencyId: 'peel-regional-police', userId: 'peel-officer', role: 'officer' },
        },
      ],
    };
    const trafficking = (id: string) =>
      id === 'peel-regional-police'
        ? { en: 'Peel Regional Police', fr: 'Police régionale de Peel' }
        : id === 'london-coalition'
          ? { en: 'London Anti-Human Trafficking Coalition', fr: 'Coalition contre la traite de London' }
          : id === 'ontario-ht-crisis-line'
            ? { en: 'Ontario Human Trafficking Crisis Line', fr: 'Ligne d’écoute sur la traite' }
            : undefined;
    for (const language of ['en', 'fr'] as const) {
      const plain = receiptText(proposed, language, trafficking, 'Synthetic');
      // The plain receipt has them: the markers find what they are meant to find.
      expect(discreetMarkers.filter((marker) => marker.test(plain)).length).toBeGreaterThan(3);
      const text = receiptText(proposed, language, trafficking, 'Synthetic', true);
      expect(discreetMarkers.filter((marker) => marker.test(text))).toEqual([]);
      expect(text).toContain(receiptReference(record.id));
    }
    const text = receiptText(proposed, 'en', trafficking, '', true);
    expect(text).toContain('• Service A may see your safe times and ways to reach you and needs');
    expect(text).toContain('They will not contact you directly; only Service B will.');
    expect(text).toContain('(Proposed by Service C on December 1, 2026.');
    expect(text).toContain('Tell Service B, or any agency above');
  });

  it('builds a Kantara-style receipt with sensitive categories flagged', () => {
    const receipt = kantaraReceipt(record, 'en');
    expect(receipt).toMatchObject({
      jurisdiction: 'ON-CA',
      collectionMethod: 'via_interpreter',
      piiPrincipalId: record.subjectRef,
    });
    expect(receipt.services[1]?.purposes[0]).toMatchObject({
      purpose: 'investigation',
      thirdPartyName: 'kind:police',
      piiCategory: ['identity'],
    });
    expect(receipt.spiCat).toEqual([]);
  });
});
