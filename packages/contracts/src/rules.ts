// The field rules the .proto declares (passage.api.v1.field), enforced on a request as a
// service receives it (ADR 24): the one place that decides what a value may be. The gateway's
// JSON Schemas state the same rules, so the HTTP edge refuses what a service would.
import { ScalarType, type DescField, type DescMessage } from '@bufbuild/protobuf';
import type { ApiContract, FieldRule } from './api.ts';

export interface RuleViolation {
  /** The field by JSON names: `scopes[0].recipientAgencyIds[2]`. */
  readonly field: string;
  readonly description: string;
}

/**
 * Characters no field of Passage may hold: NUL (Postgres text cannot store it), the other
 * control characters but tab and line breaks, DEL and C1, and the bidirectional overrides and
 * isolates that make a printed name or receipt read differently from what is stored.
 */
// eslint-disable-next-line no-control-regex -- control characters are what this finds
export const forbiddenInText = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;
const lineBreakOrTab = /[\t\n\r]/;
const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const slug = /^[a-z0-9]+(-[a-z0-9]+)*$/;
/** google.protobuf.Timestamp's own range, 0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999999999Z, in ms. */
export const timestampRange = { earliest: -62_135_596_800_000, latest: 253_402_300_799_999 } as const;

/** Whether a time is one a Timestamp holds. */
export function inTimestampRange(time: Date): boolean {
  const ms = time.getTime();
  return !Number.isNaN(ms) && ms >= timestampRange.earliest && ms <= timestampRange.latest;
}

/**
 * Every way a request breaks its message's rules, by field. `value` is the request as the
 * generated code decodes it: fields by their JSON (lowerCamelCase) names, Timestamps as Dates,
 * 64-bit integers as numbers, enums as numbers, oneofs as `{ $case, value }`.
 */
export function ruleViolations(contract: ApiContract, message: DescMessage, value: unknown): RuleViolation[] {
  const found: RuleViolation[] = [];
  checkMessage(contract, message, value, '', 0, found);
  return found;
}

function checkMessage(
  contract: ApiContract,
  message: DescMessage,
  value: unknown,
  path: string,
  depth: number,
  found: RuleViolation[],
): void {
  if (message.typeName === 'google.protobuf.Timestamp') {
    if (!(value instanceof Date) || !inTimestampRange(value)) {
      found.push({ field: path, description: 'a date between the years 1 and 9999 is needed' });
    }
    return;
  }
  if (typeof value !== 'object' || value === null || depth > 12) return;
  const object = value as Record<string, unknown>;
  for (const field of message.fields) {
    const here = path ? `${path}.${field.jsonName}` : field.jsonName;
    const oneof = field.oneof
      ? (object[field.oneof.localName] as { $case?: string; value?: unknown } | undefined)
      : undefined;
    const fieldValue = field.oneof
      ? oneof?.$case === field.localName
        ? oneof.value
        : undefined
      : object[field.localName];
    checkField(contract, field, contract.rule(field), fieldValue, here, depth, found);
  }
}

function checkField(
  contract: ApiContract,
  field: DescField,
  rule: FieldRule,
  value: unknown,
  path: string,
  depth: number,
  found: RuleViolation[],
): void {
  const refuse = (description: string, at = path): void => void found.push({ field: at, description });
  switch (field.fieldKind) {
    case 'list': {
      const items = Array.isArray(value) ? value : [];
      if (items.length < rule.minItems) {
        refuse(rule.minItems === 1 ? 'at least one is needed' : `at least ${rule.minItems} are needed`);
      }
      if (items.length > rule.maxItems) return refuse(`at most ${rule.maxItems}`);
      items.forEach((item, i) => {
        const at = `${path}[${i}]`;
        if (field.listKind === 'message') checkMessage(contract, field.message, item, at, depth + 1, found);
        else if (field.listKind === 'scalar') checkScalar(field.scalar, { ...rule, required: false }, item, at, found);
      });
      return;
    }
    case 'map':
      return;
    case 'message':
      if (value === undefined || value === null) {
        if (rule.required) refuse('required');
        return;
      }
      return checkMessage(contract, field.message, value, path, depth + 1, found);
    case 'enum':
      if (rule.required && (value === undefined || value === 0)) refuse('required: choose one');
      return;
    case 'scalar':
      return checkScalar(field.scalar, rule, value, path, found);
  }
}

function checkScalar(scalar: ScalarType, rule: FieldRule, value: unknown, path: string, found: RuleViolation[]): void {
  const refuse = (description: string): void => void found.push({ field: path, description });
  if (scalar === ScalarType.STRING) {
    const text = typeof value === 'string' ? value : '';
    if (text === '') {
      if (rule.required) refuse('required');
      return;
    }
    if (forbiddenInText.test(text)) return refuse('control characters and bidirectional overrides are not accepted');
    if (rule.text === 'line' && lineBreakOrTab.test(text)) return refuse('one line: no line breaks or tabs');
    if (text.length > rule.maxLength) return refuse(`at most ${rule.maxLength} characters`);
    if (rule.format === 'uuid' && !uuid.test(text)) return refuse('a UUID');
    if (rule.format === 'slug' && !slug.test(text))
      return refuse('an id of lowercase letters and digits, in hyphenated words');
    if (rule.oneOf.length > 0 && !rule.oneOf.includes(text)) return refuse(`one of ${rule.oneOf.join(', ')}`);
    return;
  }
  if (scalar === ScalarType.BOOL || scalar === ScalarType.BYTES) return;
  const number = typeof value === 'number' ? value : typeof value === 'bigint' ? Number(value) : 0;
  if (rule.required && number === 0) return refuse('required');
  if (rule.minimum !== undefined && number < rule.minimum) return refuse(`at least ${rule.minimum}`);
  if (rule.maximum !== undefined && number > rule.maximum) return refuse(`at most ${rule.maximum}`);
}
