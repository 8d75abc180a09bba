import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '@passage/testing';
import { r4Problems } from './fhir-validation.ts';
import { Http, startGatewayLab, type GatewayLab, type Session } from './support.ts';

// The FHIR R4 API (ADR 44) against the real services behind the gateway: every resource type
// fetched and validated with the `fhir` package (R4), each read of a person's record audited
// where the JSON API's is, refusals answered as the JSON API answers them, bad input as a 400
// OperationOutcome naming what was wrong.
let lab: GatewayLab;
let http: Http;
const as = (user: string): Promise<Session> => http.as(user);

type Json = Record<string, unknown>;

/** A FHIR read or search: status, content type and body. */
async function fhir(path: string, user?: string, headers: Record<string, string> = {}) {
  const session = user ? await as(user) : undefined;
  const response = await http.request('GET', `/api/fhir${path}`, { ...(session ? { session } : {}), headers });
  const text = await response.text();
  return {
    status: response.status,
    type: response.headers.get('content-type') ?? '',
    text,
    body: (text.startsWith('{') ? JSON.parse(text) : {}) as Json,
  };
}

/** A FHIR answer that must be valid R4, of the given type. */
async function valid(path: string, user: string | undefined, resourceType: string) {
  const answer = await fhir(path, user);
  expect(answer.status, `${path}: ${answer.text}`).toBe(200);
  expect(answer.type).toBe('application/fhir+json; charset=utf-8');
  expect(answer.body['resourceType']).toBe(resourceType);
  expect(r4Problems(answer.body), path).toEqual([]);
  return answer.body;
}

/** An OperationOutcome with this status, valid R4, and its issues' codes and expressions. */
async function outcome(path: string, user: string | undefined, status: number, headers: Record<string, string> = {}) {
  const answer = await fhir(path, user, headers);
  expect(answer.status, `${path}: ${answer.text}`).toBe(status);
  expect(answer.type).toBe('application/fhir+json; charset=utf-8');
  expect(answer.body['resourceType']).toBe('OperationOutcome');
  expect(r4Problems(answer.body), path).toEqual([]);
  const issues = answer.body['issue'] as { code: string; expression?: string[]; diagnostics: string }[];
  expect(issues.length).toBeGreaterThan(0);
  return issues;
}

const entries = (bundle: Json) => ((bundle['entry'] ?? []) as { resource: Json }[]).map((e) => e.resource);

let consentId = '';
let subjectRef = '';
let referralId = '';
let reference = '';
let scopeIds: string[] = [];
const london = { organization: '', service: '', location: '' };

async function post(user: string, path: string, body: Json) {
  const answer = await http.json<Json>('POST', path, { session: await as(user), idempotencyKey: randomUUID(), body });
  expect(answer.status, `${path}: ${JSON.stringify(answer.body)}`).toBeLessThan(300);
  return answer.body;
}

