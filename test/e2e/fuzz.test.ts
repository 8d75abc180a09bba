import { afterAll, beforeAll, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import fc from 'fast-check';
import pg from 'pg';
import { ScalarType, create, createFileRegistry, fromBinary, toBinary, type DescMessage } from '@bufbuild/protobuf';
import { FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';
import { demoUsers, developmentIssuer } from '@passage/auth';
import { descriptorSet } from '@passage/contracts/descriptor';
import { healthStatus } from '@passage/testing';
import { startNetworkAsPnpmStart, stopStartedNetworks, type StartedNetwork } from './started-network.ts';

// Arbitrary input over every gRPC method of every service and every HTTP route of the gateway,
// on the network as `pnpm start` runs it: no process exits, no INTERNAL/UNKNOWN (gRPC) or 5xx
// (HTTP), and a request refused as invalid stores nothing. Seeded: FUZZ_SEED replays a run,
// FUZZ_CASES sets how many requests each of the two passes sends (default 1,500).
const seed = Number(process.env['FUZZ_SEED'] ?? 20261130);
const cases = Number(process.env['FUZZ_CASES'] ?? 1_500);

let started: StartedNetwork;
let sql: pg.Client;

beforeAll(async () => {
  started = await startNetworkAsPnpmStart('fuzz');
  sql = new pg.Client({ connectionString: started.db.url });
  await sql.connect();
}, 360_000);

afterAll(async () => {
  await sql?.end();
  await stopStartedNetworks();
});

/** Text that has broken services before, and any text at all. */
const nastyText = fc.oneof(
  { weight: 4, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      'enquête',
      'Orléans',
      'santé',
      'investigation\n',
      'referral\r\n',
      '\u0000',
      'a\u0000b',
      '\u202eevil\u202c',
      '\u2066isolate\u2069',
      '\ud800',
      'x\udfffy',
      '😀🏳️‍🌈',
      '',
      ' ',
      "' or 1=1 --",
      '../../etc/passwd',
      '%00',
      '<script>alert(1)</script>',
      '18446744073709551616',
      '-9223372036854775809',
      '0000-01-01T00:00:00Z',
      '99999-12-31T23:59:59Z',
    ),
  },
  // Values that pass a first check, so that deeper validation is reached too.
  {
    weight: 3,
    arbitrary: fc.oneof(
      fc.uuid().map(String),
      fc.constantFrom(
        'referral',
        'investigation',
        'needs',
        'identity',
        'counselling',
        'pact-ottawa',
        'london-coalition',
        'peel-police',
        'ontario-ht-crisis-line',
        'fr',
        'en',
      ),
    ),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.string({ unit: 'binary', maxLength: 3 }), fc.integer({ min: 1_000, max: 100_000 }))
      .map(([unit, n]) => (unit || 'é').repeat(n).slice(0, n)),
  },
);
const nastyInt = fc.oneof(
  fc.integer(),
  fc.constantFrom(0, -1, 2 ** 31 - 1, -(2 ** 31), Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER),
);

/** A random message of `desc`, each field set or not, nested messages to a bounded depth. */
function message(desc: DescMessage, depth: number): fc.Arbitrary<Record<string, unknown>> {
  const fields: Record<string, fc.Arbitrary<unknown>> = {};
  for (const field of desc.fields) {
    if (field.oneof) continue;
    const one = fieldValue(field, depth);
    if (one) fields[field.localName] = one;
  }
  const oneofs: Record<string, fc.Arbitrary<unknown>> = {};
  for (const oneof of desc.oneofs) {
    const choices = oneof.fields
      .map((field) => fieldValue(field, depth)?.map((value) => ({ case: field.localName, value })))
      .filter((choice): choice is fc.Arbitrary<{ case: string; value: unknown }> => choice !== undefined);
    if (choices.length > 0) oneofs[oneof.localName] = fc.oneof(...choices);
  }
  return fc.record({ ...fields, ...oneofs }, { requiredKeys: [] });
}

function fieldValue(field: DescMessage['fields'][number], depth: number): fc.Arbitrary<unknown> | undefined {
  const single = (): fc.Arbitrary<unknown> | undefined => {
    switch (field.fieldKind) {
      case 'scalar':
      case 'list':
        if (field.fieldKind === 'list' && field.listKind === 'message') return nested(field.message, depth);
        if (field.fieldKind === 'list' && field.listKind === 'enum')
          return enumValue(field.enum.values.map((v) => v.number));
        return scalar(field.scalar);
      case 'enum':
        return enumValue(field.enum.values.map((v) => v.number));
      case 'message':
        return nested(field.message, depth);
      default:
        return undefined;
    }
  };
  const one = single();
  if (!one) return undefined;
  return field.fieldKind === 'list' ? fc.array(one, { maxLength: 4 }) : one;
}

