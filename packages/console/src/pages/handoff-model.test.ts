import { describe, expect, it } from 'vitest';
import {
  consentRequest,
  handoffProblems,
  newHandoffForm,
  offersCrisisLine,
  packet,
  personLanguages,
  presetCategories,
  presets,
  referralRequest,
  sends,
  withLanguage,
  type HandoffForm,
} from './handoff-model.ts';

const today = new Date('2026-11-28T15:00:00Z');
const open = { agencyClosedNow: false, crisisLine: 'ontario-ht-crisis-line' };
const closed = { agencyClosedNow: true, crisisLine: 'ontario-ht-crisis-line' };
const ready = (patch: Partial<HandoffForm> = {}): HandoffForm => ({
  ...newHandoffForm('en', today),
  needs: ['shelter'],
  agency: 'london-coalition',
  ...patch,
});

describe('the hand-off form', () => {
  it('names everything missing before it can be sent', () => {
    const form = { ...newHandoffForm('en', today), expires: '2026-11-28' };
    expect(handoffProblems(form, today)).toEqual(['consent.pickNeed', 'phone.pickAgency', 'consent.expiryFuture']);
    expect(handoffProblems(ready(), today)).toEqual([]);
  });

  it('starts with needs + safe contact, the verbal method, and the screen’s language for everything', () => {
    const form = newHandoffForm('fr', today);
    expect(form).toMatchObject({
      preset: 'needs_safe_contact',
      method: 'CAPTURE_METHOD_VERBAL',
      language: 'fr',
      scriptLanguage: 'fr',
      expires: '2027-02-26',
    });
  });

  it('derives the consent scope from what is sent: the agency and the categories that have text', () => {
    const form = ready({ texts: { safe_contact: 'Synthetic: text after 6 pm' }, doNotContact: true });
    const sections = packet(form, 'Shelter');
    expect(sections).toEqual([
      { category: 'needs', content: 'Shelter' },
      { category: 'safe_contact', content: 'Synthetic: text after 6 pm' },
    ]);
    const request = consentRequest(
      form,
      sends(form, open).map((s) => s.to),
      sections.map((s) => s.category),
    );
    expect(request).toMatchObject({
      method: 'CAPTURE_METHOD_VERBAL',
      language: 'en',
      scopes: [
        {
          recipientAgencyIds: ['london-coalition'],
          purposes: ['referral'],
          categories: ['needs', 'safe_contact'],
          doNotContact: true,
        },
      ],
    });
    expect(request.expiresAt).toBe(new Date(`${form.expires}T23:59:00-05:00`).toISOString());
    expect(request).not.toHaveProperty('interpreterLanguage');
  });

  it('leaves out an empty section, and a category of another preset, whatever was typed in it', () => {
    const form = ready({ preset: 'needs', texts: { needs: '  Synthetic: a bed ', safe_contact: 'Synthetic: x' } });
    expect(packet(form, 'Shelter')).toEqual([{ category: 'needs', content: 'Synthetic: a bed' }]);
    expect(packet(ready({ texts: { safe_contact: '   ' } }), 'Shelter')).toEqual([
      { category: 'needs', content: 'Shelter' },
    ]);
  });

  it('asks the language once: the interpreter’s language and the referral’s come from the one picker', () => {
    const form = withLanguage(ready({ method: 'CAPTURE_METHOD_VIA_INTERPRETER' }), 'es');
    expect(form.interpreterNeeded).toBe(true);
    expect(withLanguage(form, 'fr').interpreterNeeded).toBe(false);
    expect(consentRequest(form, ['london-coalition'], ['needs'])).toMatchObject({
      method: 'CAPTURE_METHOD_VIA_INTERPRETER',
      interpreterLanguage: 'es',
    });
    const request = referralRequest(form, { to: 'london-coalition', atOpening: false }, packet(form, 'Shelter'), {
      subjectRef: 'subject',
      fromAgency: 'peel-regional-police',
    });
    expect(request).toMatchObject({ language: 'es', interpreterNeeded: true, priority: 'PRIORITY_STANDARD' });
    expect(request).not.toHaveProperty('clockStartsAtOpening');
  });

  it('offers languages as BCP 47 codes, each once, English and French first, each with a name in both', () => {
    expect(personLanguages.slice(0, 2)).toEqual(['en', 'fr']);
    expect(new Set(personLanguages).size).toBe(personLanguages.length);
    for (const code of personLanguages) {
      // A well-formed tag ("tl" stays as the directory spells it, though CLDR prefers "fil").
      expect(code).toMatch(/^[a-z]{2,3}$/);
      expect(Intl.getCanonicalLocales(code)).toHaveLength(1);
      for (const ui of ['en-CA', 'fr-CA']) {
        const name = new Intl.DisplayNames([ui], { type: 'language' }).of(code);
        expect(name, `${code} in ${ui}`).not.toBe(code);
      }
    }
    for (const preset of presets) expect(presetCategories[preset][0]).toBe('needs');
  });
});

