import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { readApiContract } from '@passage/contracts';
import { apiContract } from '@passage/contracts/descriptor';
import { apiRoutes } from '../src/adapters/http/api-routes.ts';
import { Http, startGatewayLab, type GatewayLab } from './support.ts';

// ADR 24: the proto is the contract. A field added to a scratch copy of proto/ and run through
// `pnpm gen` is on the HTTP API (validated, transcoded to the service), in the OpenAPI document
// and in the console's generated types, with no other edit.
const root = new URL('../../..', import.meta.url).pathname;
const scratch = mkdtempSync(join(tmpdir(), 'passage-scratch-proto-'));
let lab: GatewayLab;
let generatedConsole = '';

beforeAll(async () => {
  cpSync(join(root, 'proto'), join(scratch, 'proto'), { recursive: true });
  const file = join(scratch, 'proto/passage/directory/v1/directory.proto');
  const proto = readFileSync(file, 'utf8');
  const declared = 'message GetAgencyRequest {\n';
  expect(proto).toContain(declared);
  writeFileSync(
    file,
    proto.replace(
      declared,
      `${declared}  // A scratch field for this test.\n  string scratch_marker = 99 [(passage.api.v1.field) = {max_length: 20}];\n`,
    ),
  );
  execFileSync(
    process.execPath,
    [join(root, 'scripts/gen-contracts.ts'), '--proto', join(scratch, 'proto'), '--out', join(scratch, 'out')],
    { cwd: root, stdio: 'pipe' },
  );
  generatedConsole = readFileSync(join(scratch, 'out/console-api.ts'), 'utf8');
  const contract = readApiContract(readFileSync(join(scratch, 'out/descriptor.binpb')));
  lab = await startGatewayLab('scratchproto', {}, contract);
}, 120_000);

afterAll(async () => {
  await lab?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

it('puts a field added to the proto into the console types, the OpenAPI document and the HTTP API', async () => {
  // The console's types: the request interface has it, with the proto's comment.
  const request = /export interface GetAgencyRequest \{[^}]*\}/.exec(generatedConsole)?.[0] ?? '';
  expect(request).toContain('readonly scratchMarker?: string;');
  expect(request).toContain('A scratch field for this test.');

  // The OpenAPI document: a query parameter of GET /api/agencies/{id}, with its rule.
  const http = new Http(lab.gateway.url);
  const doc = await http.json<{
    paths: Record<string, { get?: { parameters?: { name: string; in: string; schema?: { maxLength?: number } }[] } }>;
  }>('GET', '/api/openapi.json');
  const parameters = doc.body.paths['/api/agencies/{id}']?.get?.parameters ?? [];
  expect(parameters.length).toBeGreaterThan(0);
  expect(parameters.find((p) => p.name === 'scratchMarker')).toMatchObject({
    in: 'query',
    schema: { maxLength: 20 },
  });

  // The HTTP API: taken, transcoded and sent to the directory (which skips a field it does
  // not know, as protobuf does), and held to the declared rule.
  const session = await http.signIn('london-intake');
  const taken = await http.json<{ agency: { id: string } }>('GET', '/api/agencies/london-coalition?scratchMarker=ok', {
    session,
  });
  expect(taken.status).toBe(200);
  expect(taken.body.agency.id).toBe('london-coalition');
  const tooLong = await http.json<{ violations: { field: string }[] }>(
    'GET',
    `/api/agencies/london-coalition?scratchMarker=${'x'.repeat(21)}`,
    { session },
  );
  expect(tooLong.status).toBe(400);
  expect(tooLong.body.violations.map((v) => v.field)).toEqual(['querystring.scratchMarker']);

  // It came from the scratch proto alone: the committed contract has no such parameter.
  const committed = apiRoutes(apiContract()).find((r) => r.method === 'GET' && r.url === '/api/agencies/:id');
  const known = Object.keys((committed?.schema.querystring?.['properties'] as object | undefined) ?? {});
  expect(committed).toBeDefined();
  expect(known).not.toContain('scratchMarker');
});