function nested(desc: DescMessage, depth: number): fc.Arbitrary<unknown> | undefined {
  if (desc.typeName === 'google.protobuf.Timestamp') {
    return fc.record({
      seconds: fc.oneof(
        fc.bigInt({ min: -62_135_596_800n - 86_400n * 400n, max: 253_402_300_799n + 86_400n * 400n }),
        fc.constantFrom(0n, -62_167_219_200n, 253_402_300_800n),
      ),
      nanos: fc.integer({ min: -1, max: 1_000_000_000 }),
    });
  }
  if (depth >= 3) return undefined;
  return message(desc, depth + 1);
}

function enumValue(numbers: number[]): fc.Arbitrary<number> {
  return fc.oneof(fc.constantFrom(...numbers), fc.integer({ min: -5, max: 1_000 }));
}

function scalar(type: ScalarType): fc.Arbitrary<unknown> | undefined {
  switch (type) {
    case ScalarType.STRING:
      return nastyText;
    case ScalarType.BOOL:
      return fc.boolean();
    case ScalarType.INT32:
    case ScalarType.SINT32:
    case ScalarType.SFIXED32:
      return nastyInt;
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
      return fc.nat();
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64:
      return fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      return fc.bigInt({ min: 0n, max: 2n ** 64n - 1n });
    case ScalarType.DOUBLE:
    case ScalarType.FLOAT:
      return fc.double();
    case ScalarType.BYTES:
      return fc.uint8Array({ maxLength: 64 });
    default:
      return undefined;
  }
}

const callers = ['admin', 'auditor', 'crisis-counsellor', 'peel-officer', 'london-intake', 'pact-intake'] as const;

/** Rows in every data service's outbox: anything a request stores writes one there in the same transaction. */
async function storedSoFar(): Promise<number> {
  const { rows } = await sql.query<{ n: number }>(
    `select ((select count(*) from directory.outbox) + (select count(*) from consent.outbox)
          + (select count(*) from referrals.outbox))::int as n`,
  );
  return rows[0]!.n;
}

async function everyServiceServing(): Promise<void> {
  const { gateway, ...grpcPorts } = started.ports;
  for (const port of Object.values(grpcPorts))
    expect(await healthStatus(`127.0.0.1:${port}`, '', started.credentials)).toBe('SERVING');
  expect((await fetch(`http://127.0.0.1:${gateway}/api/openapi.json`)).status).toBe(200);
  expect(started.process.output()).not.toMatch(/exited unexpectedly/);
}

it('answers arbitrary input to every gRPC method without an internal error, a crash or a stored refusal', async () => {
  const registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, descriptorSet()));
  const methods: { path: string; port: number; input: DescMessage }[] = [];
  const portOf: Record<string, number> = {
    'passage.directory.v1.DirectoryService': started.ports.directory,
    'passage.consent.v1.ConsentService': started.ports.consent,
    'passage.referrals.v1.ReferralService': started.ports.referrals,
    'passage.audit.v1.AuditService': started.ports.audit,
    'passage.escalation.v1.EscalationService': started.ports.escalation,
  };
  for (const type of registry) {
    if (type.kind !== 'service') continue;
    const port = portOf[type.typeName];
    if (port === undefined) continue;
    for (const method of type.methods)
      if (method.methodKind === 'unary')
        methods.push({ path: `/${type.typeName}/${method.name}`, port, input: method.input });
  }
  expect(methods.length).toBeGreaterThan(20);
  expect(new Set(methods.map((m) => m.port)).size).toBe(Object.keys(portOf).length);

  const clients = new Map<number, grpc.Client>();
  const clientFor = (port: number): grpc.Client => {
    let client = clients.get(port);
    if (!client) clients.set(port, (client = new grpc.Client(`127.0.0.1:${port}`, started.credentials)));
    return client;
  };
  const tokens = new Map(callers.map((user) => [user, developmentIssuer().issue(demoUsers[user]!)]));
  const failures: string[] = [];
  const codes = new Map<string, number>();
  try {
    await fc.assert(
      fc.asyncProperty(
        fc
          .integer({ min: 0, max: methods.length - 1 })
          .chain((index) =>
            fc.tuple(fc.constant(index), message(methods[index]!.input, 0), fc.constantFrom(...callers)),
          ),
        async ([index, init, caller]) => {
          const method = methods[index]!;
          let bytes: Uint8Array;
          try {
            bytes = toBinary(method.input, create(method.input, init as never));
          } catch {
            return; // not encodable (e.g. an out-of-range enum the runtime refuses): nothing to send
          }
          const metadata = new grpc.Metadata();
          metadata.set('authorization', `Bearer ${tokens.get(caller)!}`);
          const before = await storedSoFar();
          const code = await new Promise<grpc.status>((resolve) => {
            clientFor(method.port).makeUnaryRequest(
              method.path,
              (value: Buffer) => value,
              (value: Buffer) => value,
              Buffer.from(bytes),
              metadata,
              { deadline: Date.now() + 20_000 },
              (error) => resolve(error?.code ?? grpc.status.OK),
            );
          });
          const key = `${method.path} ${grpc.status[code]}`;
          codes.set(key, (codes.get(key) ?? 0) + 1);
          if (
            [
              grpc.status.INTERNAL,
              grpc.status.UNKNOWN,
              grpc.status.UNAVAILABLE,
              grpc.status.DEADLINE_EXCEEDED,
            ].includes(code)
          ) {
            failures.push(`${method.path} as ${caller} → ${grpc.status[code]}`);
          }
          if (code === grpc.status.INVALID_ARGUMENT && (await storedSoFar()) !== before) {
            failures.push(`${method.path} as ${caller}: refused as invalid, yet stored something`);
          }
        },
      ),
      { numRuns: cases, seed, endOnFailure: true },
    );
  } finally {
    for (const client of clients.values()) client.close();
  }
  console.log(`gRPC fuzz (seed ${seed}): ${cases} calls over ${methods.length} methods; answers ${codes.size} kinds`);
  if (failures.length > 0) console.log(servicesComplaints());
  expect(failures.slice(0, 20)).toEqual([]);
  await everyServiceServing();
});