describe('after hours', () => {
  it('offers the crisis line only when urgent and the chosen agency is closed now', () => {
    expect(offersCrisisLine(ready({ priority: 'PRIORITY_URGENT' }), closed)).toBe(true);
    expect(offersCrisisLine(ready({ priority: 'PRIORITY_STANDARD' }), closed)).toBe(false);
    expect(offersCrisisLine(ready({ priority: 'PRIORITY_URGENT' }), open)).toBe(false);
    expect(offersCrisisLine(ready({ priority: 'PRIORITY_URGENT' }), { ...closed, crisisLine: '' })).toBe(false);
    expect(offersCrisisLine(ready({ priority: 'PRIORITY_URGENT', agency: 'ontario-ht-crisis-line' }), closed)).toBe(
      false,
    );
  });

  it('sends the crisis line now and the agency at opening, linked, under one consent naming both', () => {
    const form = ready({ priority: 'PRIORITY_URGENT' });
    const planned = sends(form, closed);
    expect(planned).toEqual([
      { to: 'ontario-ht-crisis-line', atOpening: false },
      { to: 'london-coalition', atOpening: true },
    ]);
    const consent = consentRequest(
      form,
      planned.map((s) => s.to),
      ['needs'],
    );
    expect(consent.scopes[0]!.recipientAgencyIds).toEqual(['ontario-ht-crisis-line', 'london-coalition']);
    const sections = packet(form, 'Shelter');
    const ids = { subjectRef: 'subject', fromAgency: 'peel-regional-police', linkedReferralId: 'first' };
    expect(referralRequest(form, planned[0]!, sections, { ...ids, linkedReferralId: undefined })).not.toHaveProperty(
      'linkedReferralId',
    );
    expect(referralRequest(form, planned[1]!, sections, ids)).toMatchObject({
      toAgency: 'london-coalition',
      clockStartsAtOpening: true,
      linkedReferralId: 'first',
    });
    // London only: its clock still starts at its opening, not in the night.
    expect(sends({ ...form, afterHoursPlan: 'agency_only' }, closed)).toEqual([
      { to: 'london-coalition', atOpening: true },
    ]);
  });

  it('every referral sent is to an agency the consent names, the chosen one always (all 8 cases)', () => {
    let cases = 0;
    for (const priority of ['PRIORITY_URGENT', 'PRIORITY_STANDARD'] as const)
      for (const agencyClosedNow of [true, false])
        for (const afterHoursPlan of ['crisis_line_and_agency', 'agency_only'] as const) {
          const form = ready({ priority, afterHoursPlan });
          const planned = sends(form, { agencyClosedNow, crisisLine: 'ontario-ht-crisis-line' });
          const named = consentRequest(
            form,
            planned.map((s) => s.to),
            ['needs'],
          ).scopes[0]!.recipientAgencyIds!;
          expect(planned.every((s) => named.includes(s.to))).toBe(true);
          expect(planned.at(-1)!.to).toBe('london-coalition');
          const offered = priority === 'PRIORITY_URGENT' && agencyClosedNow;
          const both = offered && afterHoursPlan === 'crisis_line_and_agency';
          expect(planned.map((s) => s.atOpening)).toEqual(both ? [false, true] : [offered]);
          cases++;
        }
    expect(cases).toBe(8);
  });
});