beforeAll(async () => {
  lab = await startGatewayLab('fhir');
  http = new Http(lab.gateway.url);
  // Peel police record the person's consent for the London coalition: needs (do not contact the
  // person directly) and a safe contact, in two scopes; send a referral with both.
  const granted = await post('peel-officer', '/api/consents', {
    method: 'CAPTURE_METHOD_VERBAL',
    language: 'en',
    expiresAt: new Date(Date.now() + 30 * 86_400_000).toISOString(),
    scopes: [
      { recipientAgencyIds: ['london-coalition'], purposes: ['referral'], categories: ['needs'], doNotContact: true },
      { recipientAgencyIds: ['london-coalition'], purposes: ['referral'], categories: ['safe_contact'] },
    ],
  });
  consentId = granted['consentId'] as string;
  subjectRef = granted['subjectRef'] as string;
  scopeIds = ((granted['consent'] as Json)['scopes'] as { id: string }[]).map((s) => s.id);
  const sent = await post('peel-officer', '/api/referrals', {
    subjectRef,
    fromAgency: 'peel-regional-police',
    toAgency: 'london-coalition',
    priority: 'PRIORITY_URGENT',
    needs: ['counselling'],
    language: 'en',
    packet: [
      { category: 'needs', content: 'Synthetic: a safe place tonight' },
      { category: 'safe_contact', content: 'Synthetic: call the shelter desk' },
    ],
  });
  referralId = (sent['referral'] as Json)['id'] as string;
  reference = (sent['referral'] as Json)['reference'] as string;
  // The person withdraws the safe contact; the referral goes on under the other scope, and
  // London takes it through to an outcome.
  await post('peel-officer', `/api/consents/${consentId}/revoke`, {
    scopeIds: [scopeIds[1]],
    reason: 'person_withdrew',
  });
  await post('london-intake', `/api/referrals/${referralId}/acknowledge`, {});
  await post('london-intake', `/api/referrals/${referralId}/accept`, {});
  await post('london-intake', `/api/referrals/${referralId}/contact`, {
    at: new Date().toISOString(),
    method: 'phone',
  });
  await post('london-intake', `/api/referrals/${referralId}/close`, { outcome: 'services_provided' });
  // The ids the HSDS export gives London's organization, first service and intake desk.
  const hsds = await http.json<{ json: string }>('GET', '/api/directory/hsds', { session: await as('admin') });
  const organizations = (JSON.parse(hsds.body.json) as { organizations: Json[] }).organizations;
  const org = organizations.find((o) =>
    (o['organization_identifiers'] as { identifier: string }[]).some((i) => i.identifier === 'london-coalition'),
  )!;
  london.organization = org['id'] as string;
  london.service = (org['services'] as Json[])[0]!['id'] as string;
  london.location = (org['locations'] as Json[])[0]!['id'] as string;
}, 180_000);

afterAll(async () => {
  await lab?.stop();
});

/** The person's access log (GET /api/audit/access-log), once it holds `count` records matching `which`. */
async function accessRecords(which: (record: Json) => boolean, count: number) {
  const auditor = await as('auditor');
  return waitFor(
    async () => {
      const log = await http.json<{ records: Json[] }>('GET', `/api/audit/access-log/${subjectRef}`, {
        session: auditor,
      });
      return log.body.records.filter(which);
    },
    (records) => records.length >= count,
    20_000,
  );
}

