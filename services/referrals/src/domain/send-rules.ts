import type { FieldViolation } from '@passage/errors';
import { isDataCategory, type DataCategory } from '@passage/consent-policy';
import { supportNeeds, type Priority } from './referral.ts';

/** A field that failed a rule: the one shape every layer uses (@passage/errors). */
export type Violation = FieldViolation;

/** Limits on what one referral may carry; larger input is refused, not truncated. */
export const limits = { textBytes: 8 * 1024, needs: 13, sections: 9, idempotencyKey: 128 } as const;

const slug = /^[a-z0-9]+(-[a-z0-9]+)*$/;
const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const languageTag = /^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/;
const idempotencyKey = /^[A-Za-z0-9_.:-]{8,128}$/;

export interface PacketSection {
  readonly category: DataCategory;
  readonly content: string;
}

export interface SendInput {
  readonly idempotencyKey: string;
  readonly subjectRef: string;
  readonly fromAgency: string;
  readonly toAgency: string;
  readonly priority: Priority;
  readonly needs: readonly string[];
  readonly language: string;
  readonly interpreterNeeded: boolean;
  readonly packet: readonly PacketSection[];
  /** After hours (ADR 41): the targets count from the recipient's next opening. */
  readonly clockStartsAtOpening?: boolean | undefined;
  /** With clockStartsAtOpening: the referral sent to the 24/7 crisis line for the same person. */
  readonly linkedReferralId?: string | undefined;
}

export interface RawSend extends Omit<SendInput, 'priority' | 'packet'> {
  readonly priority: Priority | undefined;
  readonly packet: ReadonlyArray<{ category: string; content: string }>;
}

export function checkIdempotencyKey(key: string, violations: Violation[]): void {
  if (!idempotencyKey.test(key)) {
    violations.push({
      field: 'idempotency_key',
      description: '8 to 128 letters, digits, or _ . : - (a UUID is ideal)',
    });
  }
}

export function checkPacket(packet: RawSend['packet'], violations: Violation[]): PacketSection[] {
  if (packet.length === 0) violations.push({ field: 'packet', description: 'a referral carries at least one section' });
  const seen = new Set<string>();
  packet.forEach((section, i) => {
    if (!isDataCategory(section.category)) {
      violations.push({ field: `packet[${i}].category`, description: `unknown data category "${section.category}"` });
    } else if (seen.has(section.category)) {
      violations.push({ field: `packet[${i}].category`, description: `"${section.category}" appears twice` });
    }
    seen.add(section.category);
    if (!section.content.trim())
      violations.push({ field: `packet[${i}].content`, description: 'empty; leave the section out instead' });
    if (Buffer.byteLength(section.content, 'utf8') > limits.textBytes) {
      violations.push({ field: `packet[${i}].content`, description: `at most ${limits.textBytes} bytes` });
    }
  });
  return packet.map((s) => ({ category: s.category as DataCategory, content: s.content }));
}

/** Everything wrong with a Send, each problem with its field. */
export function checkSend(raw: RawSend): { ok: true; value: SendInput } | { ok: false; violations: Violation[] } {
  const violations: Violation[] = [];
  checkIdempotencyKey(raw.idempotencyKey, violations);
  if (!uuid.test(raw.subjectRef))
    violations.push({ field: 'subject_ref', description: 'the pseudonymous subject reference (a UUID) from consent' });
  if (!slug.test(raw.fromAgency))
    violations.push({ field: 'from_agency', description: 'an agency id such as "peel-regional-police"' });
  if (!slug.test(raw.toAgency))
    violations.push({ field: 'to_agency', description: 'an agency id such as "london-coalition"' });
  else if (raw.toAgency === raw.fromAgency)
    violations.push({ field: 'to_agency', description: 'a referral goes to another agency, not your own' });
  if (!raw.priority) violations.push({ field: 'priority', description: 'PRIORITY_URGENT or PRIORITY_STANDARD' });
  if (raw.needs.length === 0)
    violations.push({ field: 'needs', description: 'name at least one need, e.g. "counselling"' });
  raw.needs.forEach((need, i) => {
    if (!(supportNeeds as readonly string[]).includes(need)) {
      violations.push({
        field: `needs[${i}]`,
        description: `unknown need "${need}"; one of ${supportNeeds.join(', ')}`,
      });
    }
  });
  if (!languageTag.test(raw.language))
    violations.push({ field: 'language', description: 'a language code such as "en" or "fr"' });
  const packet = checkPacket(raw.packet, violations);
  if (raw.linkedReferralId && !uuid.test(raw.linkedReferralId))
    violations.push({ field: 'linked_referral_id', description: 'the id (a UUID) of the referral to the crisis line' });
  else if (raw.linkedReferralId && !raw.clockStartsAtOpening)
    violations.push({
      field: 'linked_referral_id',
      description: 'only an after-hours referral (clock_starts_at_opening) is linked to the crisis line’s',
    });
  if (violations.length > 0) return { ok: false, violations };
  return { ok: true, value: { ...raw, priority: raw.priority!, needs: [...new Set(raw.needs)], packet } };
}

/** Data minimisation: the categories of a packet that consent does not allow. */
export function refusedCategories(
  packet: readonly PacketSection[],
  allowed: ReadonlySet<DataCategory>,
): DataCategory[] {
  return packet.map((s) => s.category).filter((c) => !allowed.has(c));
}
