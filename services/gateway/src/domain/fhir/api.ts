import { PassageError, type FieldViolation } from '@passage/errors';
import { fhirId } from './resources.ts';
import { referralStates, statesOfTaskStatus, type ReferralState } from './referral.ts';

/**
 * What the FHIR API serves, declared once (docs/adr/0044-fhir-r4-export.md): the resource types
 * read and searched, each search parameter, the bulk export's parameters. The router refuses
 * anything else with 400 naming it, and the CapabilityStatement lists exactly this. Pure.
 */

export const resourceTypes = [
  'Task',
  'ServiceRequest',
  'Consent',
  'Organization',
  'HealthcareService',
  'Location',
] as const;
export type ResourceType = (typeof resourceTypes)[number];

export const isResourceType = (value: string): value is ResourceType =>
  (resourceTypes as readonly string[]).includes(value);

export interface SearchParameter {
  readonly name: string;
  readonly type: 'token' | 'reference' | 'number' | 'string';
  readonly documentation: string;
}

const byId = (what: string): SearchParameter => ({
  name: '_id',
  type: 'token',
  documentation: `one ${what} id (a single value)`,
});

/** The search parameters of each type; none else is accepted. */
export const searchParameters: Record<ResourceType, readonly SearchParameter[]> = {
  Task: [
    byId('referral'),
    {
      name: 'owner',
      type: 'reference',
      documentation:
        'Organization/<id>: the referrals that agency received (assigned to one of its workers or not); ' +
        'another agency than your own needs the auditor or admin role. Without it: the referrals your agency sent or received',
    },
    {
      name: 'status',
      type: 'token',
      documentation:
        'Task statuses, comma-separated (requested, received, accepted, rejected, in-progress, completed, cancelled)',
    },
    { name: '_count', type: 'number', documentation: 'entries per page, 1 to 200 (50 when left out)' },
    { name: '_cursor', type: 'string', documentation: 'the page a next link names' },
  ],
  ServiceRequest: [byId('referral')],
  Consent: [byId('consent')],
  Organization: [
    byId('organization'),
    { name: 'identifier', type: 'token', documentation: 'the agency id: urn:passage:agency|<slug>, or the slug alone' },
  ],
  HealthcareService: [
    byId('service'),
    { name: 'organization', type: 'reference', documentation: 'Organization/<id>: the services of that agency' },
  ],
  Location: [
    byId('location'),
    { name: 'organization', type: 'reference', documentation: 'Organization/<id>: that agency’s intake desk' },
  ],
};

/** The types a search must narrow by id (Passage has no list of them to search). */
export const searchNeedsId: ReadonlySet<ResourceType> = new Set(['ServiceRequest', 'Consent']);

/** What every interaction takes besides its own parameters. */
export const formatParameter = '_format';

/** The bulk export's resource types (metadata only: no Consent) and its parameters. */
export const exportTypes = ['Organization', 'Location', 'HealthcareService', 'ServiceRequest', 'Task'] as const;
export type ExportType = (typeof exportTypes)[number];
export const exportParameters = ['_type', '_outputFormat'] as const;

/** Task statuses of FHIR R4 (a search may name any; those Passage never uses find nothing). */
const taskStatuses = new Set([
  'draft',
  'requested',
  'received',
  'accepted',
  'rejected',
  'ready',
  'cancelled',
  'in-progress',
  'on-hold',
  'failed',
  'completed',
  'entered-in-error',
]);

export interface SearchQuery {
  readonly type: ResourceType;
  readonly id?: string;
  /** Task: the receiving agency's Organization id. HealthcareService, Location: the agency's. */
  readonly organization?: string;
  /** Task: the referral states asked for; empty (with `status` given) when none can match. */
  readonly states?: readonly ReferralState[];
  /** Organization: the agency's slug; undefined with `identifier` of another system (nothing matches). */
  readonly agencyId?: string | null;
  readonly count?: number;
  readonly cursor?: string;
}

/** A refusal of what the API does not offer (issue code not-supported). */
export function notSupported(violations: readonly FieldViolation[]): PassageError {
  return new PassageError(
    'invalid_argument',
    violations.map((v) => `${v.field}: ${v.description}`).join('; '),
    violations,
    {
      reason: 'not_supported',
    },
  );
}

/** The query's parameters by name, each once. */
function single(query: Readonly<Record<string, unknown>>, violations: FieldViolation[]): Map<string, string> {
  const values = new Map<string, string>();
  for (const [name, raw] of Object.entries(query)) {
    if (Array.isArray(raw)) {
      violations.push({ field: name, description: 'give it once (separate values with commas)' });
      continue;
    }
    values.set(name, String(raw));
  }
  return values;
}

/** Parameters a request may not have: each named, with what may be given instead. */
export function refuseUnknown(names: Iterable<string>, allowed: readonly string[], where: string): void {
  const unknown = [...names].filter((name) => !allowed.includes(name));
  if (unknown.length > 0)
    throw notSupported(
      unknown.map((name) => ({
        field: name,
        description: `not a parameter of ${where}; supported: ${allowed.join(', ') || 'none'}`,
      })),
    );
}

/** "Organization/<id>" or "<id>": the Organization id, or a violation. */
function organizationOf(name: string, value: string, violations: FieldViolation[]): string | undefined {
  const id = value.startsWith('Organization/') ? value.slice('Organization/'.length) : value;
  if (id.includes('/') || !fhirId.test(id)) {
    violations.push({ field: name, description: 'an Organization reference: Organization/<id>' });
    return undefined;
  }
  return id;
}