describe('FHIR R4 reads, each valid and each audited', () => {
  it('answers the CapabilityStatement to anyone, listing exactly what it serves', async () => {
    const statement = await valid('/metadata', undefined, 'CapabilityStatement');
    const rest = (statement['rest'] as { resource: { type: string }[]; operation: { name: string }[] }[])[0]!;
    expect(rest.resource.map((r) => r.type)).toEqual([
      'Task',
      'ServiceRequest',
      'Consent',
      'Organization',
      'HealthcareService',
      'Location',
    ]);
    expect(rest.operation.map((o) => o.name)).toEqual(['export']);
  });

  it('reads the referral as Task and ServiceRequest, with what consent allows now, each read audited', async () => {
    const since = Date.now();
    const task = await valid(`/Task/${referralId}`, 'london-intake', 'Task');
    expect(task).toMatchObject({
      id: referralId,
      status: 'completed',
      businessStatus: { coding: [{ code: 'closed' }] },
      priority: 'urgent',
      for: { identifier: { system: 'urn:passage:subject', value: subjectRef } },
      requester: { reference: expect.stringMatching(/^Organization\/[0-9a-f-]{36}$/) },
      owner: { reference: `Organization/${london.organization}` },
    });
    // The words consent still allows; the withdrawn safe contact masked.
    expect(task['input']).toEqual([
      {
        type: { coding: [{ system: 'urn:passage:data-category', code: 'needs' }] },
        valueString: 'Synthetic: a safe place tonight',
      },
      {
        type: { coding: [{ system: 'urn:passage:data-category', code: 'safe_contact' }] },
        valueCodeableConcept: {
          coding: [
            { system: 'http://terminology.hl7.org/CodeSystem/data-absent-reason', code: 'masked', display: 'Masked' },
          ],
        },
      },
    ]);
    expect((task['output'] as Json[]).at(-1)).toMatchObject({
      valueCodeableConcept: { coding: [{ system: 'urn:passage:close-outcome', code: 'services_provided' }] },
    });
    expect(JSON.stringify(task)).not.toContain('shelter desk');
    const request = await valid(`/ServiceRequest/${referralId}`, 'london-intake', 'ServiceRequest');
    expect(request).toMatchObject({
      status: 'completed',
      orderDetail: [{ coding: [{ code: 'contacting-subject-prohibited' }] }],
      supportingInfo: [{ reference: `Consent/${consentId}` }],
      performer: [{ reference: `Organization/${london.organization}` }],
      category: [{ coding: [{ system: 'urn:passage:service-type', code: 'counselling' }] }],
    });
    // Each FHIR read is the referral service's read: one access record each, by the reader.
    const reads = await accessRecords(
      (r) => r['actorUser'] === 'london-intake' && Date.parse(r['at'] as string) >= since,
      2,
    );
    expect(reads).toEqual([
      expect.objectContaining({ referralId, outcome: 'granted', categories: ['needs'], record: '' }),
      expect.objectContaining({ referralId, outcome: 'granted', categories: ['needs'], record: '' }),
    ]);
  });

  it('reads the consent for its recording agency: a permit per scope, the withdrawn one ended, do-not-contact denied', async () => {
    const resource = await valid(`/Consent/${consentId}`, 'peel-officer', 'Consent');
    const provisions = (resource['provision'] as { provision: Json[] }).provision;
    expect(provisions.map((p) => p['id'])).toEqual(scopeIds);
    expect(provisions[0]).toMatchObject({
      type: 'permit',
      actor: [{ reference: { reference: `Organization/${london.organization}` } }],
      code: [{ coding: [{ code: 'needs' }] }],
      provision: [{ type: 'deny', action: [{ coding: [{ code: 'contacting-subject-prohibited' }] }] }],
    });
    expect((provisions[1]!['period'] as Json)['end']).toEqual(expect.any(String));
    expect(resource['status']).toBe('active');
    const records = await accessRecords((r) => r['record'] === 'consent_record', 1);
    expect(records[0]).toMatchObject({ actorUser: 'peel-officer', outcome: 'granted', consentIds: [consentId] });
  });

  it('reads the directory under the ids of the HSDS export', async () => {
    const organization = await valid(`/Organization/${london.organization}`, 'london-intake', 'Organization');
    expect(organization['identifier']).toEqual([{ system: 'urn:passage:agency', value: 'london-coalition' }]);
    const service = await valid(`/HealthcareService/${london.service}`, 'london-intake', 'HealthcareService');
    expect(service['providedBy']).toEqual({ reference: `Organization/${london.organization}` });
    const location = await valid(`/Location/${london.location}`, 'london-intake', 'Location');
    expect(location['managingOrganization']).toEqual({ reference: `Organization/${london.organization}` });
  });

  it('searches: each search the CapabilityStatement lists, answered as a valid searchset', async () => {
    const searches: [string, string, string][] = [
      [`/Task?owner=Organization/${london.organization}&status=completed`, 'london-intake', 'Task'],
      [`/Task?_id=${referralId}`, 'london-intake', 'Task'],
      [`/Task?status=completed,cancelled&_count=10`, 'peel-officer', 'Task'],
      [`/ServiceRequest?_id=${referralId}`, 'london-intake', 'ServiceRequest'],
      [`/Consent?_id=${consentId}`, 'peel-officer', 'Consent'],
      ['/Organization?identifier=urn:passage:agency|london-coalition', 'london-intake', 'Organization'],
      [`/HealthcareService?organization=Organization/${london.organization}`, 'london-intake', 'HealthcareService'],
      [`/Location?organization=${london.organization}`, 'london-intake', 'Location'],
    ];
    for (const [path, user, type] of searches) {
      const bundle = await valid(path, user, 'Bundle');
      const found = entries(bundle);
      expect(found.length, path).toBeGreaterThan(0);
      for (const resource of found) expect(resource['resourceType'], path).toBe(type);
    }
    const tasks = entries(await valid(`/Task?owner=Organization/${london.organization}`, 'london-intake', 'Bundle'));
    expect(tasks.map((t) => t['id'])).toContain(referralId);
    // Metadata only in a list, as the JSON API's lists: no packet.
    expect(tasks.every((t) => t['input'] === undefined)).toBe(true);
    expect(entries(await valid('/Task?status=on-hold', 'london-intake', 'Bundle'))).toEqual([]);
  });
});

