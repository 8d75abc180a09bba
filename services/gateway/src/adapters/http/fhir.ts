import { Readable } from 'node:stream';
import type * as grpc from '@grpc/grpc-js';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { audit, consent, directory, referrals } from '@passage/contracts';
import { PassageError, callUnary, isPassageError, isTransientDependencyError, type Logger } from '@passage/platform';
import { organizationIdOf } from '@passage/vocabulary/directory-ids';
import type { SessionRecord } from '../../app/ports.ts';
import type { AccessAudit } from '../db/access-audit.ts';
import type { ServiceClients } from '../grpc/clients.ts';
import {
  formatParameter,
  isResourceType,
  negotiate,
  notSupported,
  parseExport,
  parseSearch,
  refuseUnknown,
  resourceTypes,
  type ExportType,
  type ResourceType,
  type SearchQuery,
} from '../../domain/fhir/api.ts';
import { capabilityStatement, searchBundle } from '../../domain/fhir/capability.ts';
import { consentResource, type ConsentFacts } from '../../domain/fhir/consent.ts';
import { agencyLocation, agencyOrganization, agencyServices, type AgencyFacts } from '../../domain/fhir/directory.ts';
import { operationOutcome } from '../../domain/fhir/outcome.ts';
import {
  referralServiceRequest,
  referralStates,
  referralTask,
  type ReferralFacts,
  type ReferralReading,
  type ReferralState,
} from '../../domain/fhir/referral.ts';
import { fhirId, type Resource } from '../../domain/fhir/resources.ts';

/**
 * The FHIR R4 API at /api/fhir (docs/adr/0044-fhir-r4-export.md): a small router written by
 * hand, FHIR's REST being no proto-shaped API. It holds no rule of its own: every read goes to
 * the services' gRPC APIs with the caller's own token, exactly as the JSON API's routes do, so
 * consent is evaluated and the read audited where it always is; this only changes the shape of
 * the answer (the mapping: domain/fhir). Errors are OperationOutcomes, in application/fhir+json.
 */

const fhirJson = 'application/fhir+json; charset=utf-8';
const fhirNdjson = 'application/fhir+ndjson';
const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Referrals a page of the bulk export asks the audit log for. */
const exportPage = 500;

export interface FhirDependencies {
  readonly clients: ServiceClients;
  readonly log: Logger;
  /** The request's signed-in session (401 otherwise, as for every API route) and its caller token. */
  readonly signedIn: (request: FastifyRequest) => Promise<{ record: SessionRecord; metadata: grpc.Metadata }>;
  /** Where the bulk export is recorded as an access. */
  readonly accessAudit: AccessAudit;
  readonly now?: () => Date;
}

interface Caller {
  readonly record: SessionRecord;
  readonly metadata: grpc.Metadata;
}

export async function registerFhir(app: FastifyInstance, deps: FhirDependencies): Promise<void> {
  const now = deps.now ?? (() => new Date());
  await app.register(
    (fhir, _options, done) => {
      fhir.setErrorHandler((error, request, reply) => sendOutcome(reply, asPassageError(error, request, deps.log)));

      fhir.get('/metadata', { schema: { hide: true } }, (request, reply) => {
        negotiate(request.headers.accept, query(request)[formatParameter]);
        refuseUnknown(Object.keys(query(request)), [formatParameter], 'metadata');
        return sendResource(reply, capabilityStatement(baseUrl(request)));
      });

      fhir.get('/$export', { schema: { hide: true } }, async (request, reply) => {
        const caller = await deps.signedIn(request);
        // Who is asking before what is asked, as on every API route: the role, then the parameters.
        await requireExporter(deps, caller);
        negotiate(request.headers.accept, undefined, true);
        const types = parseExport(query(request));
        await bulkExport(deps, caller, types, reply);
        return reply;
      });

      fhir.get('/:type', { schema: { hide: true } }, async (request, reply) => {
        const caller = await deps.signedIn(request);
        const type = resourceType(request);
        negotiate(request.headers.accept, query(request)[formatParameter]);
        const search = parseSearch(type, query(request));
        return sendResource(reply, await searchOf(deps, caller, search, request, now));
      });

      fhir.get('/:type/:id', { schema: { hide: true } }, async (request, reply) => {
        const caller = await deps.signedIn(request);
        const type = resourceType(request);
        negotiate(request.headers.accept, query(request)[formatParameter]);
        refuseUnknown(Object.keys(query(request)), [formatParameter], `a ${type} read`);
        const { id } = request.params as { id: string };
        if (!fhirId.test(id))
          throw PassageError.invalid([{ field: 'id', description: 'a FHIR id: letters, digits, - and ., at most 64' }]);
        const resource = await readOne(deps, caller, type, id, now);
        if (!resource) throw new PassageError('not_found', `no ${type}/${id}`);
        return sendResource(reply, resource);
      });

      // Whatever else is asked of /api/fhir (a write, history, an operation) is not offered.
      fhir.route({
        method: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
        url: '/*',
        schema: { hide: true },
        handler: (request) => {
          throw notSupported([
            {
              field: 'interaction',
              description: `${request.method} ${request.url.split('?')[0] ?? ''}: this FHIR API reads and searches ${resourceTypes.join(', ')} and exports ($export); nothing else`,
            },
          ]);
        },
      });
      done();
    },
    { prefix: '/api/fhir' },
  );
}