/** A search's parameters, checked: unknown ones refused (not-supported), bad values (invalid), each named. */
export function parseSearch(type: ResourceType, query: Readonly<Record<string, unknown>>): SearchQuery {
  const allowed = [...searchParameters[type].map((p) => p.name), formatParameter];
  refuseUnknown(Object.keys(query), allowed, `${type} search`);
  const violations: FieldViolation[] = [];
  const values = single(query, violations);
  let result: SearchQuery = { type };
  const id = values.get('_id');
  if (id !== undefined) {
    if (!fhirId.test(id))
      violations.push({ field: '_id', description: 'one id (letters, digits, - and ., at most 64)' });
    else result = { ...result, id };
  } else if (searchNeedsId.has(type)) {
    violations.push({ field: '_id', description: `a ${type} search needs _id` });
  }
  for (const name of ['owner', 'organization']) {
    const value = values.get(name);
    if (value === undefined) continue;
    const organization = organizationOf(name, value, violations);
    if (organization) result = { ...result, organization };
  }
  const status = values.get('status');
  if (status !== undefined) {
    const codes = status.split(',');
    const unknown = codes.filter((code) => !taskStatuses.has(code));
    if (unknown.length > 0)
      violations.push({ field: 'status', description: `not a Task status: ${unknown.join(', ')}` });
    else
      result = {
        ...result,
        states: referralStates.filter((s) => codes.some((c) => statesOfTaskStatus(c).includes(s))),
      };
  }
  const identifier = values.get('identifier');
  if (identifier !== undefined) {
    const [system, value] = identifier.includes('|') ? identifier.split('|', 2) : [undefined, identifier];
    if (!value) violations.push({ field: 'identifier', description: 'urn:passage:agency|<agency id>' });
    else result = { ...result, agencyId: system === undefined || system === 'urn:passage:agency' ? value : null };
  }
  const count = values.get('_count');
  if (count !== undefined) {
    const n = Number(count);
    if (!/^\d+$/.test(count) || n < 1 || n > 200) violations.push({ field: '_count', description: 'from 1 to 200' });
    else result = { ...result, count: n };
  }
  const cursor = values.get('_cursor');
  if (cursor !== undefined) {
    if (cursor.length === 0 || cursor.length > 200)
      violations.push({ field: '_cursor', description: 'as a next link gives it' });
    else result = { ...result, cursor };
  }
  if (violations.length > 0) throw PassageError.invalid(violations);
  return result;
}

/** The bulk export's parameters: which types, in which format. */
export function parseExport(query: Readonly<Record<string, unknown>>): readonly ExportType[] {
  refuseUnknown(Object.keys(query), [...exportParameters], '$export');
  const violations: FieldViolation[] = [];
  const values = single(query, violations);
  const format = values.get('_outputFormat');
  if (format !== undefined && !ndjsonFormats.includes(format))
    violations.push({ field: '_outputFormat', description: `one of ${ndjsonFormats.join(', ')}` });
  let types: readonly ExportType[] = exportTypes;
  const asked = values.get('_type');
  if (asked !== undefined) {
    const names = asked.split(',');
    const unknown = names.filter((name) => !(exportTypes as readonly string[]).includes(name));
    if (unknown.length > 0)
      violations.push({
        field: '_type',
        description: `not exported: ${unknown.join(', ')}; the export has ${exportTypes.join(', ')}`,
      });
    else types = exportTypes.filter((type) => names.includes(type));
  }
  if (violations.length > 0) throw PassageError.invalid(violations);
  return types;
}

const jsonFormats = ['json', 'application/json', 'application/fhir+json'];
const ndjsonFormats = ['application/fhir+ndjson', 'application/ndjson', 'ndjson'];

/** Whether an Accept header admits one of `types` (a missing header admits anything). */
function accepts(accept: string | undefined, types: readonly string[]): boolean {
  if (!accept) return true;
  return accept.split(',').some((range) => {
    const [type = '', ...parameters] = range.split(';').map((part) => part.trim().toLowerCase());
    if (parameters.some((p) => /^q=0(\.0*)?$/.test(p))) return false;
    return type === '*/*' || type === 'application/*' || types.includes(type);
  });
}

/**
 * What the answer can be: FHIR JSON (or NDJSON for the export) alone. An Accept or `_format`
 * asking for anything else (XML, Turtle) is refused: 406 with an OperationOutcome, in JSON.
 */
export function negotiate(accept: string | undefined, format: unknown, ndjson = false): void {
  const types = ndjson
    ? ['application/fhir+ndjson', 'application/ndjson', 'application/fhir+json', 'application/json']
    : ['application/fhir+json', 'application/json'];
  if (typeof format === 'string' && !jsonFormats.includes(format.toLowerCase()))
    throw new PassageError(
      'invalid_argument',
      'this server answers in FHIR JSON only',
      [{ field: formatParameter, description: `only ${jsonFormats.join(', ')}` }],
      { reason: 'not_acceptable' },
    );
  if (!accepts(accept, types))
    throw new PassageError(
      'invalid_argument',
      'this server answers in FHIR JSON only',
      [{ field: 'Accept', description: `only ${types.join(', ')}` }],
      { reason: 'not_acceptable' },
    );
}
