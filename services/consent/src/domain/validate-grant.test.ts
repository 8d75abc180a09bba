import { describe, expect, it } from 'vitest';
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
      categories: ['needs'],
      doNotContact: false,
    },
  ],
  receiptName: 'Synthetic Name',
  notes: '',
};

describe('checkGrant: text a receipt prints', () => {
  it('refuses control and bidirectional-override characters in the receipt name and notes, naming the field', () => {
    const cases: [Partial<RawGrant>, string][] = [
      [{ receiptName: 'Synthetic \u202Eeman' }, 'receipt_name'],
      [{ receiptName: 'Synthetic \u2066Name\u2069' }, 'receipt_name'],
      [{ receiptName: 'Synthetic\u0000Name' }, 'receipt_name'],
      [{ receiptName: 'Synthetic\nName' }, 'receipt_name'],
      [{ notes: 'Synthetic \u202Dnote' }, 'notes'],
      [{ notes: 'Synthetic\u0007note' }, 'notes'],
    ];
    for (const [fields, field] of cases) {
      const checked = checkGrant({ ...raw, ...fields }, now);
      expect(checked.ok, JSON.stringify(fields)).toBe(false);
      if (!checked.ok) expect(checked.violations.map((v) => v.field)).toEqual([field]);
    }
  });

  it('takes names in any script and notes over several lines', () => {
    const checked = checkGrant({ ...raw, receiptName: 'Zoë Ōtani مريم', notes: 'Synthetic line one\n\tline two' }, now);
    expect(checked.ok).toBe(true);
  });
});