const query = (request: FastifyRequest): Record<string, unknown> => (request.query ?? {}) as Record<string, unknown>;

function baseUrl(request: FastifyRequest): string {
  return `${request.protocol}://${request.host}/api/fhir`;
}

function resourceType(request: FastifyRequest): ResourceType {
  const { type } = request.params as { type: string };
  if (!isResourceType(type))
    throw notSupported([
      {
        field: 'resourceType',
        description: `"${type}" is not a resource type served here; these are: ${resourceTypes.join(', ')}`,
      },
    ]);
  return type;
}

function sendResource(reply: FastifyReply, resource: Resource): FastifyReply {
  return reply.code(200).type(fhirJson).send(JSON.stringify(resource));
}

function sendOutcome(reply: FastifyReply, error: PassageError): FastifyReply {
  const { status, outcome } = operationOutcome(error);
  return reply.code(status).type(fhirJson).send(JSON.stringify(outcome));
}

/** Anything thrown, as the one error type; what is ours to read goes to the log, not the caller. */
function asPassageError(error: unknown, request: FastifyRequest, log: Logger): PassageError {
  if (isPassageError(error)) {
    if (error.code !== 'internal') return error;
    log.error({ err: error, url: request.routeOptions.url }, 'FHIR request failed');
    return new PassageError('internal', 'something went wrong on our side; it has been logged');
  }
  const status = (error as { statusCode?: number }).statusCode;
  if (status === 429) return new PassageError('resource_exhausted', 'too many requests: try again shortly');
  if (status !== undefined && status >= 400 && status < 500)
    return new PassageError('invalid_argument', (error as Error).message);
  if (isTransientDependencyError(error)) {
    log.warn({ err: error, url: request.routeOptions.url }, 'a dependency is unavailable');
    return new PassageError('unavailable', 'the service is briefly unavailable: try again shortly');
  }
  log.error({ err: error, url: request.routeOptions.url }, 'FHIR request failed');
  return new PassageError('internal', 'something went wrong on our side; it has been logged');
}

// What the services answer, as the facts the mapping takes.

function referralFacts(referral: referrals.Referral): ReferralFacts {
  if (!referral.sentAt) throw new PassageError('internal', `referral ${referral.id} has no sending time`);
  const state = referrals
    .stateToJSON(referral.state)
    .replace(/^STATE_/, '')
    .toLowerCase();
  if (!(referralStates as readonly string[]).includes(state))
    throw new PassageError('internal', `referral ${referral.id} is in no known state`);
  return {
    id: referral.id,
    reference: referral.reference,
    subjectRef: referral.subjectRef,
    fromAgency: referral.fromAgency,
    toAgency: referral.toAgency,
    takenOverBy: referral.takenOverBy,
    priority: referral.priority === referrals.Priority.PRIORITY_URGENT ? 'urgent' : 'standard',
    state: state as ReferralState,
    reason: referral.reason,
    needs: referral.needs,
    doNotContact: referral.doNotContact,
    assignedUser: referral.assignedUser,
    previousReferralId: referral.previousReferralId,
    escalated: referral.escalated,
    // After hours (ADR 41): its targets count from the agency's next opening.
    afterHours: referral.clockStartsAt !== undefined,
    sentAt: referral.sentAt,
    acknowledgedAt: referral.acknowledgedAt,
    acceptedAt: referral.acceptedAt,
    contactAt: referral.contactAt,
    closedAt: referral.closedAt,
    declinedAt: referral.declinedAt,
    withdrawnAt: referral.withdrawnAt,
    assignedAt: referral.assignedAt,
    takenOverAt: referral.takenOverAt,
  };
}

