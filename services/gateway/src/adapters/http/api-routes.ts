import type * as grpc from '@grpc/grpc-js';
import {
  ScalarType,
  fromBinary,
  fromJson,
  toBinary,
  toJson,
  type DescField,
  type DescMessage,
} from '@bufbuild/protobuf';
import {
  fieldPath,
  messageSchema,
  querySchema,
  type ApiContract,
  type HttpMethod,
  type JsonSchema,
} from '@passage/contracts';
import { PassageError, callUnary } from '@passage/platform';
import type { SessionRecord } from '../../app/ports.ts';

/**
 * The HTTP API, made at start-up from the proto's google.api.http rules and
 * passage.api.v1.access options (ADR 24): one route per annotated method, its JSON Schemas
 * from the field rules, and a transcoder that turns the request into the method's message
 * with the canonical proto3 JSON mapping and the answer back. Nothing here names a method:
 * a new annotated RPC, or a new field, is on the HTTP API after `pnpm gen`.
 */
export interface ApiRoute {
  readonly method: HttpMethod['verb'];
  /** Fastify's form of the path template: "/api/referrals/:referral_id/accept". */
  readonly url: string;
  readonly summary: string;
  readonly tag: string;
  /** The gRPC path of the method: "/passage.identity.v1.PeopleService/ChangePassword". */
  readonly grpcPath: string;
  /** No session: the method authenticates by what its request carries. */
  readonly public: boolean;
  /** Empty: anyone signed in. */
  readonly roles: readonly string[];
  readonly idempotent: boolean;
  readonly status: 200 | 201;
  readonly bodyLimit: number | undefined;
  readonly schema: { params?: JsonSchema; querystring?: JsonSchema; body?: JsonSchema; response: JsonSchema };
  /** The request message as JSON, from what the route received. */
  requestJson(parts: RequestParts): Record<string, unknown>;
  /**
   * Where in this route's request a service's violation points, as the edge names it:
   * `body.scopes[0].categories`, `querystring.range.since`, `params.referral_id`.
   */
  locate(field: string): string;
  /**
   * Calls the method with that request — over the service's gRPC channel, or in this process
   * when the gateway implements the service (a LocalService) — and answers its response as
   * canonical JSON text. `session`: who is calling, for a local service (none on a public method);
   * `caller`: the integration client calling instead, on a route that names role system (ADR 45).
   */
  call(
    request: Record<string, unknown>,
    metadata: grpc.Metadata,
    clients: ServiceChannels,
    session?: LocalSession,
    caller?: LocalClient,
  ): Promise<string>;
}

/** The signed-in session a local method runs for: its cookie's id and what it resolved to. */
export interface LocalSession {
  readonly id: string;
  readonly record: SessionRecord;
}

/** An agency's integration client calling with its bearer token (ADR 45), instead of a session. */
export interface LocalClient {
  readonly clientId: string;
  readonly agencyId: string;
}

/**
 * A service the gateway implements in its own process (people administration, ADR 30): the
 * route reaches it with the same bytes a gRPC channel would carry, so the JSON mapping, the
 * field rules and the answers are those of every other route.
 */
export interface LocalService {
  readonly local: true;
  /** `method`: the RPC's name ("CreatePerson"); the request's and the answer's binary encodings. */
  unary(
    method: string,
    request: Uint8Array,
    session: LocalSession | undefined,
    caller?: LocalClient,
  ): Promise<Uint8Array>;
}

export interface RequestParts {
  readonly params: Record<string, string>;
  readonly query: Record<string, unknown>;
  readonly body: unknown;
  readonly idempotencyKey: string;
}

/**
 * The gRPC client of each service, by its full name ("passage.referrals.v1.ReferralService"),
 * or the gateway's own implementation of it.
 */
export type ServiceChannels = ReadonlyMap<string, grpc.Client | LocalService>;

const isLocal = (channel: grpc.Client | LocalService): channel is LocalService => 'local' in channel;

const identity = (bytes: Buffer): Buffer => bytes;

export function apiRoutes(contract: ApiContract): ApiRoute[] {
  return contract.methods.map((http) => route(contract, http));
}

