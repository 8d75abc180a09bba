import type { Caller, Role } from '@passage/auth';
import { audit, consent, directory, escalation, referrals } from '@passage/contracts';
import { PassageError, callUnary } from '@passage/platform';
import type { ServiceClients } from '../grpc/clients.ts';

/**
 * Every route of the HTTP API, in one table: the server registers these, the OpenAPI
 * document is generated from their schemas, and the authorization test walks them all —
 * so a route cannot be added without being described and tested. The gateway only checks
 * who may call a route at all; the services decide the rest (agency isolation, consent).
 */
export interface ApiCall {
  readonly caller: Caller;
  readonly metadata: ReturnType<typeof import('@passage/platform').bearerMetadata>;
  readonly params: Record<string, string>;
  readonly query: Record<string, unknown>;
  readonly body: Record<string, unknown>;
  readonly idempotencyKey: string;
  readonly clients: ServiceClients;
}

export interface RouteSpec {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  readonly url: string;
  readonly summary: string;
  readonly tag: 'directory' | 'consent' | 'referrals' | 'audit' | 'escalation';
  /** Who may call it at all; `signed-in`: anyone with a session. */
  readonly roles: readonly Role[] | 'signed-in';
  readonly params?: object;
  readonly query?: object;
  readonly body?: object;
  /** Commands carry an Idempotency-Key header: a retry returns the first result. */
  readonly idempotent?: boolean;
  readonly status?: 200 | 201;
  /** Bytes a request body may have, where a route needs more than the 64 KiB every other takes. */
  readonly bodyLimit?: number;
  readonly handle: (call: ApiCall) => Promise<unknown>;
}

/**
 * Free text as the API takes it, the one place that decides it: no control characters (NUL
 * included), no bidirectional overrides or isolates (U+202A–U+202E, U+2066–U+2069: they make a
 * name print differently from what it is, on a signed receipt too) and no lone surrogates.
 * A line (names, codes) takes no line break or tab either; prose (notes, a packet) does.
 * JSON Schema patterns, so they are in the OpenAPI document and refused as the body is
 * decoded, each field named (server.ts words the violation).
 */
const unsafe = String.raw`\u007F-\u009F\u202A-\u202E\u2066-\u2069\uD800-\uDFFF`;
export const textPatterns = {
  line: String.raw`^[^\u0000-\u001F` + unsafe + ']*$',
  prose: String.raw`^[^\u0000-\u0008\u000B\u000C\u000E-\u001F` + unsafe + ']*$',
} as const;

// A small vocabulary of JSON Schemas: bounded strings and lists, no unknown properties.
const str = (maxLength = 200) => ({ type: 'string', maxLength, pattern: textPatterns.line }) as const;
const prose = (maxLength: number) => ({ type: 'string', maxLength, pattern: textPatterns.prose }) as const;
const id = { type: 'string', pattern: '^[a-z0-9]+(-[a-z0-9]+)*$', maxLength: 100 } as const;
const uuid = { type: 'string', format: 'uuid' } as const;
const strs = { type: 'array', items: str(), maxItems: 50 } as const;
const time = { type: 'string', format: 'date-time' } as const;
const obj = (properties: Record<string, object>, required: string[] = []) =>
  ({ type: 'object', additionalProperties: false, properties, required }) as const;
const referralParams = obj({ referralId: uuid }, ['referralId']);
const workers: Role[] = ['officer', 'crisis_counsellor', 'intake_worker', 'supervisor'];
const overseers: Role[] = ['auditor', 'admin'];
const reporters: Role[] = ['auditor', 'admin', 'supervisor'];

/** A query or body value as text, or the fallback when absent (the schema has already checked its type). */
const text = (value: unknown, fallback = ''): string => (typeof value === 'string' ? value : fallback);

const range = (query: Record<string, unknown>) => ({
  since: typeof query['since'] === 'string' ? new Date(query['since']) : undefined,
  until: typeof query['until'] === 'string' ? new Date(query['until']) : undefined,
});

type Unary<Req, Res> = Parameters<typeof callUnary<Req, Res>>[0];
function rpc<Req, Res>(method: Unary<Req, Res>, request: Req, call: ApiCall): Promise<Res> {
  return callUnary(method, request, call.metadata);
}

