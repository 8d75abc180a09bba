import type { FieldViolation } from '@passage/errors';
import {
  isDataCategory,
  isPurpose,
  isRecipientKind,
  type DataCategory,
  type Purpose,
  type RecipientKind,
} from '@passage/consent-policy';
import { captureMethods, type CaptureMethod, type GrantInput, type ScopeInput } from './consent.ts';

/** A field that failed a rule: the one shape every layer uses (@passage/errors). */
export type Violation = FieldViolation;

/** A consent lasts at most this long; after that it must be asked for again. */
export const maximumConsentDays = 365;
export const maximumTextLength = 2000;

const slug = /^[a-z0-9]+(-[a-z0-9]+)*$/;
const languageTag = /^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/;
const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
// What a signed receipt must not print: control characters (NUL included) and bidirectional
// overrides and isolates, which show a name other than the one stored. The gateway refuses
// them too; gRPC callers come here directly. Notes keep their line breaks and tabs.
const unsafeInLine = /[\p{Cc}\u202A-\u202E\u2066-\u2069]/u;
const unsafeInProse = /(?![\t\n\r])[\p{Cc}\u202A-\u202E\u2066-\u2069]/u;
const unsafeWords = (what: string) => `no control characters (such as ${what}) or bidirectional-override characters`;

/** The wire shape, before any check: strings everywhere. */
export interface RawGrant {
  readonly subjectRef: string;
  readonly method: string;
  readonly interpreterLanguage: string;
  readonly language: string;
  readonly expiresAt: Date | undefined;
  readonly scopes: ReadonlyArray<{
    recipientAgencyIds: readonly string[];
    recipientKinds: readonly string[];
    purposes: readonly string[];
    categories: readonly string[];
    doNotContact: boolean;
  }>;
  readonly receiptName: string;
  readonly notes: string;
}

export type Checked<T> = { ok: true; value: T } | { ok: false; violations: Violation[] };

/** The scopes of a grant or an amendment as they come: strings everywhere. */
export type RawScopes = RawGrant['scopes'];

/**
 * Checks scopes (a grant's, an amendment's), each problem at `scopes[i].<field>`; returns
 * them normalised (duplicates dropped). Whether the agencies exist is the caller's to ask.
 */
export function checkScopes(raw: RawScopes, add: (field: string, description: string) => void): ScopeInput[] {
  return raw.map((scope, i) => {
    const at = (field: string) => `scopes[${i}].${field}`;
    if (scope.recipientAgencyIds.length + scope.recipientKinds.length === 0) {
      add(at('recipient_agency_ids'), 'name at least one recipient agency or agency kind');
    }
    scope.recipientAgencyIds.forEach((id, j) => {
      if (!slug.test(id))
        add(at(`recipient_agency_ids[${j}]`), `"${id}" is not an agency id such as "london-coalition"`);
    });
    scope.recipientKinds.forEach((kind, j) => {
      if (!isRecipientKind(kind)) add(at(`recipient_kinds[${j}]`), `unknown agency kind "${kind}"`);
    });
    if (scope.purposes.length === 0) add(at('purposes'), 'name at least one purpose');
    scope.purposes.forEach((purpose, j) => {
      if (!isPurpose(purpose))
        add(
          at(`purposes[${j}]`),
          `unknown purpose "${purpose}"; one of referral, safety_planning, investigation, statistics`,
        );
    });
    if (scope.categories.length === 0) add(at('categories'), 'name at least one data category');
    scope.categories.forEach((category, j) => {
      if (!isDataCategory(category)) add(at(`categories[${j}]`), `unknown data category "${category}"`);
    });
    return {
      recipientAgencyIds: [...new Set(scope.recipientAgencyIds)],
      recipientKinds: [...new Set(scope.recipientKinds)] as RecipientKind[],
      purposes: [...new Set(scope.purposes)] as Purpose[],
      categories: [...new Set(scope.categories)] as DataCategory[],
      doNotContact: scope.doNotContact,
    };
  });
}

/** How the person agreed, and the interpreter's language when through one: every problem reported. */
export function checkMethod(
  method: string,
  interpreterLanguage: string,
  add: (field: string, description: string) => void,
): void {
  if (!(captureMethods as readonly string[]).includes(method)) {
    add('method', `say how consent was given: one of ${captureMethods.join(', ')}`);
  }
  if (method === 'via_interpreter' && !languageTag.test(interpreterLanguage)) {
    add('interpreter_language', 'give the interpreter\'s language code, e.g. "es"');
  }
}

/** Checks a grant; every problem is reported with the field it is in. */
export function checkGrant(raw: RawGrant, now: Date): Checked<GrantInput> {
  const violations: Violation[] = [];
  const add = (field: string, description: string) => violations.push({ field, description });

  if (raw.subjectRef && !uuid.test(raw.subjectRef))
    add('subject_ref', 'a subject reference is a UUID; leave it empty for a new person');
  checkMethod(raw.method, raw.interpreterLanguage, add);
  if (!languageTag.test(raw.language)) add('language', 'give the language of the conversation, e.g. "en" or "fr"');
  if (!raw.expiresAt) add('expires_at', 'an expiry is required');
  else if (raw.expiresAt.getTime() <= now.getTime()) add('expires_at', 'the expiry is in the past');
  else if (raw.expiresAt.getTime() > now.getTime() + maximumConsentDays * 86_400_000) {
    add('expires_at', `a consent lasts at most ${maximumConsentDays} days; ask again after that`);
  }
  if (raw.scopes.length === 0) add('scopes', 'at least one scope: who may see what, for which purpose');
  const scopes = checkScopes(raw.scopes, add);

  if (raw.receiptName.length > 200) add('receipt_name', 'at most 200 characters');
  else if (unsafeInLine.test(raw.receiptName)) add('receipt_name', unsafeWords('NUL or a line break'));
  if (raw.notes.length > maximumTextLength) add('notes', `at most ${maximumTextLength} characters`);
  else if (unsafeInProse.test(raw.notes)) add('notes', unsafeWords('NUL'));

  if (violations.length > 0) return { ok: false, violations };
  return {
    ok: true,
    value: {
      subjectRef: raw.subjectRef || undefined,
      method: raw.method as CaptureMethod,
      interpreterLanguage: raw.method === 'via_interpreter' ? raw.interpreterLanguage : '',
      language: raw.language,
      expiresAt: raw.expiresAt!,
      scopes,
      receiptName: raw.receiptName.trim(),
      notes: raw.notes.trim(),
    },
  };
}
