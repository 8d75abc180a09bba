import type { DataCategory } from '@passage/consent-policy';
import type { Language } from '../api/edge.ts';
import type { GrantRequest, ReferralsPriority as Priority, SendRequest } from '../api/generated.ts';
import type { captureMethods } from '../i18n/labels.ts';
import { torontoInstant, torontoToday } from '../i18n/format.ts';
import type { MessageKey } from '../i18n/messages.ts';

// The hand-off as one form, and the requests it becomes (docs/adr/0041-phone-hand-off-and-after-hours.md).
// Each thing is asked once: the needs, priority and language typed here go to the directory's
// Match, the consent and the referral alike. The consent's scope is not asked for: it is
// derived from what is being sent — the agencies it goes to and the categories of the chosen
// preset that have something written. Pure, so the rules are tested without a browser.

/** What is sent, as presets: each a set of categories, needs always among them. */
export const presets = ['needs', 'needs_safe_contact', 'needs_safe_contact_situation'] as const;
export type Preset = (typeof presets)[number];
export const presetCategories: Readonly<Record<Preset, readonly DataCategory[]>> = {
  needs: ['needs'],
  needs_safe_contact: ['needs', 'safe_contact'],
  needs_safe_contact_situation: ['needs', 'safe_contact', 'situation'],
};

/**
 * Languages commonly spoken in Ontario, as BCP 47 codes: the official two first, then the
 * most common other mother tongues of the census and the First Nations and Inuit languages.
 * One picker gives the person's language to Match, the referral and the interpreter.
 */
export const personLanguages = [
  'en',
  'fr',
  'zh',
  'yue',
  'pa',
  'es',
  'ar',
  'tl',
  'it',
  'ur',
  'pt',
  'ta',
  'fa',
  'ru',
  'pl',
  'gu',
  'ko',
  'vi',
  'hi',
  'uk',
  'bn',
  'so',
  'ti',
  'am',
  'ht',
  'tr',
  'ro',
  'sr',
  'el',
  'de',
  'oj',
  'cr',
  'iu',
] as const;

/** After hours, with the chosen agency closed and the referral urgent: what is sent. */
export type AfterHoursPlan = 'crisis_line_and_agency' | 'agency_only';

export interface HandoffForm {
  readonly needs: readonly string[];
  readonly municipality: string;
  /** BCP 47, from the one language picker. */
  readonly language: string;
  readonly priority: Priority;
  /** The agency chosen among Match's suggestions. */
  readonly agency: string;
  readonly afterHoursPlan: AfterHoursPlan;
  readonly preset: Preset;
  /** Text per category of the preset; needs left empty is sent as the needs ticked. */
  readonly texts: Readonly<Partial<Record<DataCategory, string>>>;
  readonly doNotContact: boolean;
  readonly interpreterNeeded: boolean;
  /** YYYY-MM-DD: the consent lasts to the end of that day in Toronto. */
  readonly expires: string;
  readonly method: (typeof captureMethods)[number];
  readonly receiptName: string;
  readonly scriptLanguage: Language;
}

export function newHandoffForm(language: Language, now: Date): HandoffForm {
  return {
    needs: [],
    municipality: '',
    language,
    priority: 'PRIORITY_STANDARD',
    agency: '',
    afterHoursPlan: 'crisis_line_and_agency',
    preset: 'needs_safe_contact',
    texts: {},
    doNotContact: false,
    interpreterNeeded: false,
    expires: torontoToday(new Date(now.getTime() + 90 * 86_400_000)),
    method: 'CAPTURE_METHOD_VERBAL',
    receiptName: '',
    scriptLanguage: language,
  };
}

/** The language picked: an interpreter is assumed needed for any but English and French (the worker can untick it). */
export function withLanguage(form: HandoffForm, language: string): HandoffForm {
  return { ...form, language, interpreterNeeded: language !== 'en' && language !== 'fr' };
}

/** What the directory said of the chosen agency, and the crisis line to offer. */
export interface Situation {
  /** Match passed the chosen agency over only because it is closed at this hour. */
  readonly agencyClosedNow: boolean;
  /** The 24/7 crisis line of the directory ('' when there is none). */
  readonly crisisLine: string;
}