/** What the services logged about the failures (their error lines), to tell the cause. */
function servicesComplaints(): string {
  return started.process
    .output()
    .split('\n')
    .filter((line) => /"level":(50|60)/.test(line))
    .filter((line, index, lines) => lines.findIndex((other) => other.slice(-300) === line.slice(-300)) === index)
    .slice(0, 20)
    .map((line) => line.slice(0, 1_500))
    .join('\n');
}

interface Operation {
  readonly method: string;
  readonly path: string;
  readonly parameters?: { name: string; in: string; schema?: JsonSchema }[];
  readonly requestBody?: { content?: Record<string, { schema?: JsonSchema }> };
}
interface JsonSchema {
  readonly type?: string | string[];
  readonly properties?: Record<string, JsonSchema>;
  readonly items?: JsonSchema;
  readonly enum?: unknown[];
}

function jsonValue(schema: JsonSchema | undefined, depth: number): fc.Arbitrary<unknown> {
  const type = Array.isArray(schema?.type) ? schema.type[0] : schema?.type;
  const typed = ((): fc.Arbitrary<unknown> => {
    if (schema?.enum && schema.enum.length > 0) return fc.constantFrom(...schema.enum);
    switch (type) {
      case 'object':
        if (depth > 3) return fc.constant({});
        return fc.record(
          Object.fromEntries(
            Object.entries(schema?.properties ?? {}).map(([name, property]) => [name, jsonValue(property, depth + 1)]),
          ),
          { requiredKeys: [] },
        );
      case 'array':
        return fc.array(jsonValue(schema?.items, depth + 1), { maxLength: 4 });
      case 'integer':
        return fc.oneof(nastyInt, fc.constantFrom(1e21, -1e21, 1.5));
      case 'number':
        return fc.double({ noNaN: true });
      case 'boolean':
        return fc.boolean();
      default:
        return nastyText;
    }
  })();
  // Now and then the wrong type altogether.
  return fc.oneof({ weight: 9, arbitrary: typed }, { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) });
}

/** A path or query value: any text percent-encoded, or raw bytes that are no UTF-8 at all. */
const urlText = fc.oneof(
  { weight: 9, arbitrary: nastyText.map((text) => encodeURIComponent(text.toWellFormed())) },
  { weight: 1, arbitrary: fc.constantFrom('%FF%FE', '%ED%A0%80', '%00', '%', '%zz', '..%2F..') },
);