/** The audit log's metadata of a referral (the bulk export): no reference, subject, needs or assignee. */
function summaryFacts(summary: audit.ReferralSummary): ReferralFacts | undefined {
  if (!summary.sentAt || !(referralStates as readonly string[]).includes(summary.state)) return undefined;
  return {
    id: summary.referralId,
    reference: '',
    subjectRef: '',
    fromAgency: summary.fromAgency,
    toAgency: summary.toAgency,
    takenOverBy: '',
    priority: summary.priority === 'urgent' ? 'urgent' : 'standard',
    state: summary.state as ReferralState,
    reason: summary.reason,
    needs: [],
    doNotContact: false,
    assignedUser: '',
    previousReferralId: summary.previousReferralId,
    escalated: false,
    afterHours: summary.afterHours,
    sentAt: summary.sentAt,
    acknowledgedAt: summary.acknowledgedAt,
    acceptedAt: summary.acceptedAt,
    contactAt: summary.contactAt,
    closedAt: summary.closedAt,
    declinedAt: summary.declinedAt,
    withdrawnAt: summary.withdrawnAt,
  };
}

function consentFacts(record: consent.ConsentRecord): ConsentFacts {
  if (!record.grantedAt) throw new PassageError('internal', `consent ${record.id} has no granting time`);
  return {
    id: record.id,
    subjectRef: record.subjectRef,
    recordedBy: record.capturedBy?.agencyId ?? '',
    grantedAt: record.grantedAt,
    expiresAt: record.expiresAt,
    revokedAt: record.revokedAt,
    scopes: record.scopes,
  };
}

function agencyFacts(agency: directory.Agency): AgencyFacts {
  return {
    id: agency.id,
    nameEn: agency.nameEn,
    nameFr: agency.nameFr,
    kind: agency.kind,
    services: agency.services,
    languages: agency.languages,
    acceptingReferrals: agency.acceptingReferrals,
    alwaysOpen: agency.hours?.alwaysOpen ?? false,
    periods: agency.hours?.periods ?? [],
    phone: agency.contact?.phone ?? '',
    email: agency.contact?.email ?? '',
    website: agency.contact?.website ?? '',
  };
}

// Reads, each through the service that owns the record, with the caller's token.

/** One referral as its service answers it to the caller: the read consent allows now, audited there. */
async function readReferral(
  deps: FhirDependencies,
  caller: Caller,
  id: string,
): Promise<{ facts: ReferralFacts; reading: ReferralReading } | undefined> {
  // A FHIR id that is no UUID names no referral: the answer an unknown one gets.
  if (!uuid.test(id)) return undefined;
  const client = deps.clients.referrals;
  try {
    const answer = await callUnary(
      client.get.bind(client),
      { referralId: id.toLowerCase(), purpose: '' },
      caller.metadata,
    );
    if (!answer.referral) return undefined;
    return {
      facts: referralFacts(answer.referral),
      reading: { packet: answer.packet, note: answer.note, consentIds: answer.consentIds },
    };
  } catch (error) {
    if (isPassageError(error) && error.code === 'not_found') return undefined;
    throw error;
  }
}

async function readConsent(deps: FhirDependencies, caller: Caller, id: string): Promise<ConsentFacts | undefined> {
  if (!uuid.test(id)) return undefined;
  const client = deps.clients.consent;
  try {
    const answer = await callUnary(client.getConsent.bind(client), { consentId: id.toLowerCase() }, caller.metadata);
    return answer.consent ? consentFacts(answer.consent) : undefined;
  } catch (error) {
    if (isPassageError(error) && error.code === 'not_found') return undefined;
    throw error;
  }
}

/** The directory's agencies (a public read; no one's data). */
async function agencies(deps: FhirDependencies, caller: Caller): Promise<AgencyFacts[]> {
  const client = deps.clients.directory;
  const answer = await callUnary(
    client.listAgencies.bind(client),
    { kind: '', region: '', service: '', language: '' },
    caller.metadata,
  );
  return answer.agencies.map(agencyFacts);
}