/** Urgent, the chosen agency closed now, a crisis line to go to: the hand-off offers both. */
export function offersCrisisLine(form: HandoffForm, situation: Situation): boolean {
  return (
    form.priority === 'PRIORITY_URGENT' &&
    situation.agencyClosedNow &&
    situation.crisisLine !== '' &&
    situation.crisisLine !== form.agency
  );
}

export interface Send {
  readonly to: string;
  /** The agency's clock starts at its next opening (the referrals service computes it). */
  readonly atOpening: boolean;
}

/**
 * The referrals to send, in order: the crisis line now first, when it is offered and chosen.
 * Either way, an urgent referral to an agency closed now has its clock start at the opening:
 * an urgent target running out overnight escalates to a crisis line that can do nothing with it.
 */
export function sends(form: HandoffForm, situation: Situation): Send[] {
  if (!form.agency) return [];
  if (!offersCrisisLine(form, situation)) return [{ to: form.agency, atOpening: false }];
  if (form.afterHoursPlan === 'agency_only') return [{ to: form.agency, atOpening: true }];
  return [
    { to: situation.crisisLine, atOpening: false },
    { to: form.agency, atOpening: true },
  ];
}

/** The packet: the preset's categories that have text; needs left empty say the needs ticked. */
export function packet(form: HandoffForm, needsSummary: string): { category: DataCategory; content: string }[] {
  return presetCategories[form.preset]
    .map((category) => {
      const written = (form.texts[category] ?? '').trim();
      return { category, content: category === 'needs' && !written ? needsSummary.trim() : written };
    })
    .filter((section) => section.content !== '');
}

/** What is missing before the hand-off can be sent (message keys), empty when ready. */
export function handoffProblems(form: HandoffForm, now: Date): MessageKey[] {
  const problems: MessageKey[] = [];
  if (form.needs.length === 0) problems.push('consent.pickNeed');
  if (!form.agency) problems.push('phone.pickAgency');
  if (!/^\d{4}-\d{2}-\d{2}$/.test(form.expires) || form.expires <= torontoToday(now))
    problems.push('consent.expiryFuture');
  return problems;
}

/**
 * The person's agreement, derived from what is sent: one scope for every agency it goes to
 * (the crisis line and the agency after hours), the referral purpose, and exactly the
 * categories of the packet. The interpreter's language is the person's, from the one picker.
 */
export function consentRequest(
  form: HandoffForm,
  recipients: readonly string[],
  categories: readonly DataCategory[],
): GrantRequest {
  return {
    method: form.method,
    language: form.scriptLanguage,
    ...(form.method === 'CAPTURE_METHOD_VIA_INTERPRETER' ? { interpreterLanguage: form.language } : {}),
    // To the end of that day in Ontario, whatever the computer's own time zone.
    expiresAt: torontoInstant(form.expires, '23:59').toISOString(),
    scopes: [
      {
        recipientAgencyIds: [...recipients],
        purposes: ['referral'],
        categories: [...categories],
        doNotContact: form.doNotContact,
      },
    ],
    ...(form.receiptName.trim() ? { receiptName: form.receiptName.trim() } : {}),
  };
}

/** One referral of the hand-off; the second of an after-hours pair names the first. */
export function referralRequest(
  form: HandoffForm,
  send: Send,
  sections: readonly { category: DataCategory; content: string }[],
  ids: { subjectRef: string; fromAgency: string; linkedReferralId?: string },
): SendRequest {
  return {
    subjectRef: ids.subjectRef,
    fromAgency: ids.fromAgency,
    toAgency: send.to,
    priority: form.priority,
    needs: [...form.needs],
    language: form.language,
    interpreterNeeded: form.interpreterNeeded || form.method === 'CAPTURE_METHOD_VIA_INTERPRETER',
    packet: sections.map((s) => ({ ...s })),
    ...(send.atOpening ? { clockStartsAtOpening: true } : {}),
    ...(send.atOpening && ids.linkedReferralId ? { linkedReferralId: ids.linkedReferralId } : {}),
  };
}
