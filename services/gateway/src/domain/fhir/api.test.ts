import { describe, expect, it } from 'vitest';
import { PassageError, errorCodes, type FieldViolation } from '@passage/errors';
import { r4Problems } from '../../../test/fhir-validation.ts';
import { negotiate, parseExport, parseSearch, resourceTypes, searchParameters } from './api.ts';
import { capabilityStatement, searchBundle } from './capability.ts';
import { operationOutcome } from './outcome.ts';

/** The PassageError `run` throws (the test fails when it throws nothing, or something else). */
function refusal(run: () => unknown): PassageError {
  let thrown: unknown;
  try {
    run();
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(PassageError);
  return thrown as PassageError;
}

const fields = (error: PassageError): string[] => error.violations.map((v: FieldViolation) => v.field);

describe('the FHIR validator these tests use', () => {
  it('checks R4: a wrong code, an unknown element, a missing required one and a malformed id are each caught', () => {
    expect(r4Problems({ resourceType: 'Task', id: 'a', status: 'requested', intent: 'order' })).toEqual([]);
    expect(r4Problems({ resourceType: 'Task', id: 'a', status: 'started', intent: 'order' })).not.toEqual([]);
    expect(r4Problems({ resourceType: 'Task', id: 'a', status: 'requested', intent: 'order', owners: [] })).not.toEqual(
      [],
    );
    expect(r4Problems({ resourceType: 'Consent', id: 'a', status: 'active' })).not.toEqual([]);
    expect(r4Problems({ resourceType: 'Task', id: 'a b', status: 'requested', intent: 'order' })).not.toEqual([]);
    // R4, not STU3: STU3's Consent had `except`, R4 has `provision`.
    expect(r4Problems({ resourceType: 'Consent', id: 'a', status: 'active', except: [] }).join()).toMatch(/except/);
  });
});

describe('searches', () => {
  it('takes the parameters the CapabilityStatement lists, and turns Task statuses into referral states', () => {
    expect(parseSearch('Task', { owner: 'Organization/abc-1', status: 'requested,in-progress', _count: '20' })).toEqual(
      { type: 'Task', organization: 'abc-1', states: ['sent', 'in_contact'], count: 20 },
    );
    expect(parseSearch('Task', { status: 'on-hold' }).states).toEqual([]);
    expect(parseSearch('ServiceRequest', { _id: 'x1' })).toEqual({ type: 'ServiceRequest', id: 'x1' });
    expect(parseSearch('Organization', { identifier: 'urn:passage:agency|london-coalition' }).agencyId).toBe(
      'london-coalition',
    );
    expect(parseSearch('Organization', { identifier: 'london-coalition' }).agencyId).toBe('london-coalition');
    expect(parseSearch('Organization', { identifier: 'urn:other|x' }).agencyId).toBeNull();
    expect(parseSearch('Location', { organization: 'abc', _format: 'json' })).toEqual({
      type: 'Location',
      organization: 'abc',
    });
  });

  it('refuses an unknown parameter as not supported, naming it, and bad values as invalid, naming each', () => {
    const unknown = refusal(() =>
      parseSearch('Task', { patient: 'x', 'status:not': 'completed', status: 'requested' }),
    );
    expect(unknown.reason).toBe('not_supported');
    expect(fields(unknown)).toEqual(['patient', 'status:not']);
    const bad = refusal(() =>
      parseSearch('Task', { status: 'started', owner: 'Practitioner/x', _count: '500', _id: 'a b' }),
    );
    expect(bad.code).toBe('invalid_argument');
    expect(bad.reason).toBe('');
    expect(fields(bad).sort()).toEqual(['_count', '_id', 'owner', 'status']);
    expect(fields(refusal(() => parseSearch('Task', { status: ['requested', 'accepted'] })))).toEqual(['status']);
    expect(fields(refusal(() => parseSearch('Consent', {})))).toEqual(['_id']);
  });

  it('exports the metadata types, all or those asked for, as NDJSON', () => {
    expect(parseExport({})).toEqual(['Organization', 'Location', 'HealthcareService', 'ServiceRequest', 'Task']);
    expect(parseExport({ _type: 'Task,Organization', _outputFormat: 'application/fhir+ndjson' })).toEqual([
      'Organization',
      'Task',
    ]);
    expect(fields(refusal(() => parseExport({ _type: 'Consent,Patient' })))).toEqual(['_type']);
    expect(fields(refusal(() => parseExport({ _outputFormat: 'text/csv' })))).toEqual(['_outputFormat']);
    const since = refusal(() => parseExport({ _since: '2026-01-01' }));
    expect([since.reason, fields(since)]).toEqual(['not_supported', ['_since']]);
  });

  it('answers FHIR JSON only: another Accept or _format is refused as not acceptable', () => {
    expect(() => negotiate(undefined, undefined)).not.toThrow();
    expect(() => negotiate('application/fhir+json', undefined)).not.toThrow();
    expect(() => negotiate('text/html, application/json;q=0.9', 'json')).not.toThrow();
    expect(() => negotiate('*/*', undefined)).not.toThrow();
    expect(() => negotiate('application/fhir+ndjson', undefined, true)).not.toThrow();
    const xml = refusal(() => negotiate('application/fhir+xml', undefined));
    expect([xml.reason, fields(xml)]).toEqual(['not_acceptable', ['Accept']]);
    expect(fields(refusal(() => negotiate(undefined, 'xml')))).toEqual(['_format']);
    expect(fields(refusal(() => negotiate('application/fhir+json;q=0', undefined)))).toEqual(['Accept']);
    expect(fields(refusal(() => negotiate('application/fhir+ndjson', undefined)))).toEqual(['Accept']);
  });
});

describe('errors as OperationOutcome', () => {
  it.each([
    ['invalid_argument', 400, 'invalid'],
    ['not_found', 404, 'not-found'],
    ['already_exists', 409, 'duplicate'],
    ['permission_denied', 403, 'forbidden'],
    ['unauthenticated', 401, 'login'],
    ['failed_precondition', 409, 'business-rule'],
    ['aborted', 409, 'conflict'],
    ['resource_exhausted', 429, 'throttled'],
    ['unavailable', 503, 'transient'],
    ['internal', 500, 'exception'],
  ] as const)('%s: %i, issue %s', (code, status, issue) => {
    const mapped = operationOutcome(new PassageError(code, `synthetic ${code}`));
    expect(mapped.status).toBe(status);
    expect(mapped.outcome.issue).toEqual([
      {
        severity: 'error',
        code: issue,
        details: { coding: [{ system: 'urn:passage:error-code', code }] },
        diagnostics: `synthetic ${code}`,
      },
    ]);
    expect(r4Problems(mapped.outcome)).toEqual([]);
  });

  it('covers every error code, gives each violation an issue whose expression is the parameter, and 406 for a format', () => {
    expect(errorCodes).toHaveLength(10);
    const invalid = operationOutcome(
      PassageError.invalid([
        { field: 'status', description: 'not a Task status: started' },
        { field: '_count', description: 'from 1 to 200' },
      ]),
    );
    expect(invalid.status).toBe(400);
    expect(invalid.outcome.issue.map((i) => [i.code, i.expression, i.diagnostics])).toEqual([
      ['invalid', ['status'], 'not a Task status: started'],
      ['invalid', ['_count'], 'from 1 to 200'],
    ]);
    const unsupported = operationOutcome(refusal(() => parseSearch('Task', { patient: 'x' })));
    expect([unsupported.status, unsupported.outcome.issue[0]?.code, unsupported.outcome.issue[0]?.expression]).toEqual([
      400,
      'not-supported',
      ['patient'],
    ]);
    const format = operationOutcome(refusal(() => negotiate('application/fhir+xml', undefined)));
    expect([format.status, format.outcome.issue[0]?.code]).toEqual([406, 'not-supported']);
    for (const { outcome } of [invalid, unsupported, format]) expect(r4Problems(outcome)).toEqual([]);
  });
});

describe('the CapabilityStatement', () => {
  it('is valid R4 and lists exactly the types, interactions and parameters the router takes', () => {
    const statement = capabilityStatement('https://passage.example/api/fhir');
    expect(r4Problems(statement)).toEqual([]);
    const rest = (statement['rest'] as { resource: { type: string; searchParam: { name: string }[] }[] }[])[0]!;
    expect(rest.resource.map((r) => r.type)).toEqual([...resourceTypes]);
    for (const resource of rest.resource)
      expect(resource.searchParam.map((p) => p.name)).toEqual(
        searchParameters[resource.type as (typeof resourceTypes)[number]].map((p) => p.name),
      );
  });

  it('wraps a search in a valid searchset Bundle, with its total only when the answer is whole', () => {
    const task = { resourceType: 'Task', id: 't1', status: 'requested', intent: 'order' };
    const whole = searchBundle('https://x/api/fhir/Task', [{ fullUrl: 'https://x/api/fhir/Task/t1', resource: task }], {
      whole: true,
    });
    expect(whole.total).toBe(1);
    expect(r4Problems(whole)).toEqual([]);
    const paged = searchBundle('https://x/api/fhir/Task', [], {
      whole: true,
      next: 'https://x/api/fhir/Task?_cursor=c',
    });
    expect(paged.total).toBeUndefined();
    expect(paged.link).toEqual([
      { relation: 'self', url: 'https://x/api/fhir/Task' },
      { relation: 'next', url: 'https://x/api/fhir/Task?_cursor=c' },
    ]);
  });
});