/** The directory's resources of a type, each with the agency it belongs to. */
async function directoryResources(
  deps: FhirDependencies,
  caller: Caller,
  type: 'Organization' | 'HealthcareService' | 'Location',
): Promise<{ agencyId: string; resource: Resource }[]> {
  return (await agencies(deps, caller)).flatMap((agency) => {
    const resources: Resource[] =
      type === 'Organization'
        ? [agencyOrganization(agency)]
        : type === 'Location'
          ? [agencyLocation(agency)]
          : agencyServices(agency);
    return resources.map((resource) => ({ agencyId: agency.id, resource }));
  });
}

async function readOne(
  deps: FhirDependencies,
  caller: Caller,
  type: ResourceType,
  id: string,
  now: () => Date,
): Promise<Resource | undefined> {
  switch (type) {
    case 'Task':
    case 'ServiceRequest': {
      const read = await readReferral(deps, caller, id);
      if (!read) return undefined;
      return type === 'Task'
        ? referralTask(read.facts, read.reading)
        : referralServiceRequest(read.facts, read.reading);
    }
    case 'Consent': {
      const facts = await readConsent(deps, caller, id);
      return facts ? consentResource(facts, now()) : undefined;
    }
    default:
      return (await directoryResources(deps, caller, type)).find(({ resource }) => resource.id === id)?.resource;
  }
}

/** A search: the same reads, or the lists of the JSON API (metadata only, as they are there). */
async function searchOf(
  deps: FhirDependencies,
  caller: Caller,
  search: SearchQuery,
  request: FastifyRequest,
  now: () => Date,
) {
  const base = baseUrl(request);
  const self = `${base}${request.url.slice('/api/fhir'.length)}`;
  const bundle = (resources: readonly Resource[], page: { next?: string; whole: boolean } = { whole: true }) =>
    searchBundle(
      self,
      resources.map((resource) => ({ fullUrl: `${base}/${resource.resourceType}/${resource.id}`, resource })),
      page,
    );
  switch (search.type) {
    case 'Task':
    case 'ServiceRequest': {
      if (search.id === undefined) {
        const page = await taskPage(deps, caller, search);
        return bundle(
          page.referrals.map((r) => referralTask(referralFacts(r))),
          {
            whole: search.cursor === undefined,
            ...(page.nextCursor ? { next: nextUrl(base, request, page.nextCursor) } : {}),
          },
        );
      }
      const read = await readReferral(deps, caller, search.id);
      if (!read || !referralMatches(search, read.facts)) return bundle([]);
      return bundle([
        search.type === 'Task'
          ? referralTask(read.facts, read.reading)
          : referralServiceRequest(read.facts, read.reading),
      ]);
    }
    case 'Consent': {
      const facts = search.id === undefined ? undefined : await readConsent(deps, caller, search.id);
      return bundle(facts ? [consentResource(facts, now())] : []);
    }
    default: {
      const found = (await directoryResources(deps, caller, search.type)).filter(
        ({ agencyId, resource }) =>
          (search.id === undefined || resource.id === search.id) &&
          (search.organization === undefined || organizationIdOf(agencyId) === search.organization) &&
          (search.agencyId === undefined || search.agencyId === agencyId),
      );
      return bundle(found.map((f) => f.resource));
    }
  }
}

/** Whether a referral read by id meets the search's other parameters (owner, status). */
function referralMatches(search: SearchQuery, referral: ReferralFacts): boolean {
  if (search.states !== undefined && !search.states.includes(referral.state)) return false;
  const receivers = [referral.toAgency, referral.takenOverBy].filter((a) => a !== '').map(organizationIdOf);
  return search.organization === undefined || receivers.includes(search.organization);
}

/**
 * A page of Tasks: the referrals an agency received (owner), through the inbox, or those the
 * caller's agency sent or received, through the search — the lists the JSON API gives.
 */