/** A referral lifecycle step: body fields + the referral id + the idempotency key. */
function step<Req, Res>(
  url: string,
  summary: string,
  body: object,
  fromJson: (json: unknown) => Req,
  method: (clients: ServiceClients) => Unary<Req, Res>,
  toJson: (response: Res) => unknown,
): RouteSpec {
  return {
    method: 'POST',
    url: `/api/referrals/:referralId/${url}`,
    summary,
    tag: 'referrals',
    roles: workers,
    params: referralParams,
    body,
    idempotent: true,
    handle: async (call) =>
      toJson(
        await rpc(
          method(call.clients),
          fromJson({ ...call.body, referralId: call.params['referralId'], idempotencyKey: call.idempotencyKey }),
          call,
        ),
      ),
  };
}

const minutes = { type: 'integer', minimum: 1, maximum: 525_600 } as const;
const hsdsLimit = 2 * 1024 * 1024;
/** A directory listing as the API takes it: every field named, nothing unknown let through. */
const agencySchema = obj(
  {
    nameEn: str(),
    nameFr: str(),
    kind: str(40),
    services: strs,
    coverage: obj({ provinceWide: { type: 'boolean' }, regions: strs, municipalities: strs, fsas: strs }),
    languages: strs,
    hours: obj({
      alwaysOpen: { type: 'boolean' },
      periods: {
        type: 'array',
        maxItems: 28,
        items: obj({ day: str(3), opens: str(5), closes: str(5) }, ['day', 'opens', 'closes']),
      },
    }),
    acceptingReferrals: { type: 'boolean' },
    capacity: { type: 'integer', minimum: 0, maximum: 100_000 },
    sla: obj(
      {
        acknowledgeUrgentMinutes: minutes,
        acceptUrgentMinutes: minutes,
        acknowledgeStandardMinutes: minutes,
        acceptStandardMinutes: minutes,
      },
      ['acknowledgeUrgentMinutes', 'acceptUrgentMinutes', 'acknowledgeStandardMinutes', 'acceptStandardMinutes'],
    ),
    contact: obj({ phone: str(40), email: str(200), website: str(200) }),
    version: { type: 'integer', minimum: 0, maximum: 2_147_483_647 },
  },
  ['nameEn', 'nameFr', 'kind', 'services', 'coverage', 'languages', 'hours', 'sla'],
);

const version = { expectedVersion: { type: 'integer', minimum: 0, maximum: 2_147_483_647 } };
const scope = obj({
  recipientAgencyIds: strs,
  recipientKinds: strs,
  purposes: strs,
  categories: strs,
  doNotContact: { type: 'boolean' },
});

