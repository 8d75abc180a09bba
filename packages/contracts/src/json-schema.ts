// JSON Schemas of proto messages in their canonical proto3 JSON form, with the field rules
// declared in the .proto (ADR 24): the gateway validates request bodies and query strings with
// them and the OpenAPI document shows them. One source: the descriptor set.
import { ScalarType, type DescField, type DescMessage } from '@bufbuild/protobuf';
import type { ApiContract, FieldRule } from './api.ts';

export type JsonSchema = Record<string, unknown>;

/**
 * Free text as the API takes it: no control characters (NUL included), no bidirectional
 * overrides or isolates (they make a name print differently from what it is) and no lone
 * surrogates. A line (names, codes) takes no line break or tab either; prose does.
 */
const unsafe = String.raw`\u007F-\u009F\u202A-\u202E\u2066-\u2069\uD800-\uDFFF`;
export const textPatterns = {
  line: String.raw`^[^\u0000-\u001F` + unsafe + ']*$',
  prose: String.raw`^[^\u0000-\u0008\u000B\u000C\u000E-\u001F` + unsafe + ']*$',
} as const;

const slug = '^([a-z0-9]+(-[a-z0-9]+)*)?$';
const integerText = '^-?[0-9]{1,19}$';

export interface SchemaOptions {
  /** A request: rules apply (required, lengths); a response: only shapes. */
  readonly request: boolean;
  /** Top-level fields the schema leaves out (path parameters, the idempotency key). */
  readonly omit?: ReadonlySet<string>;
}

/** The schema of a message as JSON: every field by its JSON name, nothing unknown allowed. */
export function messageSchema(contract: ApiContract, message: DescMessage, options: SchemaOptions): JsonSchema {
  return objectSchema(contract, message, options, 0);
}

function objectSchema(contract: ApiContract, message: DescMessage, options: SchemaOptions, depth: number): JsonSchema {
  const wkt = wellKnown(message);
  if (wkt) return wkt;
  const properties: Record<string, JsonSchema> = {};
  const required: string[] = [];
  for (const field of message.fields) {
    if (depth === 0 && options.omit?.has(field.name)) continue;
    if (depth > 12) break;
    const rule = contract.rule(field);
    const schema = fieldSchema(contract, field, rule, options, depth);
    const description = contract.comment(field);
    properties[field.jsonName] = description ? { ...schema, description } : schema;
    if (options.request && rule.required) required.push(field.jsonName);
  }
  const description = contract.comment(message);
  return {
    type: 'object',
    ...(description ? { description } : {}),
    additionalProperties: false,
    properties,
    ...(required.length > 0 ? { required } : {}),
  };
}

function fieldSchema(
  contract: ApiContract,
  field: DescField,
  rule: FieldRule,
  options: SchemaOptions,
  depth: number,
): JsonSchema {
  switch (field.fieldKind) {
    case 'list': {
      const items =
        field.listKind === 'message'
          ? objectSchema(contract, field.message, options, depth + 1)
          : field.listKind === 'enum'
            ? enumSchema(
                field.enum.values.map((v) => v.name),
                false,
              )
            : scalarSchema(field.scalar, rule, options, false);
      return {
        type: 'array',
        items,
        ...(options.request
          ? { maxItems: rule.maxItems, ...(rule.minItems > 0 ? { minItems: rule.minItems } : {}) }
          : {}),
      };
    }
    case 'map':
      return {
        type: 'object',
        additionalProperties:
          field.mapKind === 'message'
            ? objectSchema(contract, field.message, options, depth + 1)
            : field.mapKind === 'enum'
              ? enumSchema(
                  field.enum.values.map((v) => v.name),
                  false,
                )
              : scalarSchema(field.scalar, rule, options, false),
      };
    case 'message':
      return objectSchema(contract, field.message, options, depth + 1);
    case 'enum':
      return enumSchema(
        field.enum.values.map((v) => v.name),
        options.request && rule.required,
      );
    case 'scalar':
      return scalarSchema(field.scalar, rule, options, options.request && rule.required);
  }
}

function enumSchema(names: readonly string[], required: boolean): JsonSchema {
  return { type: 'string', enum: required ? names.filter((name) => !name.endsWith('_UNSPECIFIED')) : [...names] };
}