async function taskPage(
  deps: FhirDependencies,
  caller: Caller,
  search: SearchQuery,
): Promise<{ referrals: referrals.Referral[]; nextCursor: string }> {
  if (search.states !== undefined && search.states.length === 0) return { referrals: [], nextCursor: '' };
  const states = (search.states ?? []).map((state) => referrals.stateFromJSON(`STATE_${state.toUpperCase()}`));
  const cursor = search.cursor ?? '';
  const pageSize = search.count ?? 50;
  const client = deps.clients.referrals;
  if (search.organization !== undefined) {
    const agency = (await agencies(deps, caller)).find((a) => organizationIdOf(a.id) === search.organization);
    if (!agency) return { referrals: [], nextCursor: '' };
    return callUnary(
      client.listInbox.bind(client),
      { agency: agency.id, states, cursor, pageSize, assignedTo: '' },
      caller.metadata,
    );
  }
  return callUnary(
    client.search.bind(client),
    { agency: '', reference: '', receiptReference: '', states, assignedTo: '', cursor, pageSize },
    caller.metadata,
  );
}

function nextUrl(base: string, request: FastifyRequest, cursor: string): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query(request))) if (name !== '_cursor') params.set(name, String(value));
  params.set('_cursor', cursor);
  const { type } = request.params as { type: string };
  return `${base}/${type}?${params.toString()}`;
}

const actorOf = ({ record: { user } }: Caller) => ({
  agencyId: user.agencyId,
  userId: user.userId,
  role: user.roles[0] ?? '',
});

/** The bulk export is the ministry's (auditor or admin, as the oversight feed): a refusal is recorded too. */
async function requireExporter(deps: FhirDependencies, caller: Caller): Promise<void> {
  if (caller.record.user.roles.some((role) => role === 'auditor' || role === 'admin')) return;
  await deps.accessAudit.record({ actor: actorOf(caller), outcome: 'denied', record: 'fhir_export', reason: 'role' });
  throw new PassageError('permission_denied', 'the bulk export needs the auditor or admin role');
}

/**
 * The bulk export (requireExporter first): the directory, then every
 * referral's ServiceRequest and Task from the audit log's metadata — ids, agencies, priority,
 * states, times, codes; never the packet, the needs, the subject or a contact. Recorded as one
 * access before the first line. Synchronous NDJSON: the directory and
 * the first page are read before the answer starts (a failure there is an OperationOutcome); a
 * failure later ends the stream short, and the log says why.
 */
async function bulkExport(
  deps: FhirDependencies,
  caller: Caller,
  types: readonly ExportType[],
  reply: FastifyReply,
): Promise<void> {
  await deps.accessAudit.record({ actor: actorOf(caller), outcome: 'granted', record: 'fhir_export', reason: '' });
  const wanted = new Set<ExportType>(types);
  const directoryLines = (await agencies(deps, caller)).flatMap((agency) => [
    ...(wanted.has('Organization') ? [agencyOrganization(agency)] : []),
    ...(wanted.has('Location') ? [agencyLocation(agency)] : []),
    ...(wanted.has('HealthcareService') ? agencyServices(agency) : []),
  ]);
  const referralsWanted = wanted.has('ServiceRequest') || wanted.has('Task');
  const client = deps.clients.audit;
  const page = (cursor: string) =>
    callUnary(
      client.handoffReferrals.bind(client),
      { groupBy: '', group: '', figure: '', range: undefined, cursor, limit: exportPage },
      caller.metadata,
      30_000,
    );
  const first = referralsWanted ? await page('') : { referrals: [], nextCursor: '' };
  const linesOf = (summaries: readonly audit.ReferralSummary[]): string[] =>
    summaries.flatMap((summary) => {
      const facts = summaryFacts(summary);
      if (!facts) return [];
      return [
        ...(wanted.has('ServiceRequest') ? [referralServiceRequest(facts)] : []),
        ...(wanted.has('Task') ? [referralTask(facts)] : []),
      ].map((resource) => `${JSON.stringify(resource)}\n`);
    });
  async function* lines(): AsyncGenerator<string> {
    for (const resource of directoryLines) yield `${JSON.stringify(resource)}\n`;
    let current = first;
    for (;;) {
      yield* linesOf(current.referrals);
      if (!current.nextCursor) return;
      current = await page(current.nextCursor);
    }
  }
  const stream = Readable.from(lines());
  stream.on('error', (error) => deps.log.error({ err: error }, 'the FHIR export ended short'));
  await reply.code(200).type(fhirNdjson).send(stream);
}