describe('who may read what, as the JSON API decides it', () => {
  it('answers another agency as for a made-up id (and audits it), a role that may not read 403, no session 401', async () => {
    const stranger = await outcome(`/Task/${referralId}`, 'windsor-intake', 404);
    expect(stranger[0]?.code).toBe('not-found');
    const denied = await accessRecords((r) => r['actorUser'] === 'windsor-intake', 1);
    expect(denied[0]).toMatchObject({ outcome: 'denied', reason: 'not_a_party', referralId });
    expect((await outcome(`/Task/${referralId}`, 'auditor', 403))[0]?.code).toBe('forbidden');
    expect((await outcome(`/Consent/${consentId}`, 'london-intake', 404))[0]?.code).toBe('not-found');
    expect((await outcome(`/Task/${referralId}`, undefined, 401))[0]?.code).toBe('login');
    expect(entries(await valid(`/Task?_id=${referralId}`, 'windsor-intake', 'Bundle'))).toEqual([]);
  });
});

describe('bad input', () => {
  it('refuses an unknown resource type or search parameter with a 400 OperationOutcome naming it', async () => {
    const type = await outcome('/Patient/abc', 'london-intake', 400);
    expect(type.map((i) => [i.code, i.expression])).toEqual([['not-supported', ['resourceType']]]);
    const parameter = await outcome('/Task?patient=abc&status=completed', 'london-intake', 400);
    expect(parameter.map((i) => [i.code, i.expression])).toEqual([['not-supported', ['patient']]]);
    const value = await outcome('/Task?status=started&_count=0', 'london-intake', 400);
    expect(value.map((i) => [i.code, i.expression])).toEqual([
      ['invalid', ['status']],
      ['invalid', ['_count']],
    ]);
    expect((await outcome('/Task/not$an$id', 'london-intake', 400))[0]?.expression).toEqual(['id']);
    expect((await outcome('/Consent', 'london-intake', 400))[0]?.expression).toEqual(['_id']);
    expect((await outcome(`/Task/${referralId}?_summary=true`, 'london-intake', 400))[0]?.expression).toEqual([
      '_summary',
    ]);
  });

  it('answers an unknown id 404, another format 406, and anything but a read 400', async () => {
    expect((await outcome(`/Task/${randomUUID()}`, 'london-intake', 404))[0]?.code).toBe('not-found');
    expect((await outcome('/Task/R-7K3M-Q9', 'london-intake', 404))[0]?.code).toBe('not-found');
    expect((await outcome(`/Organization/${randomUUID()}`, 'london-intake', 404))[0]?.code).toBe('not-found');
    const xml = await outcome(`/Task/${referralId}`, 'london-intake', 406, { accept: 'application/fhir+xml' });
    expect(xml.map((i) => [i.code, i.expression])).toEqual([['not-supported', ['Accept']]]);
    expect((await outcome('/metadata?_format=xml', undefined, 406))[0]?.expression).toEqual(['_format']);
    expect((await outcome(`/Task/${referralId}/_history`, 'london-intake', 400))[0]?.code).toBe('not-supported');
    const write = await http.request('POST', '/api/fhir/Task', { session: await as('london-intake'), body: {} });
    expect(write.status).toBe(400);
    expect(((await write.json()) as Json)['resourceType']).toBe('OperationOutcome');
  });
});

