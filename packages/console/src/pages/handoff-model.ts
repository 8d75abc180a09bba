import type { DataCategory, Purpose } from '@passage/consent-policy';
import type { Language } from '../api/edge.ts';
import type { GrantRequest, ReferralsPriority as Priority, SendRequest } from '../api/generated.ts';
import type { captureMethods } from '../i18n/labels.ts';
import { torontoInstant, torontoToday } from '../i18n/format.ts';
import type { MessageKey } from '../i18n/messages.ts';

// The hand-off form as data, and the two requests it becomes. Pure, so the rules (what is
// required, what may go in the packet) are tested without a browser.

export interface ConsentForm {
  readonly needs: readonly string[];
  readonly municipality: string;
  readonly personLanguage: string;
  readonly priority: Priority;
  readonly recipients: readonly string[];
  readonly purposes: readonly Purpose[];
  readonly categories: readonly DataCategory[];
  /** YYYY-MM-DD: the consent lasts to the end of that day in Toronto. */
  readonly expires: string;
  readonly doNotContact: boolean;
  readonly safeContact: string;
  readonly method: (typeof captureMethods)[number];
  readonly interpreterLanguage: string;
  readonly receiptName: string;
  readonly scriptLanguage: Language;
}

export function newConsentForm(language: Language, now: Date): ConsentForm {
  const expires = torontoToday(new Date(now.getTime() + 90 * 86_400_000));
  return {
    needs: [],
    municipality: '',
    personLanguage: language,
    priority: 'PRIORITY_STANDARD',
    recipients: [],
    purposes: ['referral'],
    categories: ['needs'],
    expires,
    doNotContact: false,
    safeContact: '',
    method: 'CAPTURE_METHOD_VERBAL',
    interpreterLanguage: '',
    receiptName: '',
    scriptLanguage: language,
  };
}

/** What is missing before the consent can be recorded (message keys), empty when ready. */
export function consentProblems(form: ConsentForm, now: Date): MessageKey[] {
  const problems: MessageKey[] = [];
  if (form.needs.length === 0) problems.push('consent.pickNeed');
  if (form.recipients.length === 0) problems.push('consent.pickRecipient');
  if (form.purposes.length === 0) problems.push('consent.pickPurpose');
  if (form.categories.length === 0) problems.push('consent.pickCategory');
  if (form.method === 'CAPTURE_METHOD_VIA_INTERPRETER' && !form.interpreterLanguage.trim())
    problems.push('consent.interpreterRequired');
  if (!/^\d{4}-\d{2}-\d{2}$/.test(form.expires) || form.expires <= torontoToday(now))
    problems.push('consent.expiryFuture');
  return problems;
}

export function consentRequest(form: ConsentForm): GrantRequest {
  return {
    method: form.method,
    language: form.scriptLanguage,
    ...(form.method === 'CAPTURE_METHOD_VIA_INTERPRETER'
      ? { interpreterLanguage: form.interpreterLanguage.trim() }
      : {}),
    // To the end of that day in Ontario, whatever the computer's own time zone.
    expiresAt: torontoInstant(form.expires, '23:59').toISOString(),
    scopes: [
      {
        recipientAgencyIds: [...form.recipients],
        purposes: [...form.purposes],
        categories: [...form.categories],
        doNotContact: form.doNotContact,
      },
    ],
    ...(form.receiptName.trim() ? { receiptName: form.receiptName.trim() } : {}),
  };
}

export interface ReferralForm {
  readonly toAgency: string;
  readonly needs: readonly string[];
  readonly priority: Priority;
  readonly language: string;
  readonly interpreterNeeded: boolean;
  /** Text per category; only the categories the consent covers are ever offered. */
  readonly packet: Readonly<Partial<Record<DataCategory, string>>>;
}

export function newReferralForm(consent: ConsentForm): ReferralForm {
  return {
    toAgency: consent.recipients[0] ?? '',
    needs: consent.needs,
    priority: consent.priority,
    language: consent.personLanguage,
    interpreterNeeded: consent.method === 'CAPTURE_METHOD_VIA_INTERPRETER',
    packet:
      consent.categories.includes('safe_contact') && consent.safeContact.trim()
        ? { safe_contact: consent.safeContact }
        : {},
  };
}

/** The referral to send: the packet holds the allowed categories that have text, nothing else. */
export function referralRequest(
  form: ReferralForm,
  subjectRef: string,
  fromAgency: string,
  allowed: readonly DataCategory[],
): SendRequest {
  const packet = allowed
    .map((category) => ({ category, content: (form.packet[category] ?? '').trim() }))
    .filter((section) => section.content !== '');
  return {
    subjectRef,
    fromAgency,
    toAgency: form.toAgency,
    priority: form.priority,
    needs: [...form.needs],
    language: form.language,
    interpreterNeeded: form.interpreterNeeded,
    packet,
  };
}