function scalarSchema(scalar: ScalarType, rule: FieldRule, options: SchemaOptions, required: boolean): JsonSchema {
  const range = options.request
    ? {
        ...(rule.minimum !== undefined ? { minimum: rule.minimum } : {}),
        ...(rule.maximum !== undefined ? { maximum: rule.maximum } : {}),
      }
    : {};
  switch (scalar) {
    case ScalarType.STRING: {
      if (!options.request) return { type: 'string' };
      if (rule.oneOf.length > 0) return { type: 'string', enum: required ? [...rule.oneOf] : ['', ...rule.oneOf] };
      const base: JsonSchema = {
        type: 'string',
        maxLength: rule.maxLength,
        ...(required ? { minLength: 1 } : {}),
      };
      if (rule.format === 'uuid') {
        return required
          ? { ...base, format: 'uuid' }
          : {
              anyOf: [
                { type: 'string', format: 'uuid' },
                { type: 'string', maxLength: 0 },
              ],
            };
      }
      return { ...base, pattern: rule.format === 'slug' ? slug : textPatterns[rule.text] };
    }
    case ScalarType.BOOL:
      return { type: 'boolean' };
    case ScalarType.BYTES:
      return { type: 'string', contentEncoding: 'base64' };
    case ScalarType.DOUBLE:
    case ScalarType.FLOAT:
      return { type: 'number' };
    case ScalarType.INT64:
    case ScalarType.UINT64:
    case ScalarType.SINT64:
    case ScalarType.FIXED64:
    case ScalarType.SFIXED64:
      // Canonical JSON writes 64-bit integers as text and reads either.
      return options.request
        ? {
            anyOf: [
              { type: 'integer', ...range },
              { type: 'string', pattern: integerText },
            ],
          }
        : { type: 'string', pattern: integerText };
    default:
      return { type: 'integer', ...range };
  }
}

function wellKnown(message: DescMessage): JsonSchema | undefined {
  switch (message.typeName) {
    case 'google.protobuf.Timestamp':
      return { type: 'string', format: 'date-time' };
    case 'google.protobuf.Duration':
      return { type: 'string', pattern: '^-?[0-9]+(\\.[0-9]+)?s$' };
    default:
      return undefined;
  }
}

/**
 * The query string of a GET: every scalar field of the request, and those of its message
 * fields by dotted name ("range.since"), as the text a URL carries. A repeated field is the
 * name given once per value.
 */
export function querySchema(contract: ApiContract, message: DescMessage, omit: ReadonlySet<string>): JsonSchema {
  const properties: Record<string, JsonSchema> = {};
  const required: string[] = [];
  const visit = (desc: DescMessage, prefix: string, depth: number) => {
    for (const field of desc.fields) {
      if (depth === 0 && omit.has(field.name)) continue;
      const name = `${prefix}${field.jsonName}`;
      const rule = contract.rule(field);
      if (field.fieldKind === 'message' && !wellKnown(field.message)) {
        if (depth < 3) visit(field.message, `${name}.`, depth + 1);
        continue;
      }
      if (field.fieldKind === 'map') continue;
      const one = queryValueSchema(field, rule);
      const description = contract.comment(field);
      const schema =
        field.fieldKind === 'list' ? { anyOf: [one, { type: 'array', items: one, maxItems: rule.maxItems }] } : one;
      properties[name] = description ? { ...schema, description } : schema;
      if (rule.required && depth === 0) required.push(name);
    }
  };
  visit(message, '', 0);
  return {
    type: 'object',
    additionalProperties: false,
    properties,
    ...(required.length > 0 ? { required } : {}),
  };
}

function queryValueSchema(field: DescField, rule: FieldRule): JsonSchema {
  if (field.fieldKind === 'message') return wellKnown(field.message) ?? { type: 'string' };
  const kind = field.fieldKind === 'list' ? field.listKind : field.fieldKind;
  if (kind === 'enum' && field.enum)
    return enumSchema(
      field.enum.values.map((v) => v.name),
      false,
    );
  const scalar = field.scalar ?? ScalarType.STRING;
  if (scalar === ScalarType.STRING) return scalarSchema(scalar, rule, { request: true }, rule.required);
  if (scalar === ScalarType.BOOL) return { type: 'string', enum: ['true', 'false'] };
  if (scalar === ScalarType.DOUBLE || scalar === ScalarType.FLOAT) {
    return { type: 'string', pattern: '^-?[0-9]+(\\.[0-9]+)?$' };
  }
  return { type: 'string', pattern: integerText };
}