describe('the bulk export', () => {
  async function exportLines(user: string, query = '') {
    const response = await http.request('GET', `/api/fhir/$export${query}`, { session: await as(user) });
    const text = await response.text();
    return { status: response.status, type: response.headers.get('content-type') ?? '', text };
  }

  /** The export's access records (audit.v1.access, record fhir_export) by a user, once the log has `count`. */
  const exportAccesses = (user: string, count: number) =>
    waitFor(
      async () =>
        (
          await lab.n.sql.query<{ outcome: string; reason: string; subject_ref: string }>(
            `select convert_from(entry, 'UTF8')::jsonb #>> '{event,accessRecorded,outcome}' as outcome,
                    coalesce(convert_from(entry, 'UTF8')::jsonb #>> '{event,accessRecorded,reason}', '') as reason,
                    subject_ref
               from audit.entries where action = 'audit.v1.access' and actor_user = $1
                and convert_from(entry, 'UTF8')::jsonb #>> '{event,accessRecorded,record}' = 'fhir_export'
              order by seq`,
            [user],
          )
        ).rows,
      (rows) => rows.length >= count,
      20_000,
    );

  it('gives the ministry every referral’s metadata and the directory as valid NDJSON, audited as one access', async () => {
    // The audit log's projection has the referral once the bus has carried its events there.
    const exported = await waitFor(
      async () => {
        const answer = await exportLines('auditor');
        const resources = answer.text
          .split('\n')
          .filter((line) => line !== '')
          .map((line) => JSON.parse(line) as Json);
        return { ...answer, resources };
      },
      ({ resources }) =>
        resources.some((r) => r['resourceType'] === 'Task' && r['id'] === referralId && r['status'] === 'completed'),
      20_000,
    );
    expect(exported.status).toBe(200);
    expect(exported.type).toContain('application/fhir+ndjson');
    expect(exported.resources.length).toBeGreaterThan(0);
    for (const resource of exported.resources) expect(r4Problems(resource), JSON.stringify(resource)).toEqual([]);
    const types = new Set(exported.resources.map((r) => r['resourceType']));
    expect([...types].sort()).toEqual(['HealthcareService', 'Location', 'Organization', 'ServiceRequest', 'Task']);
    // Metadata only: no packet, subject or reference; no needs, no do-not-contact flag.
    for (const secret of ['Synthetic', subjectRef, reference]) expect(exported.text).not.toContain(secret);
    const task = exported.resources.find((r) => r['resourceType'] === 'Task' && r['id'] === referralId)!;
    expect(task['owner']).toEqual({ reference: `Organization/${london.organization}` });
    expect(task['input']).toBeUndefined();
    const request = exported.resources.find((r) => r['resourceType'] === 'ServiceRequest' && r['id'] === referralId)!;
    expect([request['category'], request['orderDetail'], request['supportingInfo']]).toEqual([
      undefined,
      undefined,
      undefined,
    ]);
    const only = (await exportLines('admin', '?_type=Task')).text.split('\n').filter(Boolean);
    expect(only.length).toBeGreaterThan(0);
    expect(only.every((line) => line.includes('"resourceType":"Task"'))).toBe(true);
    const accesses = await exportAccesses('auditor', 1);
    expect(accesses[0]).toEqual({ outcome: 'granted', reason: '', subject_ref: '' });
  });

  it('is for the auditor and the administrator: anyone else is refused, and that is recorded too', async () => {
    const refused = await exportLines('london-supervisor');
    expect(refused.status).toBe(403);
    expect((JSON.parse(refused.text) as Json)['resourceType']).toBe('OperationOutcome');
    expect((await exportAccesses('london-supervisor', 1))[0]).toMatchObject({ outcome: 'denied', reason: 'role' });
    const badType = await exportLines('auditor', '?_type=Consent');
    expect(badType.status).toBe(400);
    expect((JSON.parse(badType.text) as { issue: { expression: string[] }[] }).issue[0]?.expression).toEqual(['_type']);
  });
});