it('answers arbitrary input to every HTTP route without a 5xx, a crash or a stored refusal', async () => {
  const base = started.gatewayUrl;
  const document = (await (await fetch(`${base}/api/openapi.json`)).json()) as {
    paths: Record<string, Record<string, Omit<Operation, 'method' | 'path'>>>;
  };
  const operations: Operation[] = Object.entries(document.paths).flatMap(([path, byMethod]) =>
    Object.entries(byMethod)
      .filter(([method]) => ['get', 'post', 'put', 'patch', 'delete'].includes(method))
      .map(([method, operation]) => ({ ...operation, method: method.toUpperCase(), path })),
  );
  // Signing out would end the fuzzing session; the live feeds never end their response.
  const liveFeeds = new Set(['/api/events', '/api/oversight/events']);
  const fuzzed = operations.filter(
    (operation) =>
      !(operation.path === '/api/session' && operation.method === 'DELETE') && !liveFeeds.has(operation.path),
  );
  expect(fuzzed.length).toBeGreaterThan(20);

  const sessions = new Map<string, { cookie: string; csrf: string }>();
  for (const username of callers) {
    const response = await fetch(`${base}/api/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': `198.51.100.${sessions.size + 1}` },
      body: JSON.stringify({ username, password: 'passage-demo' }),
    });
    expect(response.status).toBe(201);
    const body = (await response.json()) as { csrfToken: string };
    sessions.set(username, { cookie: (response.headers.get('set-cookie') ?? '').split(';')[0]!, csrf: body.csrfToken });
  }

  const failures: string[] = [];
  const statuses = new Map<number, number>();
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 0, max: fuzzed.length - 1 }).chain((index) => {
        const operation = fuzzed[index]!;
        const parameters = operation.parameters ?? [];
        const pathParams = parameters.filter((p) => p.in === 'path');
        const queryParams = parameters.filter((p) => p.in === 'query');
        const body = operation.requestBody?.content?.['application/json']?.schema;
        return fc.tuple(
          fc.constant(index),
          fc.tuple(...pathParams.map(() => urlText)),
          fc.tuple(
            ...queryParams.map((p) =>
              fc.option(p.schema?.enum ? fc.constantFrom(...p.schema.enum.map(String)) : urlText, { nil: undefined }),
            ),
          ),
          body ? fc.option(jsonValue(body, 0), { nil: undefined, freq: 10 }) : fc.constant(undefined),
          fc.constantFrom(...callers),
        );
      }),
      async ([index, pathValues, queryValues, body, caller]) => {
        const operation = fuzzed[index]!;
        const parameters = operation.parameters ?? [];
        let path = operation.path;
        parameters
          .filter((p) => p.in === 'path')
          .forEach((p, i) => (path = path.replace(`{${p.name}}`, pathValues[i] || 'x')));
        const query = parameters
          .filter((p) => p.in === 'query')
          .flatMap((p, i) => {
            const value = queryValues[i];
            return value === undefined ? [] : [`${encodeURIComponent(p.name)}=${value}`];
          })
          .join('&');
        const session = sessions.get(caller)!;
        const headers: Record<string, string> = { cookie: session.cookie };
        if (operation.method !== 'GET') {
          headers['x-csrf-token'] = session.csrf;
          headers['idempotency-key'] = randomUUID();
          headers['content-type'] = 'application/json';
        }
        const before = await storedSoFar();
        const payload = JSON.stringify(body ?? {});
        let response: Response;
        const attempt = async () => {
          const answer = await fetch(`${base}${path}${query ? `?${query}` : ''}`, {
            method: operation.method,
            headers,
            ...(operation.method === 'GET' ? {} : { body: payload }),
          });
          await answer.arrayBuffer();
          return answer;
        };
        try {
          // A kept-alive connection that Node closed after refusing an oversized request (431)
          // can reset the next request sent on it: one more try, on a new connection, tells a
          // closed connection from a gateway that does not answer.
          response = await attempt().catch(attempt);
        } catch (error) {
          // Node refuses a request line and headers over 16 KiB (431), the gateway a body over its
          // 64 KiB limit (413), and either may reset the socket before the client has written or
          // read all: a refusal, not a failure. The headers count towards the 16 KiB: ours, and up
          // to a KiB that fetch adds (host, user agent, accept…). Anything smaller must be answered.
          const head =
            path.length + query.length + Object.entries(headers).reduce((n, [k, v]) => n + k.length + v.length + 4, 0);
          if (head > 15 * 1024 || Buffer.byteLength(payload) > 64 * 1024) return;
          failures.push(
            `${operation.method} ${operation.path} as ${caller} → no answer (${head} bytes of request line and headers): ${String((error as Error).cause ?? error)}`,
          );
          return;
        }
        statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
        if (response.status >= 500)
          failures.push(`${operation.method} ${operation.path} as ${caller} → ${response.status}`);
        if (response.status === 400 && (await storedSoFar()) !== before) {
          failures.push(`${operation.method} ${operation.path} as ${caller}: refused as invalid, yet stored something`);
        }
      },
    ),
    { numRuns: cases, seed, endOnFailure: true },
  );
  console.log(
    `HTTP fuzz (seed ${seed}): ${cases} requests over ${fuzzed.length} routes; statuses ${JSON.stringify(Object.fromEntries(statuses))}`,
  );
  if (failures.length > 0) console.log(servicesComplaints());
  expect(failures.slice(0, 20)).toEqual([]);
  await everyServiceServing();
});
