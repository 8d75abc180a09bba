import { describe, expect, it } from 'vitest';
import { consentProblems, consentRequest, newConsentForm, newReferralForm, referralRequest } from './handoff-model.ts';

const today = new Date('2026-11-28T15:00:00Z');

describe('the hand-off form', () => {
  it('names everything missing before consent can be recorded', () => {
    const form = { ...newConsentForm('en', today), purposes: [], categories: [], expires: '2026-11-28' };
    expect(consentProblems(form, today)).toEqual([
      'consent.pickNeed',
      'consent.pickRecipient',
      'consent.pickPurpose',
      'consent.pickCategory',
      'consent.expiryFuture',
    ]);
    expect(consentProblems({ ...form, method: 'CAPTURE_METHOD_VIA_INTERPRETER' }, today)).toContain(
      'consent.interpreterRequired',
    );
  });

  it('records one scope for the chosen agencies, purposes and categories, in the script’s language', () => {
    const form = {
      ...newConsentForm('fr', today),
      needs: ['housing'],
      recipients: ['pact-ottawa'],
      categories: ['needs', 'safe_contact'] as const,
      doNotContact: true,
    };
    expect(consentProblems({ ...form, categories: [...form.categories] }, today)).toEqual([]);
    const request = consentRequest({ ...form, categories: [...form.categories] });
    expect(request).toMatchObject({
      method: 'CAPTURE_METHOD_VERBAL',
      language: 'fr',
      scopes: [
        {
          recipientAgencyIds: ['pact-ottawa'],
          purposes: ['referral'],
          categories: ['needs', 'safe_contact'],
          doNotContact: true,
        },
      ],
    });
    expect(request.expiresAt).toBe(new Date(`${form.expires}T23:59:00-05:00`).toISOString());
    expect(request).not.toHaveProperty('interpreterLanguage');
    expect(request).not.toHaveProperty('receiptName');
  });

  it('puts only allowed categories with text in the packet', () => {
    const consent = {
      ...newConsentForm('en', today),
      needs: ['shelter'],
      recipients: ['london-coalition'],
      categories: ['needs' as const, 'safe_contact' as const],
      safeContact: 'Synthetic: text after 6 pm',
    };
    const form = newReferralForm(consent);
    expect(form.packet).toEqual({ safe_contact: 'Synthetic: text after 6 pm' });
    const request = referralRequest(
      { ...form, packet: { ...form.packet, needs: '  ', health: 'Synthetic: must not travel' } },
      'subject',
      'peel-regional-police',
      consent.categories,
    );
    expect(request.packet).toEqual([{ category: 'safe_contact', content: 'Synthetic: text after 6 pm' }]);
    expect(request).toMatchObject({
      toAgency: 'london-coalition',
      fromAgency: 'peel-regional-police',
      needs: ['shelter'],
    });
  });

  it('does not carry safe-contact text when that category was not agreed', () => {
    const consent = { ...newConsentForm('en', today), categories: ['needs' as const], safeContact: 'Synthetic: x' };
    expect(newReferralForm(consent).packet).toEqual({});
  });
});