function route(contract: ApiContract, http: HttpMethod): ApiRoute {
  const input = http.method.input;
  const output = http.method.output;
  const { registry } = contract;
  const fromPath = new Set(http.pathFields.map((path) => path.split('.')[0]!));
  const omit = new Set([...fromPath, ...(http.access.idempotent ? ['idempotency_key'] : [])]);
  // Each path parameter: its name in the URL, the fields it fills and their JSON names.
  const pathParams = http.pathFields.map((path) => {
    const fields = fieldPath(input, path.split('.'));
    if (!fields) throw new Error(`${input.typeName} has no field ${path}`);
    return { name: path.replaceAll('.', '_'), fields, json: fields.map((f) => f.jsonName) };
  });
  const params: JsonSchema | undefined =
    pathParams.length === 0
      ? undefined
      : {
          type: 'object',
          properties: Object.fromEntries(
            pathParams.map(({ name, fields }) => [name, propertyOf(contract, fields.at(-1)!)]),
          ),
          required: pathParams.map(({ name }) => name),
        };
  let body: JsonSchema | undefined;
  let bodyField: DescField | undefined;
  if (http.body === '*') body = messageSchema(contract, input, { request: true, omit });
  else if (http.body !== '') {
    bodyField = input.fields.find((f) => f.name === http.body);
    if (!bodyField || bodyField.fieldKind !== 'message')
      throw new Error(`${http.method.name}: body names no message field`);
    // The path's own fields of the body message ("agency.id") come from the path.
    const inner = new Set(http.pathFields.filter((p) => p.startsWith(`${http.body}.`)).map((p) => p.split('.')[1]!));
    body = messageSchema(contract, bodyField.message, { request: true, omit: inner });
  }
  const querystring = http.body === '' ? querySchema(contract, input, omit) : undefined;
  const grpcPath = `/${http.service.typeName}/${http.method.name}`;
  const timeoutMs = (http.access.timeoutSeconds || 10) * 1000;
  return {
    method: http.verb,
    url: http.path.replace(/\{([a-z0-9_.]+)\}/g, (_, path: string) => `:${path.replaceAll('.', '_')}`),
    summary: http.summary,
    tag: http.service.name.replace(/Service$/, '').toLowerCase(),
    grpcPath,
    public: http.access.public,
    roles: http.access.roles,
    idempotent: http.access.idempotent,
    status: http.access.creates ? 201 : 200,
    bodyLimit: http.access.bodyLimitBytes || undefined,
    schema: {
      ...(params ? { params } : {}),
      ...(querystring ? { querystring } : {}),
      ...(body ? { body } : {}),
      response: messageSchema(contract, output, { request: false }),
    },
    locate(field) {
      const json = field.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
      const first = json.split(/[.[]/)[0] ?? '';
      const param = pathParams.find((p) => p.json.join('.') === json || p.json.join('.') === first);
      if (param) return `params.${param.name}`;
      if (http.body === '') return `querystring.${json}`;
      if (bodyField) {
        const inside = json.startsWith(`${bodyField.jsonName}.`) ? json.slice(bodyField.jsonName.length + 1) : json;
        return `body.${inside}`;
      }
      return `body.${json}`;
    },
    requestJson({ params: values, query, body: received, idempotencyKey }) {
      const json: Record<string, unknown> =
        http.body === '*'
          ? { ...(received as Record<string, unknown>) }
          : bodyField
            ? { [bodyField.jsonName]: { ...(received as Record<string, unknown>) } }
            : queryJson(input, query);
      for (const { name, json: names } of pathParams) setAt(json, names, values[name] ?? '');
      if (http.access.idempotent) json['idempotencyKey'] = idempotencyKey;
      return json;
    },
    async call(request, metadata, clients, session, caller) {
      const client = clients.get(http.service.typeName);
      if (!client) throw new PassageError('unavailable', `no client for ${http.service.typeName}`);
      const badTimes = timeViolations(input, request, '');
      if (badTimes.length > 0) throw PassageError.invalid(badTimes);
      let message;
      try {
        message = fromJson(input, request as never, { registry });
      } catch (error) {
        // The schemas have checked names and types: what is left is a value out of its type's range.
        throw new PassageError('invalid_argument', error instanceof Error ? error.message : String(error));
      }
      const bytes = toBinary(input, message);
      if (isLocal(client)) {
        const local = await client.unary(http.method.name, bytes, session, caller);
        return JSON.stringify(toJson(output, fromBinary(output, local), { registry, alwaysEmitImplicit: true }));
      }
      const answer = await callUnary<Buffer, Buffer>(
        (req, md, options, callback) =>
          client.makeUnaryRequest(grpcPath, identity, identity, req, md, options, (error, response) =>
            callback(error, response ?? Buffer.alloc(0)),
          ),
        Buffer.from(bytes),
        metadata,
        timeoutMs,
      );
      return JSON.stringify(toJson(output, fromBinary(output, answer), { registry, alwaysEmitImplicit: true }));
    },
  };
}

function propertyOf(contract: ApiContract, field: DescField): JsonSchema {
  const schema = messageSchema(contract, field.parent, { request: true }) as { properties: Record<string, JsonSchema> };
  return schema.properties[field.jsonName] ?? { type: 'string' };
}

/** Sets a value at a path of JSON names, making the messages on the way. */
function setAt(json: Record<string, unknown>, names: readonly string[], value: unknown): void {
  let target = json;
  for (const name of names.slice(0, -1)) {
    const next = target[name];
    target = (target[name] = typeof next === 'object' && next !== null ? next : {}) as Record<string, unknown>;
  }
  target[names.at(-1)!] = value;
}

/** A query string as request JSON: dotted names into message fields, text into each field's JSON type. */
function queryJson(message: DescMessage, query: Record<string, unknown>): Record<string, unknown> {
  const json: Record<string, unknown> = {};
  for (const [key, raw] of Object.entries(query)) {
    const names = key.split('.');
    const field = fieldPath(message, names, 'jsonName')?.at(-1);
    if (!field) continue; // the schema has refused unknown names already
    const values = Array.isArray(raw) ? raw.map(String) : [String(raw)];
    const convert = (text: string): unknown => queryValue(field, text);
    setAt(json, names, field.fieldKind === 'list' ? values.map(convert) : convert(values[0] ?? ''));
  }
  return json;
}

function queryValue(field: DescField, text: string): unknown {
  const scalar = field.fieldKind === 'scalar' || field.fieldKind === 'list' ? field.scalar : undefined;
  switch (scalar) {
    case undefined: // enums by name, timestamps as RFC 3339
    case ScalarType.STRING:
    case ScalarType.BYTES:
      return text;
    case ScalarType.BOOL:
      return text === 'true';
    case ScalarType.INT64:
    case ScalarType.UINT64:
    case ScalarType.SINT64:
    case ScalarType.FIXED64:
    case ScalarType.SFIXED64:
      return text; // canonical JSON takes 64-bit integers as text
    default:
      return Number(text);
  }
}

const rfc3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/i;

/** Whether a text is a time a Timestamp holds: a real calendar day and time, years 1 to 9999. */
function isTimestamp(text: string): boolean {
  const parts = rfc3339.exec(text);
  if (!parts) return false;
  const [year, month, day, hour, minute, second] = parts.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const daysInMonth = new Date(Date.UTC(2000 + (year % 400), month, 0)).getUTCDate();
  return (
    year >= 1 && month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth && hour < 24 && minute < 60 && second < 60
  );
}

/** Every Timestamp in a request that no clock knows (year 0, 31 February, a leap second), by field. */
function timeViolations(message: DescMessage, json: unknown, path: string): { field: string; description: string }[] {
  if (typeof json !== 'object' || json === null) return [];
  const found: { field: string; description: string }[] = [];
  for (const field of message.fields) {
    const value = (json as Record<string, unknown>)[field.jsonName];
    if (value === undefined || value === null) continue;
    const here = path ? `${path}.${field.jsonName}` : field.jsonName;
    const target = field.fieldKind === 'message' || (field.fieldKind === 'list' && field.listKind === 'message');
    if (!target) continue;
    const inner = field.message;
    if (!inner) continue;
    const items: [unknown, string][] =
      field.fieldKind === 'list' && Array.isArray(value)
        ? (value as unknown[]).map((v, i): [unknown, string] => [v, `${here}[${i}]`])
        : [[value, here]];
    for (const [item, at] of items) {
      if (inner.typeName === 'google.protobuf.Timestamp') {
        if (typeof item === 'string' && !isTimestamp(item))
          found.push({ field: at, description: 'a date and time such as 2026-11-28T14:30:00Z (years 1 to 9999)' });
      } else found.push(...timeViolations(inner, item, at));
    }
  }
  return found;
}