export const routes: readonly RouteSpec[] = [
  // Directory
  {
    method: 'GET',
    url: '/api/agencies',
    summary: 'The agencies of the network',
    tag: 'directory',
    roles: 'signed-in',
    handle: async (call) =>
      directory.ListAgenciesResponse.toJSON(
        await rpc(
          call.clients.directory.listAgencies.bind(call.clients.directory),
          directory.ListAgenciesRequest.fromPartial({}),
          call,
        ),
      ),
  },
  {
    method: 'GET',
    url: '/api/agencies/:agencyId',
    summary: 'One agency: services, coverage, hours, languages, hand-off targets',
    tag: 'directory',
    roles: 'signed-in',
    params: obj({ agencyId: id }, ['agencyId']),
    handle: async (call) =>
      directory.GetAgencyResponse.toJSON(
        await rpc(
          call.clients.directory.getAgency.bind(call.clients.directory),
          { id: call.params['agencyId']! },
          call,
        ),
      ),
  },
  {
    method: 'GET',
    url: '/api/match',
    summary: 'Who can take this person now: ranked agencies with the reasons',
    tag: 'directory',
    roles: 'signed-in',
    query: obj(
      {
        needs: { anyOf: [str(), strs] },
        municipality: str(),
        fsa: str(10),
        language: str(10),
        priority: { type: 'string', enum: ['standard', 'urgent'] },
        at: time,
      },
      ['needs'],
    ),
    handle: async (call) => {
      const q = call.query;
      const needs = Array.isArray(q['needs']) ? (q['needs'] as string[]) : [text(q['needs'])];
      return directory.MatchResponse.toJSON(
        await rpc(
          call.clients.directory.match.bind(call.clients.directory),
          directory.MatchRequest.fromPartial({
            needs,
            municipality: text(q['municipality']),
            fsa: text(q['fsa']),
            language: text(q['language']),
            priority:
              q['priority'] === 'urgent' ? directory.Priority.PRIORITY_URGENT : directory.Priority.PRIORITY_STANDARD,
            at: typeof q['at'] === 'string' ? new Date(q['at']) : undefined,
          }),
          call,
        ),
      );
    },
  },

  {
    method: 'PUT',
    url: '/api/agencies/:agencyId',
    summary: 'Add or change a listing (administrators); every bad field is named and nothing changes',
    tag: 'directory',
    roles: ['admin'],
    params: obj({ agencyId: id }, ['agencyId']),
    body: agencySchema,
    handle: async (call) =>
      directory.UpsertAgencyResponse.toJSON(
        await rpc(
          call.clients.directory.upsertAgency.bind(call.clients.directory),
          { agency: directory.Agency.fromJSON({ ...call.body, id: call.params['agencyId'] }) },
          call,
        ),
      ),
  },
  {
    method: 'GET',
    url: '/api/directory/hsds',
    summary: 'The whole directory as Open Referral HSDS 3.x JSON (administrators)',
    tag: 'directory',
    roles: ['admin'],
    handle: async (call) =>
      directory.ExportHsdsResponse.toJSON(
        await rpc(call.clients.directory.exportHsds.bind(call.clients.directory), {}, call),
      ),
  },
  {
    method: 'POST',
    url: '/api/directory/hsds',
    summary: 'Import HSDS 3.x JSON (administrators): all or nothing, errors by JSON path',
    tag: 'directory',
    roles: ['admin'],
    // A whole directory: the seeded one exports at about 80 KB, so it must come back in.
    bodyLimit: hsdsLimit,
    body: obj({ json: prose(hsdsLimit - 1024) }, ['json']),
    handle: async (call) =>
      directory.ImportHsdsResponse.toJSON(
        await rpc(
          call.clients.directory.importHsds.bind(call.clients.directory),
          { json: text(call.body['json']) },
          call,
        ),
      ),
  },

  // Consent
  {
    method: 'POST',
    url: '/api/consents',
    summary: "Record a person's consent (a new subject when subjectRef is empty)",
    tag: 'consent',
    roles: workers,
    status: 201,
    idempotent: true,
    body: obj(
      {
        subjectRef: { anyOf: [uuid, { type: 'string', maxLength: 0 }] },
        method: {
          type: 'string',
          enum: [
            'CAPTURE_METHOD_VERBAL',
            'CAPTURE_METHOD_WRITTEN',
            'CAPTURE_METHOD_ELECTRONIC',
            'CAPTURE_METHOD_VIA_INTERPRETER',
          ],
        },
        interpreterLanguage: str(20),
        language: { type: 'string', enum: ['en', 'fr'] },
        expiresAt: time,
        scopes: { type: 'array', items: scope, minItems: 1, maxItems: 20 },
        receiptName: str(),
        notes: prose(4000),
      },
      ['method', 'language', 'expiresAt', 'scopes'],
    ),
    handle: async (call) =>
      consent.GrantResponse.toJSON(
        await rpc(
          call.clients.consent.grant.bind(call.clients.consent),
          consent.GrantRequest.fromJSON({ ...call.body, idempotencyKey: call.idempotencyKey }),
          call,
        ),
      ),
  },
  {
    method: 'POST',
    url: '/api/consents/:consentId/revoke',
    summary: 'Revoke a consent, whole or some of its scopes: effective on the next read',
    tag: 'consent',
    roles: workers,
    params: obj({ consentId: uuid }, ['consentId']),
    idempotent: true,
    body: obj({ scopeIds: strs, all: { type: 'boolean' }, reason: str(100) }, ['reason']),
    handle: async (call) =>
      consent.RevokeResponse.toJSON(
        await rpc(
          call.clients.consent.revoke.bind(call.clients.consent),
          consent.RevokeRequest.fromJSON({
            ...call.body,
            consentId: call.params['consentId'],
            idempotencyKey: call.idempotencyKey,
          }),
          call,
        ),
      ),
  },
  {
    method: 'POST',
    url: '/api/consents/:consentId/scopes/:scopeId/confirm',
    summary:
      'Confirm with the person a scope police proposed (investigation, naming police): until then it allows nothing; crisis line, victim services and coalition workers only',
    tag: 'consent',
    roles: workers,
    params: obj({ consentId: uuid, scopeId: uuid }, ['consentId', 'scopeId']),
    idempotent: true,
    handle: async (call) =>
      consent.ConfirmScopeResponse.toJSON(
        await rpc(
          call.clients.consent.confirmScope.bind(call.clients.consent),
          {
            idempotencyKey: call.idempotencyKey,
            consentId: call.params['consentId']!,
            scopeId: call.params['scopeId']!,
          },
          call,
        ),
      ),
  },
  {
    method: 'GET',
    url: '/api/consents/:consentId/receipt',
    summary: "The person's receipt, in English or French, signed",
    tag: 'consent',
    roles: workers,
    params: obj({ consentId: uuid }, ['consentId']),
    query: obj({ language: { type: 'string', enum: ['en', 'fr'] } }),
    handle: async (call) =>
      consent.ReceiptResponse.toJSON(
        await rpc(
          call.clients.consent.receipt.bind(call.clients.consent),
          { consentId: call.params['consentId']!, language: text(call.query['language'], 'en') },
          call,
        ),
      ),
  },
  {
    method: 'GET',
    url: '/api/subjects/:subjectRef/consents',
    summary: "A person's consents and every change to them",
    tag: 'consent',
    roles: [...workers, ...overseers],
    params: obj({ subjectRef: uuid }, ['subjectRef']),
    handle: async (call) =>
      consent.HistoryResponse.toJSON(
        await rpc(
          call.clients.consent.history.bind(call.clients.consent),
          { subjectRef: call.params['subjectRef']! },
          call,
        ),
      ),
  },

  // Referrals
  {
    method: 'POST',
    url: '/api/referrals',
    summary: 'Send a referral (consent is checked; the packet holds only allowed categories)',
    tag: 'referrals',
    roles: workers,
    status: 201,
    idempotent: true,
    body: obj(
      {
        subjectRef: uuid,
        fromAgency: id,
        toAgency: id,
        priority: { type: 'string', enum: ['PRIORITY_STANDARD', 'PRIORITY_URGENT'] },
        needs: strs,
        language: str(20),
        interpreterNeeded: { type: 'boolean' },
        packet: {
          type: 'array',
          maxItems: 9,
          items: obj({ category: str(30), content: prose(8000) }, ['category', 'content']),
        },
      },
      ['subjectRef', 'fromAgency', 'toAgency', 'priority', 'needs', 'language', 'packet'],
    ),
    handle: async (call) =>
      referrals.SendResponse.toJSON(
        await rpc(
          call.clients.referrals.send.bind(call.clients.referrals),
          referrals.SendRequest.fromJSON({ ...call.body, idempotencyKey: call.idempotencyKey }),
          call,
        ),
      ),
  },
  step(
    'acknowledge',
    'Acknowledge a referral your agency received',
    obj(version),
    (json) => referrals.AcknowledgeRequest.fromJSON(json),
    (c) => c.referrals.acknowledge.bind(c.referrals),
    (response) => referrals.AcknowledgeResponse.toJSON(response),
  ),
  step(
    'accept',
    'Accept a referral your agency received',
    obj(version),
    (json) => referrals.AcceptRequest.fromJSON(json),
    (c) => c.referrals.accept.bind(c.referrals),
    (response) => referrals.AcceptResponse.toJSON(response),
  ),
  step(
    'decline',
    'Decline, with a reason and an agency to suggest',
    obj(
      {
        ...version,
        reason: str(50),
        note: prose(4000),
        suggestedAgency: { anyOf: [id, { type: 'string', maxLength: 0 }] },
      },
      ['reason'],
    ),
    (json) => referrals.DeclineRequest.fromJSON(json),
    (c) => c.referrals.decline.bind(c.referrals),
    (response) => referrals.DeclineResponse.toJSON(response),
  ),
  step(
    'contact',
    'Record first contact with the person',
    obj({ ...version, at: time, method: str(30) }, ['at', 'method']),
    (json) => referrals.RecordContactRequest.fromJSON(json),
    (c) => c.referrals.recordContact.bind(c.referrals),
    (response) => referrals.RecordContactResponse.toJSON(response),
  ),
  step(
    'close',
    'Close with an outcome',
    obj({ ...version, outcome: str(50), note: prose(4000) }, ['outcome']),
    (json) => referrals.CloseReferralRequest.fromJSON(json),
    (c) => c.referrals.closeReferral.bind(c.referrals),
    (response) => referrals.CloseReferralResponse.toJSON(response),
  ),
  step(
    'withdraw',
    'Withdraw a referral your agency sent',
    obj({ ...version, reason: str(50) }, ['reason']),
    (json) => referrals.WithdrawRequest.fromJSON(json),
    (c) => c.referrals.withdraw.bind(c.referrals),
    (response) => referrals.WithdrawResponse.toJSON(response),
  ),
  step(
    'resend',
    'After a decline: send again, to another agency',
    obj(
      {
        toAgency: id,
        packet: {
          type: 'array',
          maxItems: 9,
          items: obj({ category: str(30), content: prose(8000) }, ['category', 'content']),
        },
      },
      ['toAgency'],
    ),
    (json) => referrals.ResendRequest.fromJSON(json),
    (c) => c.referrals.resend.bind(c.referrals),
    (response) => referrals.ResendResponse.toJSON(response),
  ),
  {
    method: 'GET',
    url: '/api/referrals/:referralId',
    summary: 'A referral, with what consent lets your agency see now (the rest marked withheld); audited',
    tag: 'referrals',
    roles: workers,
    params: referralParams,
    query: obj({ purpose: str(30) }),
    handle: async (call) =>
      referrals.GetResponse.toJSON(
        await rpc(
          call.clients.referrals.get.bind(call.clients.referrals),
          { referralId: call.params['referralId']!, purpose: text(call.query['purpose'], '') },
          call,
        ),
      ),
  },
  {
    method: 'GET',
    url: '/api/referrals/:referralId/timeline',
    summary: 'Every step of a referral: who, when, from which state to which',
    tag: 'referrals',
    roles: workers,
    params: referralParams,
    handle: async (call) =>
      referrals.TimelineResponse.toJSON(
        await rpc(
          call.clients.referrals.timeline.bind(call.clients.referrals),
          { referralId: call.params['referralId']! },
          call,
        ),
      ),
  },
  ...(['inbox', 'outbox'] as const).map((side): RouteSpec => ({
    method: 'GET',
    url: `/api/${side}`,
    summary:
      side === 'inbox'
        ? 'Referrals your agency received: urgent first, then by due time'
        : 'Referrals your agency sent',
    tag: 'referrals',
    roles: [...workers, ...overseers],
    query: obj({
      state: { anyOf: [str(30), strs] },
      cursor: str(),
      pageSize: { type: 'string', pattern: '^(200|1[0-9]{2}|[1-9][0-9]?)$' },
    }),
    handle: async (call) => {
      const states = call.query['state'] === undefined ? [] : [call.query['state']].flat().map(String);
      const request = referrals.ListInboxRequest.fromJSON({
        states,
        cursor: call.query['cursor'] ?? '',
        pageSize: Number(text(call.query['pageSize'], '50')),
      });
      const client = call.clients.referrals;
      return side === 'inbox'
        ? referrals.ListInboxResponse.toJSON(await rpc(client.listInbox.bind(client), request, call))
        : referrals.ListOutboxResponse.toJSON(await rpc(client.listOutbox.bind(client), request, call));
    },
  })),

  // Audit
  {
    method: 'GET',
    url: '/api/reports/handoff',
    summary: 'Hand-off times: per stage count, p50, p90, max; share within SLA; open past due',
    tag: 'audit',
    roles: reporters,
    query: obj({
      groupBy: { type: 'string', enum: ['agency', 'region', 'priority', 'month'] },
      since: time,
      until: time,
    }),
    handle: async (call) =>
      audit.HandoffReportResponse.toJSON(
        await rpc(
          call.clients.audit.handoffReport.bind(call.clients.audit),
          { groupBy: text(call.query['groupBy'], 'agency'), range: range(call.query) },
          call,
        ),
      ),
  },
  {
    method: 'GET',
    url: '/api/reports/consent',
    summary: 'Consents granted, revoked and expired; accesses by agency and category; denials',
    tag: 'audit',
    roles: reporters,
    query: obj({ since: time, until: time }),
    handle: async (call) =>
      audit.ConsentReportResponse.toJSON(
        await rpc(call.clients.audit.consentReport.bind(call.clients.audit), { range: range(call.query) }, call),
      ),
  },
  {
    method: 'GET',
    url: '/api/reports/statistics',
    summary: 'De-identified counts (cells under 5 suppressed)',
    tag: 'audit',
    roles: reporters,
    query: obj({
      rows: { type: 'string', enum: ['region', 'month', 'need', 'outcome'] },
      columns: { type: 'string', enum: ['region', 'month', 'need', 'outcome'] },
      since: time,
      until: time,
    }),
    handle: async (call) =>
      audit.StatisticsReportResponse.toJSON(
        await rpc(
          call.clients.audit.statisticsReport.bind(call.clients.audit),
          {
            rows: text(call.query['rows'], 'region'),
            columns: text(call.query['columns'], 'month'),
            range: range(call.query),
          },
          call,
        ),
      ),
  },
  {
    method: 'GET',
    url: '/api/audit/access-log/:subjectRef',
    summary: "Every access to one person's data: what, when, who, outcome",
    tag: 'audit',
    roles: overseers,
    params: obj({ subjectRef: uuid }, ['subjectRef']),
    handle: async (call) =>
      audit.AccessLogResponse.toJSON(
        await rpc(
          call.clients.audit.accessLog.bind(call.clients.audit),
          { subjectRef: call.params['subjectRef']!, range: undefined },
          call,
        ),
      ),
  },
  {
    method: 'GET',
    url: '/api/audit/checkpoint',
    summary: 'The latest signed checkpoint of the audit log, and the key to verify it',
    tag: 'audit',
    roles: overseers,
    handle: async (call) =>
      audit.LatestCheckpointResponse.toJSON(
        await rpc(call.clients.audit.latestCheckpoint.bind(call.clients.audit), {}, call),
      ),
  },
  {
    method: 'POST',
    url: '/api/audit/verify',
    summary: 'Recompute the audit log and check every signed checkpoint (and a saved one, if given)',
    tag: 'audit',
    roles: overseers,
    body: obj({ checkpointNote: prose(2000) }),
    handle: async (call) =>
      audit.VerifyResponse.toJSON(
        await callUnary(
          call.clients.audit.verify.bind(call.clients.audit),
          { checkpointNote: text(call.body['checkpointNote'], '') },
          call.metadata,
          120_000,
        ),
      ),
  },

  // Escalation
  {
    method: 'GET',
    url: '/api/escalations',
    summary: 'Escalations for your agency (the crisis line takes up what was not acknowledged)',
    tag: 'escalation',
    roles: 'signed-in',
    handle: async (call) =>
      escalation.ListEscalationsResponse.toJSON(
        await rpc(call.clients.escalation.listEscalations.bind(call.clients.escalation), { limit: 0 }, call),
      ),
  },
  {
    method: 'GET',
    url: '/api/escalation/timers',
    summary: 'Pending, fired and cancelled SLA timers',
    tag: 'escalation',
    roles: overseers,
    query: obj({ state: { type: 'string', enum: ['pending', 'fired', 'cancelled'] } }),
    handle: async (call) =>
      escalation.ListTimersResponse.toJSON(
        await rpc(
          call.clients.escalation.listTimers.bind(call.clients.escalation),
          { state: text(call.query['state'], ''), limit: 0 },
          call,
        ),
      ),
  },
];

export function requireIdempotencyKey(value: unknown): string {
  if (typeof value !== 'string' || !/^[A-Za-z0-9._:-]{8,100}$/.test(value)) {
    throw PassageError.invalid([
      {
        field: 'Idempotency-Key',
        description: 'a header of 8–100 letters, digits or ._:- (a UUID is good); the same for a retry',
      },
    ]);
  }
  return value;
}
